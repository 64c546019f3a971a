"""Showing prospects' and the assistant's words exactly as written.

Streamlit interprets Markdown (with its own extensions: ``:red[…]``, ``:emoji:``, ``$LaTeX$``)
in ``st.markdown``, captions and labels, and drops raw HTML. The app shows user and model text
with ``st.text`` (no parsing at all); where such text must sit inside a Markdown label,
:func:`verbatim` escapes it so it displays literally, never as markup, a link or a formula.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark shows a backslash-escaped one literally.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def verbatim(text: str) -> str:
    """``text`` as Markdown that displays exactly ``text`` (line breaks kept)."""
    escaped = _PUNCTUATION.sub(r"\\\1", text)
    # A single newline is a space in Markdown; a trailing backslash makes it a line break.
    return escaped.replace("\r\n", "\n").replace("\n", "\\\n")
