"""Who is calling: the client address every per-client limit is counted against."""

from __future__ import annotations

from collections.abc import Mapping

from realty.settings import Settings


def client_address(peer: str | None, headers: Mapping[str, str], settings: Settings) -> str:
    """The client's address: the first X-Forwarded-For hop when the proxy is trusted.

    Args:
        peer: The TCP peer's address (``None`` when the server does not know it).
        headers: The request's headers (lower-case names, as Starlette gives them).
        settings: Whether X-Forwarded-For is trusted.
    """
    if settings.trust_forwarded_for:
        forwarded = headers.get("x-forwarded-for", "")
        first = forwarded.split(",", 1)[0].strip()
        if first:
            return first
    return peer or "unknown"
