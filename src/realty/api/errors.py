"""Every error as ``application/problem+json`` (RFC 9457), with a message a client can show.

The service raises typed errors; this module maps each to a status and a problem document.
Nothing a client sends can produce a 500: malformed bodies are 422, over-long ones 413, wrong
credentials 404 (whether the conversation exists is never revealed), floods 429 with
``Retry-After``. A 500 here means a bug, and its body says only that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from realty.errors import ProviderError, StorageError
from realty.services.conversation import (
    BriefIncompleteError,
    ConversationBusyError,
    EditRejectedError,
    UnknownConversationError,
)
from realty.services.matching import BriefNotMatchableError
from realty.services.ratelimit import RateLimitedError
from realty.services.wire import (
    PROBLEM_JSON,
    FieldProblem,
    Problem,
    ProblemError,
    documented,
    not_found,
    rate_limited,
    too_long,
)

# Routes raise it under the name they always used; it lives with the problem documents.
ApiError = ProblemError

__all__ = [
    "PROBLEM_JSON",
    "ApiError",
    "FieldProblem",
    "Problem",
    "documented",
    "install",
    "not_found",
    "problem_openapi",
    "problem_response",
    "rate_limited",
    "too_long",
]

logger = logging.getLogger("realty.api")


def problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` that documents every error response as ``application/problem+json``.

    FastAPI documents error bodies under ``application/json`` and adds its own validation
    schema; the service answers every error with a :class:`Problem`, so the document says so.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if str(status).isdigit() and int(status) >= 400:
                        response["content"] = {PROBLEM_JSON: problem}
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """``problem`` as an HTTP response."""
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem_response(exc.problem, exc.headers)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(field=_location(e.get("loc", ())), message=str(e.get("msg", "invalid")))
        for e in exc.errors()[:20]
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
    problem = Problem(
        type="/problems/invalid-request",
        title="Invalid request",
        status=422,
        detail=detail,
        errors=errors,
    )
    return problem_response(problem)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    carried = getattr(exc, "problem", None)
    if isinstance(carried, Problem):
        return problem_response(carried, dict(exc.headers or {}))
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): malformed, like 422s.
        return problem_response(
            Problem(
                type="/problems/invalid-request",
                title="Invalid request",
                status=422,
                detail="The body could not be read as UTF-8 JSON.",
            )
        )
    titles = {
        401: "Unauthorized",
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
    }
    title = titles.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    problem = Problem(title=title, status=exc.status_code, detail=detail)
    return problem_response(problem, dict(exc.headers or {}))


async def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError)
    error = rate_limited(exc)
    return problem_response(error.problem, error.headers)


async def _unknown(_: Request, exc: Exception) -> JSONResponse:
    return problem_response(not_found().problem)


async def _edit_rejected(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EditRejectedError)
    errors = [FieldProblem(field=key, message=message) for key, message in exc.problems]
    problem = Problem(
        type="/problems/invalid-edit",
        title="Edit refused",
        status=422,
        detail=f"Nothing was changed: {exc}",
        errors=errors,
    )
    return problem_response(problem)


async def _incomplete(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BriefIncompleteError)
    errors = [FieldProblem(field=key, message="still missing") for key in exc.missing]
    problem = Problem(
        type="/problems/brief-incomplete",
        title="Brief not complete",
        status=409,
        detail="Only a complete brief can be confirmed; nothing was changed.",
        errors=errors or None,
    )
    return problem_response(problem)


async def _not_matchable(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BriefNotMatchableError)
    errors = [FieldProblem(field=key, message="still missing") for key in exc.missing]
    problem = Problem(
        type="/problems/brief-incomplete",
        title="Brief not complete",
        status=409,
        detail="Matches need a property type and a city; nothing was searched.",
        errors=errors or None,
    )
    return problem_response(problem)


async def _busy(_: Request, exc: Exception) -> JSONResponse:
    problem = Problem(
        type="/problems/busy",
        title="Conversation busy",
        status=503,
        detail="Too many simultaneous messages to this conversation; nothing was processed.",
        retry_after=1,
    )
    return problem_response(problem, {"Retry-After": "1"})


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.error("dependency failure: %s", exc)
    problem = Problem(
        type="/problems/unavailable",
        title="Service unavailable",
        status=503,
        detail="A backing service is unavailable; nothing was lost. Retry shortly.",
        retry_after=5,
    )
    return problem_response(problem, {"Retry-After": "5"})


async def _bug(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem_response(
        Problem(
            type="/problems/internal",
            title="Internal error",
            status=500,
            detail="An unexpected error occurred; it has been logged.",
        )
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(UnknownConversationError, _unknown)
    app.add_exception_handler(RateLimitedError, _rate_limited)
    app.add_exception_handler(EditRejectedError, _edit_rejected)
    app.add_exception_handler(BriefIncompleteError, _incomplete)
    app.add_exception_handler(BriefNotMatchableError, _not_matchable)
    app.add_exception_handler(ConversationBusyError, _busy)
    app.add_exception_handler(StorageError, _unavailable)
    app.add_exception_handler(ProviderError, _unavailable)
    app.add_exception_handler(Exception, _bug)
