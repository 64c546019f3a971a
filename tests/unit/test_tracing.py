"""Tracing: the settings that turn it on, the provider they build, and the spans the service
records for the stages of a turn (into an in-memory exporter) — or none without a tracer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    Tracer,
    set_span_in_context,
)
from pydantic import ValidationError

from realty.api.tracing import otlp_tracer_provider, telemetry_config, tracer_provider
from realty.llm.base import LLMRequest
from realty.llm.fake import FakeLLM, FunctionLLM
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService, TurnResult
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore
from tracesupport import MESSAGE, STAGES, children, leaked

# The parser cannot explain "rooftop terrace": hybrid mode asks the model about it.
NEEDS_MODEL = "I need an office in Monterrey with a rooftop terrace"
TERRACE = {
    "extras": [
        {"key": "rooftop_terrace", "value": True, "type": "bool", "evidence": "rooftop terrace"}
    ]
}


def _service(
    parser: Parser, tracer: Tracer | None, llm: Any = None, **settings: Any
) -> ConversationService:
    return build_service(
        Settings(**{"llm_provider": "none", **settings}),
        store=InMemoryStore(),
        parser=parser,
        llm=llm,
        tracer=tracer,
    )


def _turn(service: ConversationService, text: str, request: Tracer) -> TurnResult:
    """``text`` as one turn, inside a span standing for the HTTP request's."""

    async def run() -> TurnResult:
        opened = await service.start()
        with request.start_as_current_span("request"):
            result = await service.handle_turn(opened.conversation_id, text, access=opened.access)
        await service.settle()
        return result

    return asyncio.run(run())


def _named(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    [span] = [s for s in spans if s.name == name]
    return span


def test_each_stage_of_a_turn_is_a_span_under_the_request_in_order(
    parser: Parser, span_exporter: InMemorySpanExporter, recording_provider: TracerProvider
) -> None:
    tracer = recording_provider.get_tracer("test")
    result = _turn(_service(parser, tracer), MESSAGE, tracer)
    spans = span_exporter.get_finished_spans()
    request = _named(spans, "request")
    stages = children(spans, request)
    assert [s.name for s in stages] == STAGES
    assert len(spans) == len(STAGES) + 1  # no model, so no model span
    by_name = {s.name: dict(s.attributes or {}) for s in stages}
    assert by_name["realty.load"] == {
        "realty.conversation.id": result.conversation_id,
        "realty.channel": "api",
    }
    assert by_name["realty.guard"] == {"realty.blocked": False}
    assert by_name["realty.parse"] == {"realty.llm.calls": 0, "realty.llm.deferred": False}
    assert result.intent is not None
    assert by_name["realty.advance"] == {"realty.intent": result.intent.intent}
    assert by_name["realty.matches"] == {}  # no catalog: no search ran
    assert by_name["realty.commit"] == {"realty.turn": result.turn}
    assert all(span.status.is_ok for span in spans)
    assert leaked(spans) == []


def test_the_models_reading_is_a_span_under_parse(
    parser: Parser, span_exporter: InMemorySpanExporter, recording_provider: TracerProvider
) -> None:
    tracer = recording_provider.get_tracer("test")
    result = _turn(_service(parser, tracer, FakeLLM(TERRACE)), NEEDS_MODEL, tracer)
    assert result.llm_calls == 1
    spans = span_exporter.get_finished_spans()
    parse = _named(spans, "realty.parse")
    [model] = children(spans, parse)
    assert model.name == "realty.llm_extract"
    assert dict(model.attributes or {}) == {"realty.llm.calls": 1}
    assert dict(parse.attributes or {}) == {"realty.llm.calls": 1, "realty.llm.deferred": False}


def test_a_reading_past_the_reply_deadline_ends_its_span_after_the_turn(
    parser: Parser, span_exporter: InMemorySpanExporter, recording_provider: TracerProvider
) -> None:
    """The reply does not wait: parse says so, and the model's span closes once it answers,
    after the turn was committed (the brief is refined then)."""

    async def late(request: LLMRequest) -> dict[str, object]:
        await asyncio.sleep(0.2)
        return TERRACE

    tracer = recording_provider.get_tracer("test")
    service = _service(parser, tracer, FunctionLLM(late), llm_reply_deadline_ms=0)
    result = _turn(service, NEEDS_MODEL, tracer)
    assert result.refining
    spans = span_exporter.get_finished_spans()
    parse, commit = _named(spans, "realty.parse"), _named(spans, "realty.commit")
    [model] = children(spans, parse)
    assert dict(parse.attributes or {})["realty.llm.deferred"] is True
    assert (model.end_time or 0) > (commit.end_time or 0)


def test_without_a_tracer_the_service_records_nothing_even_inside_a_traced_request(
    parser: Parser, span_exporter: InMemorySpanExporter, recording_provider: TracerProvider
) -> None:
    _turn(_service(parser, None), MESSAGE, recording_provider.get_tracer("test"))
    assert [s.name for s in span_exporter.get_finished_spans()] == ["request"]


def test_tracing_off_builds_no_provider_and_fastapi_instruments_nothing() -> None:
    settings = Settings()
    assert settings.otel_endpoint is None
    assert otlp_tracer_provider(settings) is None
    assert telemetry_config(settings, None) == {"tracing": False, "metrics": False, "logs": False}
    # REALTY_TELEMETRY alone: FastAPI's defaults, into the providers the process configured.
    assert telemetry_config(Settings(telemetry=True), None) == {}


def test_an_endpoint_builds_an_exporting_provider_named_by_the_settings() -> None:
    settings = Settings(
        otel_endpoint="http://collector:4318/v1/traces",
        otel_service_name="realty-eu",
        otel_sample_ratio=0.25,
    )
    provider = otlp_tracer_provider(settings)
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "realty-eu"
        assert "0.25" in provider.sampler.get_description()
        config = telemetry_config(settings, provider)
        assert config["tracer_provider"] is provider
        assert (config["metrics"], config["logs"], config["operation_spans"]) == (
            False,
            False,
            False,
        )
    finally:
        provider.shutdown()


@pytest.mark.parametrize(
    ("sampled", "recorded"),
    [(None, False), (True, True), (False, False)],
)
def test_sampling_follows_the_caller_else_the_ratio(
    span_exporter: InMemorySpanExporter, sampled: bool | None, recorded: bool
) -> None:
    """Ratio 0: a request on its own is not traced; one whose caller sampled its trace is."""
    settings = Settings(otel_sample_ratio=0.0)
    provider = tracer_provider(settings, SimpleSpanProcessor(span_exporter))
    context = None
    if sampled is not None:
        flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
        caller = SpanContext(trace_id=1, span_id=2, is_remote=True, trace_flags=flags)
        context = set_span_in_context(NonRecordingSpan(caller))
    provider.get_tracer("test").start_span("request", context=context).end()
    provider.shutdown()
    assert len(span_exporter.get_finished_spans()) == int(recorded)


def test_a_query_string_is_hidden_before_any_exporter_sees_it(
    span_exporter: InMemorySpanExporter, recording_provider: TracerProvider
) -> None:
    tracer = recording_provider.get_tracer("test")
    tracer.start_span("GET", attributes={"url.query": "token=secret&after=3"}).end()
    tracer.start_span("GET", attributes={"url.path": "/healthz"}).end()
    hidden, bare = span_exporter.get_finished_spans()
    assert dict(hidden.attributes or {}) == {"url.query": "***"}
    assert dict(bare.attributes or {}) == {"url.path": "/healthz"}


@pytest.mark.parametrize(
    ("value", "expected", "error"),
    [
        ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces", None),
        (" https://otlp.example.com/v1/traces ", "https://otlp.example.com/v1/traces", None),
        ("", None, None),
        ("   ", None, None),
        ("collector:4318/v1/traces", None, "not an http:// or https:// URL"),
        ("grpc://collector:4317/v1/traces", None, "not an http:// or https:// URL"),
        ("http://collector:4318", None, "has no path"),
        ("http://collector:4318/", None, "has no path"),
    ],
)
def test_the_endpoint_setting_is_a_traces_url_or_off(
    value: str, expected: str | None, error: str | None
) -> None:
    if error is None:
        assert Settings(otel_endpoint=value).otel_endpoint == expected
        return
    with pytest.raises(ValidationError, match=f"REALTY_OTEL_ENDPOINT=.*{error}"):
        Settings(otel_endpoint=value)


@pytest.mark.parametrize(
    "values",
    [{"otel_sample_ratio": 1.5}, {"otel_sample_ratio": -0.1}, {"otel_service_name": ""}],
)
def test_sampling_and_service_name_are_bounded(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Settings(**values)
