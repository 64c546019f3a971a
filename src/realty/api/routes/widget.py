"""``GET /widget``: the embeddable chat widget (a static page, its stylesheet and one script).

The page chats over the conversation WebSocket of the same origin, so a listing site embeds it
with one ``<iframe>``. Every response carries a strict Content-Security-Policy: scripts and
styles from this origin only (no inline code), connections to this origin only, and
``frame-ancestors`` from ``REALTY_WIDGET_FRAME_ANCESTORS`` (who may embed it).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)

_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}


@cache
def _asset(name: str) -> bytes:
    """A file of the widget, read once per process."""
    return resources.files("realty.widget").joinpath(name).read_bytes()


def _policy(request: Request) -> str:
    ancestors = request.app.state.settings.widget_frame_ancestors
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    )


def _serve(request: Request, name: str) -> Response:
    headers = {
        "Content-Security-Policy": _policy(request),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # The page is small and its script may change with a deployment: revalidate each time.
        "Cache-Control": "no-cache",
    }
    return Response(_asset(name), media_type=_TYPES[name], headers=headers)


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
