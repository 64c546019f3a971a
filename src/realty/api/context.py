"""Who logged a line: every HTTP request and WebSocket gets a request id bound to its log
records, and the conversation its path names (the service binds the conversation of a turn
itself, whatever the channel)."""

from __future__ import annotations

import re

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realty import logs

_CONVERSATION_PATH = re.compile(r"/v1/conversations/([A-Za-z0-9_-]{1,64})(?:/|$)")
_HEADER = logs.REQUEST_ID_HEADER.encode()


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _HEADER:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    """Binds ``request_id`` (the client's ``X-Request-ID`` when sane, else a new one, sent
    back in the response's header) and the path's ``conversation_id`` to the records the
    request logs, uvicorn's access line included."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        rid = logs.request_id(_incoming(scope))
        bound = {"request_id": rid}
        found = _CONVERSATION_PATH.match(str(scope.get("path", "")))
        if found is not None:
            bound["conversation_id"] = found.group(1)
        header = (_HEADER, rid.encode())

        async def sending(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        with structlog.contextvars.bound_contextvars(**bound):
            await self._app(scope, receive, sending)
