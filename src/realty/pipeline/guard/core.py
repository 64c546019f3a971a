"""The guard stage: decides whether a message may enter the pipeline at all.

Today it enforces the explicit input limits; the prompt-injection classifier plugs in here as
another check, so every channel gets it for free. A blocked message is a value, not an error:
the conversation state is left untouched and the prospect is told why.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict

BlockReason = Literal["empty", "too_long"]


class GuardVerdict(BaseModel):
    """Whether the message may be processed; ``text`` is the cleaned message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed: bool
    text: str
    reason: BlockReason | None = None
    limit: int | None = None
    length: int | None = None


def _clean(text: str) -> str:
    """Drop control and format characters (keep newlines and tabs as spaces); NFC-normalise."""
    kept = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch in "\n\r\t":
            kept.append(" ")
        elif category[0] != "C":
            kept.append(ch)
    return "".join(kept).strip()


class Guard:
    """Checks one message against the configured limits."""

    def __init__(self, max_chars: int) -> None:
        self._max_chars = max_chars

    def check(self, text: str) -> GuardVerdict:
        """Return the verdict for ``text``; never raises, never truncates."""
        if len(text) > self._max_chars:
            return GuardVerdict(
                allowed=False,
                text=text,
                reason="too_long",
                limit=self._max_chars,
                length=len(text),
            )
        cleaned = _clean(text)
        if not cleaned:
            return GuardVerdict(allowed=False, text=text, reason="empty")
        return GuardVerdict(allowed=True, text=cleaned)
