"""OpenTelemetry tracing of the API: the tracer provider REALTY_OTEL_* describe and what
FastAPI's own instrumentation is told to do with it.

The provider is the app's own, handed to FastAPI and to the conversation service; the
process-wide (global) provider is never set, so two apps in one process (tests, an embedding
program) trace apart. Off (REALTY_OTEL_ENDPOINT unset), nothing is built and no request pays
for tracing. docs/observability.md lists the spans and their attributes.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import TracerProvider as AnyTracerProvider

from realty import __version__
from realty.settings import Settings

# Probes and scrapes: frequent, always the same, and no one's request.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# FastAPI's HTTP span carries the query string as ``url.query``; old WebSocket clients put
# the conversation's token there and a staff filter may name a city, so only its presence
# is kept (the JSON access log drops it too).
_QUERY = "url.query"
_HIDDEN = "***"


class _HiddenQuery(SpanProcessor):
    """Replaces a span's query string before any exporter sees it."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.attributes and span.attributes.get(_QUERY):
            span.set_attribute(_QUERY, _HIDDEN)


def tracer_provider(settings: Settings, processor: SpanProcessor) -> TracerProvider:
    """A provider with the settings' service name and sampling, whose spans go to
    ``processor`` (tests give one with an in-memory exporter).

    Sampling is decided once per trace: a request carrying a ``traceparent`` follows its
    caller's decision, any other is kept with probability REALTY_OTEL_SAMPLE_RATIO.
    """
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)),
        resource=Resource.create(
            {"service.name": settings.otel_service_name, "service.version": __version__}
        ),
        # The app's lifespan shuts it down (and flushes); nothing must outlive the app.
        shutdown_on_exit=False,
    )
    provider.add_span_processor(_HiddenQuery())
    provider.add_span_processor(processor)
    return provider


def otlp_tracer_provider(settings: Settings) -> TracerProvider | None:
    """The provider exporting in batches to REALTY_OTEL_ENDPOINT over OTLP/HTTP, or ``None``
    when it is unset (tracing off).

    The exporter's other options (headers, timeout, compression) are OpenTelemetry's own
    ``OTEL_EXPORTER_OTLP_TRACES_*`` environment variables.
    """
    if settings.otel_endpoint is None:
        return None
    # Imported only when tracing is on: the exporter brings requests and protobuf.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint)
    return tracer_provider(settings, BatchSpanProcessor(exporter))


def telemetry_config(settings: Settings, provider: AnyTracerProvider | None) -> TelemetryConfig:
    """What FastAPI's own OpenTelemetry instrumentation does.

    With ``provider``: one server span per request (probes and scrapes excluded) into it,
    the turn's stage spans as its children (no spans for FastAPI's own steps in between);
    FastAPI's metrics and logs only with REALTY_TELEMETRY. Without: REALTY_TELEMETRY gives
    FastAPI's defaults into the providers the process configured, else everything is off and
    a request costs nothing.
    """
    if provider is None:
        if settings.telemetry:
            return {}
        return {"tracing": False, "metrics": False, "logs": False}
    return {
        "tracer_provider": provider,
        "operation_spans": False,
        "exclude": _untraced,
        "metrics": settings.telemetry,
        "logs": settings.telemetry,
    }


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS
