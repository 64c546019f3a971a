"""Shared fixtures: one parser per test session (building it loads the gazetteer), and a
tracer provider recording into memory for the tracing tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from realty.api.tracing import tracer_provider
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService
from realty.services.factory import build_service
from realty.services.matching import MatchService
from realty.settings import Settings
from realty.store.memory import InMemoryStore

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session")
def parser() -> Parser:
    return Parser.build()


@pytest.fixture
def make_service(parser: Parser) -> Callable[..., ConversationService]:
    """A parser-only service over an in-memory store with a fixed date.

    Settings may be overridden (e.g. ``llm_provider="fake"``); the default never loads a model
    and matches nothing (pass a ``matcher`` for a catalog).
    """

    def make(matcher: MatchService | None = None, **overrides: object) -> ConversationService:
        settings = Settings(**{"llm_provider": "none", **overrides})  # type: ignore[arg-type]
        return build_service(
            settings, store=InMemoryStore(), parser=parser, today=lambda: TODAY, matcher=matcher
        )

    return make


@pytest.fixture
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """Where ``recording_provider``'s spans land, each as soon as it ends."""
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


@pytest.fixture
def recording_provider(span_exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    """The app's tracer provider (REALTY_OTEL_* defaults) recording into ``span_exporter``."""
    provider = tracer_provider(Settings(), SimpleSpanProcessor(span_exporter))
    yield provider
    provider.shutdown()
