"""The request-body limit, enforced before a body is read into memory."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realty.api.errors import Problem, problem_response


class BodyTooLargeError(HTTPException):
    """A streamed body passed the limit.

    An HTTPException, because FastAPI turns any other error raised while it reads a body into
    a 400; the handler in :mod:`realty.api.errors` answers with :attr:`problem`.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(413, detail=problem.detail)
        self.problem = problem


def _problem(limit: int) -> Problem:
    return Problem(
        type="/problems/body-too-large",
        title="Request body too large",
        status=413,
        detail=f"The request body exceeds {limit:,} bytes (REALTY_MAX_BODY_BYTES).",
        limit=limit,
    )


class BodyLimitMiddleware:
    """Refuses bodies over ``limit`` bytes with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._limit):
            await problem_response(_problem(self._limit))(scope, receive, send)
            return
        received = 0

        async def counting() -> Message:
            # A chunked body has no Content-Length: count while it streams.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._limit:
                    raise BodyTooLargeError(_problem(self._limit))
            return message

        await self._app(scope, counting, send)
