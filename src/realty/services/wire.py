"""Shapes every channel shares: problem documents (RFC 9457) and client message ids.

The HTTP API answers a problem as ``application/problem+json``; the WebSocket sends the same
document as an ``error`` frame. Both build it here, so the channels need nothing from the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from realty.errors import RealtyError
from realty.services.ratelimit import RateLimitedError

PROBLEM_JSON = "application/problem+json"

ClientMessageId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


class FieldProblem(BaseModel):
    """One invalid member of a request."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(description="Where in the request, e.g. body.text or budget.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/too-long",
                    "title": "Message too long",
                    "status": 413,
                    "detail": "The text has 5,000 characters; the limit is 4,000.",
                    "limit": 4000,
                }
            ]
        },
    )

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None
    limit: int | None = Field(default=None, description="The limit that was exceeded.")
    retry_after: int | None = Field(default=None, description="Seconds to wait (429, 503).")


class ProblemError(RealtyError):
    """An error with its status and problem document (HTTP status, WebSocket error frame)."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(
            type=f"/problems/{slug}", title=title, status=status, detail=detail, **extra
        )
        self.headers = headers or {}


def not_found() -> ProblemError:
    """The one answer for an unknown id, an expired conversation or wrong credentials."""
    return ProblemError(
        404,
        "not-found",
        "Not found",
        "No conversation with this id for these credentials (it may have expired).",
    )


def too_long(length: int, limit: int) -> ProblemError:
    """A message over the configured character limit."""
    return ProblemError(
        413,
        "too-long",
        "Message too long",
        f"The text has {length:,} characters; the limit is {limit:,} "
        "(REALTY_MAX_MESSAGE_CHARS). Nothing was processed.",
        limit=limit,
    )


def rate_limited(exc: RateLimitedError) -> ProblemError:
    """Too many requests in the window."""
    retry_after = exc.decision.retry_after_s
    return ProblemError(
        429,
        "rate-limited",
        "Too many requests",
        f"At most {exc.decision.limit} {exc.what} per window; retry in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
        limit=exc.decision.limit,
        retry_after=retry_after,
    )


def documented(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for problem statuses: ``{404: "why"}``."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_JSON: {}},
            "description": description,
        }
        for status, description in descriptions.items()
    }
