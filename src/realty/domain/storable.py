"""Text every store accepts: PostgreSQL refuses NUL characters (in text and in JSON) and
strings that are not valid Unicode (lone surrogates, which a JSON ``\\ud800`` escape can make).

Incoming text is cleaned once, where it enters the service, rather than refused: NULs are
dropped (they carry nothing a prospect meant) and lone surrogates become U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` without NULs, with every lone surrogate replaced by U+FFFD."""
    if _NUL in text:
        text = text.replace(_NUL, "")
    return _SURROGATE.sub("\ufffd", text)


def storable_data(data: Any) -> Any:
    """Every string (key or value) in nested JSON-like ``data`` made :func:`storable`."""
    if isinstance(data, str):
        return storable(data)
    if isinstance(data, dict):
        return {storable_data(key): storable_data(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [storable_data(item) for item in data]
    return data
