"""``create_app(settings)``: the HTTP/WebSocket/WhatsApp service.

Every resource (database engine, Redis client, parser, language model, conversation service)
is built in the lifespan from the settings and released at shutdown; nothing exists at import
time. The process keeps no conversation state, so any number of processes can serve the same
database behind a load balancer (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.trace import Tracer, TracerProvider
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from realty import __version__, logs
from realty.api import errors
from realty.api.context import RequestContextMiddleware
from realty.api.limits import BodyLimitMiddleware
from realty.api.metrics import Metrics, MetricsMiddleware
from realty.api.routes import (
    conversations,
    health,
    knowledge,
    matching,
    simulations,
    staff,
    widget,
)
from realty.api.tracing import otlp_tracer_provider, telemetry_config
from realty.catalog.calibration import load_calibration
from realty.catalog.seed import CatalogSeeder
from realty.channels import websocket, whatsapp
from realty.domain.fields import FieldRegistry
from realty.errors import StorageError
from realty.llm.base import LLM
from realty.llm.registry import build_llm
from realty.parsing.places import load_zones
from realty.pipeline.parse import Parser
from realty.services.admission import Admission
from realty.services.conversation import ConversationService
from realty.services.events import EventBus, LocalEventBus, RedisEventBus
from realty.services.factory import build_service, build_toolkit
from realty.services.matching import MatchService, seed_if_empty
from realty.services.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from realty.services.redact import redacted_url
from realty.services.runtime import Resources
from realty.settings import Settings
from realty.store.base import utcnow
from realty.store.engine import database_url, is_sqlite, make_engine, upgrade
from realty.store.listings import SqlCatalog
from realty.store.sql import SqlStore

logger = logging.getLogger("realty.api")

_UNSET: Any = object()
# Worker threads for SQLite, which writes one transaction at a time.
SQLITE_THREADS = 4
_CATALOG_THREADS = 4

DESCRIPTION = """
Conversational assistant for commercial real estate. Open a conversation, send the prospect's
messages, and read the structured brief (budget, size, property type, city and any extras)
after every turn. Every error is `application/problem+json`.

Conversation endpoints take the conversation's bearer token (`Authorization: Bearer …`),
returned once by `POST /v1/conversations`. Staff endpoints take `X-API-Key`.
"""


class _RealtyApp(FastAPI):
    """FastAPI with the request context around everything, Starlette's error middleware
    included: the 500 of a bug carries its ``X-Request-ID`` and the log of it the request's
    ids (a middleware added the usual way sits inside that one, which answers a bug itself)."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestContextMiddleware(super().build_middleware_stack())


@dataclass(frozen=True, slots=True)
class _Overrides:
    """Pieces a test (or an embedding program) may supply instead of building them."""

    parser: Parser | None
    llm: Any
    today: Callable[[], date]
    now: Callable[[], dt.datetime]


async def _connect_redis(settings: Settings) -> Redis | None:
    if settings.redis_url is None:
        return None
    timeout = settings.redis_timeout_s
    client = Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        # Redis is optional: rate limits count per process and events stay in the process
        # until it answers again (the client reconnects by itself); /readyz says degraded.
        where = redacted_url(settings.redis_url)
        logger.warning("REDIS_URL=%s is unreachable, running degraded: %s", where, exc)
    return client


async def _purge_forever(service: ConversationService, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            purged = await service.purge()
        except StorageError as exc:
            logger.warning("purge failed: %s", exc)
            continue
        if purged:
            logger.info("purged %d expired conversations", purged)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _matching(
    settings: Settings,
    engine: Engine,
    registry: FieldRegistry,
    parser: Parser,
    stack: contextlib.AsyncExitStack,
) -> MatchService:
    """The catalog and its match service; an empty catalog is seeded with the synthetic
    listings first unless REALTY_CATALOG_SEED_IF_EMPTY=false."""
    market = settings.market()
    catalog = SqlCatalog(engine, market, threads=_CATALOG_THREADS, timeout_s=settings.db_timeout_s)
    stack.callback(catalog.close)
    if settings.catalog_seed_if_empty and settings.catalog_seed_count > 0:
        seeder = CatalogSeeder(
            load_calibration(), market, parser.cities.gazetteer.resolve, load_zones()
        )
        added = await asyncio.to_thread(seed_if_empty, catalog, seeder, settings.catalog_seed_count)
        if added:
            logger.info("seeded the empty catalog with %d synthetic listings", added)
    return MatchService(catalog, market, registry)


def _lifespan(
    settings: Settings,
    metrics: Metrics,
    overrides: _Overrides,
    tracer: Tracer | None,
    exporting: SdkTracerProvider | None,
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        if settings.db_auto_migrate:
            await asyncio.to_thread(upgrade, url)
        async with contextlib.AsyncExitStack() as stack:
            if exporting is not None:
                # Closed last, after the model readings still running end their spans: the
                # spans waiting in the batch are sent before the process goes.
                stack.push_async_callback(asyncio.to_thread, exporting.shutdown)
                where = redacted_url(settings.otel_endpoint or "")
                logger.info("tracing to %s, sampling %s", where, settings.otel_sample_ratio)
            engine = make_engine(
                url,
                pool_size=settings.db_pool_size,
                timeout_s=settings.db_timeout_s,
                sqlite_synchronous=settings.sqlite_synchronous,
            )
            stack.callback(engine.dispose)
            # SQLite writes one transaction at a time: more threads only contend for it.
            threads = min(settings.db_pool_size, SQLITE_THREADS) if is_sqlite(url) else None
            store = SqlStore(
                engine, threads=threads or settings.db_pool_size, timeout_s=settings.db_timeout_s
            )
            stack.callback(store.close)
            redis = await _connect_redis(settings)
            if redis is not None:
                stack.push_async_callback(redis.aclose)
            registry = settings.field_registry()
            parser = overrides.parser or await asyncio.to_thread(
                Parser.build, registry, settings.lexicon(), country=settings.market().country
            )
            llm = overrides.llm
            if llm is _UNSET:
                llm, warning = await asyncio.to_thread(build_llm, settings)
                if warning:
                    logger.warning(warning)
            close_llm = getattr(llm, "aclose", None)
            if close_llm is not None:
                stack.push_async_callback(close_llm)
            assert parser is not None
            matching = await _matching(settings, engine, registry, parser, stack)
            events: EventBus = (
                RedisEventBus(redis, settings.redis_prefix) if redis else LocalEventBus()
            )
            stack.push_async_callback(events.close)
            limiter: RateLimiter = (
                RedisRateLimiter(redis, settings.redis_prefix) if redis else LocalRateLimiter()
            )
            toolkit = await asyncio.to_thread(build_toolkit, settings)
            service = build_service(
                settings,
                store=store,
                parser=parser,
                llm=metrics.timed(llm),
                events=events,
                today=overrides.today,
                now=overrides.now,
                toolkit=toolkit,
                matcher=matching,
                tracer=tracer,
            )
            stack.push_async_callback(service.aclose)
            metrics.watch(service)
            admission = Admission(
                limiter, settings, lambda scope: metrics.rate_limited.labels(scope).inc()
            )
            app.state.resources = Resources(
                settings, service, store, events, admission, metrics, redis, llm, toolkit, matching
            )
            if settings.purge_interval_s > 0:
                purger = asyncio.create_task(_purge_forever(service, settings.purge_interval_s))
                stack.push_async_callback(_cancel, purger)
            yield

    return lifespan


def create_app(
    settings: Settings,
    *,
    parser: Parser | None = None,
    llm: LLM | object | None = _UNSET,
    today: Callable[[], date] = date.today,
    now: Callable[[], dt.datetime] = utcnow,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The ASGI application for ``settings``.

    Args:
        settings: Everything configurable (database, Redis, limits, keys, model).
        parser: A parser to share (tests build one per session); default: built at start-up.
        llm: A provider to use (``None``: the parser alone); default: the one the settings
            select, loaded at start-up.
        today: The date relative dates are read against.
        now: The clock of expiry and timestamps.
        tracer_provider: Where the request and stage spans go (the caller shuts it down);
            default: the OTLP exporter REALTY_OTEL_ENDPOINT names, built here because FastAPI
            takes it now and shut down with the app, or no tracing when it is unset.
    """
    logs.install()  # tokens and prospects' contact details never reach a log line
    metrics = Metrics()
    exporting = otlp_tracer_provider(settings) if tracer_provider is None else None
    provider = tracer_provider or exporting
    tracer = provider.get_tracer("realty", __version__) if provider is not None else None
    overrides = _Overrides(parser, llm, today, now)
    app = _RealtyApp(
        title="realty",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, metrics, overrides, tracer, exporting),
        responses=errors.documented({422: "Invalid request"}),
        # Prometheus metrics are built in; OpenTelemetry costs per request and is opt-in.
        telemetry=telemetry_config(settings, provider),
    )
    app.openapi = errors.problem_openapi(app)  # type: ignore[method-assign]
    app.state.settings = settings
    errors.install(app)
    app.include_router(health.router)
    app.include_router(conversations.router)
    app.include_router(matching.router)
    app.include_router(websocket.router)
    app.include_router(whatsapp.router)
    app.include_router(staff.router)
    app.include_router(simulations.router)
    app.include_router(knowledge.router)
    app.include_router(widget.router)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
