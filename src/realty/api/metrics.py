"""HTTP request metrics (the counters themselves live in :mod:`realty.services.metrics`)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realty.services.metrics import Metrics

__all__ = ["Metrics", "MetricsMiddleware"]


def _route(scope: Scope) -> str:
    """The matched route template (``/v1/conversations/{conversation_id}``), not the path.

    The router records the matched route in the scope it shares with this middleware.
    """
    route: Any = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class MetricsMiddleware:
    """Counts HTTP requests and their duration by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = _route(scope)
            method = str(scope.get("method", ""))
            self._metrics.requests.labels(method, route, str(status)).inc()
            self._metrics.request_seconds.labels(method, route).observe(
                time.perf_counter() - started
            )
