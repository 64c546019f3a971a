"""Secrets kept out of log and start-up lines."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redacted_url(url: str) -> str:
    """``url`` with its password replaced by ``***``.

    ``redis://:secret@host:6379/0`` becomes ``redis://:***@host:6379/0``; a URL without a
    password is returned unchanged.
    """
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    netloc = f"{user}:***@{hostport}" if colon else parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
