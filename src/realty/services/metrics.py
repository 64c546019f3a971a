"""Prometheus metrics, one registry per app (several apps may live in one test process).

The API's lifespan builds them; every channel counts its turns and refusals in them.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from realty.services.conversation import ConversationService, TurnResult

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The service's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "realty_http_requests",
            "HTTP requests by route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "realty_http_request_seconds",
            "HTTP request duration by route template.",
            ("method", "route"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.turns = Counter(
            "realty_turns",
            "User turns handled, by channel and outcome.",
            ("channel", "outcome"),
            registry=self.registry,
        )
        self.llm_calls = Counter(
            "realty_llm_calls", "Language-model calls made by turns.", registry=self.registry
        )
        self.turn_seconds = Histogram(
            "realty_turn_seconds",
            "Time to process one user turn (pipeline and storage).",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "realty_rate_limited",
            "Requests refused by a rate limit, by scope.",
            ("scope",),
            registry=self.registry,
        )
        self.conversations = Counter(
            "realty_conversations_started",
            "Conversations opened, by channel.",
            ("channel",),
            registry=self.registry,
        )
        self.websockets = Gauge(
            "realty_websocket_connections",
            "Open WebSocket connections in this process.",
            registry=self.registry,
        )

    def watch(self, service: ConversationService) -> None:
        """Export the service's own counters."""
        self.registry.register(_ServiceCollector(service))

    def observe(self, channel: str, result: TurnResult) -> None:
        """Count one handled turn."""
        outcome = "replayed" if result.replayed else "blocked" if result.blocked else "ok"
        self.turns.labels(channel, outcome).inc()
        if not result.replayed:
            self.llm_calls.inc(result.llm_calls)
            self.turn_seconds.observe(result.latency_ms / 1000)


class _ServiceCollector(Collector):
    """Reads counters the service keeps itself, at scrape time."""

    def __init__(self, service: ConversationService) -> None:
        self._service = service

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "realty_version_conflicts",
            "Turns re-run because another process saved the conversation first.",
            value=self._service.version_conflicts,
        )
        yield CounterMetricFamily(
            "realty_llm_skipped_busy",
            "Turns the parser answered alone because REALTY_LLM_MAX_CONCURRENCY model calls "
            "were already running.",
            value=self._service.llm_slots.skipped,
        )
