"""``GET /widget``: the embeddable chat widget (a static page, its stylesheet and one script).

The page chats over the conversation WebSocket of its own origin, so a listing site embeds it
with one ``<iframe>``. Every response carries a strict Content-Security-Policy: scripts and
styles from this origin only (no inline code), connections to this origin only (in CSP level 3
``'self'`` also covers ``ws:``/``wss:`` to the same host and port, which is what chromium,
Firefox and Safari implement), and ``frame-ancestors`` from ``REALTY_WIDGET_FRAME_ANCESTORS``
(who may embed it).

The files are read from the installed package the first time they are asked for and kept for
the life of the process; each carries an ``ETag`` so a browser revalidates it cheaply.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)

_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}
# The page, its script and its stylesheet may change with any deployment: a browser may keep
# them but asks each time whether they changed (a 304 answers when they did not).
_CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


@cache
def _asset(name: str) -> _Asset:
    """One file of the widget, read once per process."""
    body = resources.files("realty.widget").joinpath(name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return _Asset(body, _TYPES[name], etag)


def _policy(request: Request) -> str:
    ancestors: str = request.app.state.settings.widget_frame_ancestors
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    )


def _unchanged(request: Request, etag: str) -> bool:
    """Whether the browser's copy is current (``If-None-Match``: weak comparison, RFC 9110)."""
    listed = request.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in listed.split(",")}
    return etag in tags or "*" in tags


def _serve(request: Request, name: str) -> Response:
    asset = _asset(name)
    headers = {
        "Content-Security-Policy": _policy(request),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": _CACHE_CONTROL,
        "ETag": asset.etag,
    }
    if _unchanged(request, asset.etag):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/widget")
async def widget_page(request: Request) -> Response:
    """The chat page (``?lang=es|en`` picks its first language)."""
    return _serve(request, "index.html")


@router.get("/widget/widget.js")
async def widget_script(request: Request) -> Response:
    """The widget's one script."""
    return _serve(request, "widget.js")


@router.get("/widget/widget.css")
async def widget_style(request: Request) -> Response:
    """The widget's stylesheet."""
    return _serve(request, "widget.css")
