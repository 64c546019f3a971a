"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from redis.exceptions import RedisError

from realty.api.deps import ResourcesDep
from realty.errors import StorageError

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether this process can serve turns, and what each dependency said."""

    status: Literal["ready", "not_ready"]
    degraded: bool = False
    database: str
    redis: str
    model: str


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process answers (it says nothing about its dependencies)."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={503: {"model": Readiness, "description": "A dependency is down."}},
)
async def readyz(resources: ResourcesDep) -> JSONResponse:
    """Ready when the database answers and the model loaded. Redis is optional: when it does
    not answer the process still serves (degraded: local rate limits and events)."""
    ready, degraded = True, False
    try:
        await resources.store.ping()
        database = "ok"
    except StorageError as exc:
        database, ready = f"error: {exc}", False
    redis = "not configured"
    if resources.redis is not None:
        try:
            await resources.redis.ping()
            redis = "ok"
        except (RedisError, OSError) as exc:
            redis, degraded = f"error: {type(exc).__name__}", True
    # The lifespan loads the model before serving, so a loaded provider is a ready one.
    model = resources.llm.name if resources.llm is not None else "none (parser only)"
    body = Readiness(
        status="ready" if ready else "not_ready",
        degraded=degraded,
        database=database,
        redis=redis,
        model=model,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition."}},
)
async def metrics(resources: ResourcesDep) -> Response:
    """Counters and histograms in the Prometheus text format."""
    return Response(generate_latest(resources.metrics.registry), media_type=CONTENT_TYPE_LATEST)
