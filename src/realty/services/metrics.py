"""Prometheus metrics, one registry per app (several apps may live in one test process).

The API's lifespan builds them; every channel reports each turn's :class:`TurnResult` to
:meth:`Metrics.observe`, and the model's calls are timed by :class:`TimedLLM`. Every label
takes its values from a closed set (channels, outcomes, guard categories, intents), never an
id. docs/observability.md lists them all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Final, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from realty.domain.state import BlockReason, Handoff
from realty.llm.base import LLM, LLMRequest, LLMResponse
from realty.pipeline.intent import INTENTS
from realty.services.conversation import ConversationService, TurnResult

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# The channels that report turns, so every series exists (at 0) from the first scrape.
CHANNELS: Final = ("api", "websocket", "whatsapp")
GUARD_CATEGORIES: Final[tuple[str, ...]] = tuple(
    value for part in get_args(BlockReason) for value in get_args(part)
)
HANDOFFS: Final[tuple[Handoff, ...]] = get_args(Handoff)


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
        self.llm_seconds = Histogram(
            "realty_llm_call_seconds",
            "Duration of one language-model call, by outcome (ok, error, cancelled).",
            ("outcome",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "realty_turn_seconds",
            "Time to process one user turn (pipeline and storage).",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._conversion_metrics()
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

    def _conversion_metrics(self) -> None:
        """What the turns achieved: refusals, briefs, people asked for, listings, intents."""
        count = self._counter
        self.guard_blocks = count(
            "realty_guard_blocks", "Messages the guard refused, by category.", "category"
        )
        self.briefs_completed = count(
            "realty_briefs_completed",
            "Briefs that became complete (every required field known), by channel.",
            "channel",
        )
        self.briefs_confirmed = count(
            "realty_briefs_confirmed",
            "Complete briefs the prospect confirmed, by channel.",
            "channel",
        )
        self.handoffs = count(
            "realty_handoffs",
            "Turns where the prospect asked for a broker (person) or a visit: the lead is "
            "handed to a person, by channel and kind.",
            "channel",
            "kind",
        )
        self.match_turns = count(
            "realty_match_turns",
            "Turns whose answer carried matching listings, by channel.",
            "channel",
        )
        self.listings_shown = count(
            "realty_listings_shown", "Listings carried by those turns, by channel.", "channel"
        )
        self.intents = count(
            "realty_intents", "User messages by the intent they were read as.", "intent"
        )
        self.bookings = count(
            "realty_bookings",
            "Visits booked. Reserved: no booking feature exists yet, so it stays at 0.",
        )
        for channel in CHANNELS:
            for outcome in ("answered", "blocked"):
                self.turns.labels(channel, outcome)
            self.briefs_completed.labels(channel)
            self.briefs_confirmed.labels(channel)
            self.match_turns.labels(channel)
            self.listings_shown.labels(channel)
            for kind in HANDOFFS:
                self.handoffs.labels(channel, kind)
        for outcome in ("ok", "error", "cancelled"):
            self.llm_seconds.labels(outcome)
        for category in GUARD_CATEGORIES:
            self.guard_blocks.labels(category)
        for intent in INTENTS:
            self.intents.labels(intent)

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def timed(self, llm: object) -> object:
        """``llm`` with every call timed in ``realty_llm_call_seconds`` (anything that is
        not a provider, such as ``None``, is returned as it is)."""
        return TimedLLM(llm, self.llm_seconds) if isinstance(llm, LLM) else llm

    def watch(self, service: ConversationService) -> None:
        """Export the service's own counters."""
        self.registry.register(_ServiceCollector(service))

    def observe(self, channel: str, result: TurnResult) -> None:
        """Count one handled turn (a replayed one only as such: its work was counted)."""
        outcome = "replayed" if result.replayed else "blocked" if result.blocked else "answered"
        self.turns.labels(channel, outcome).inc()
        if result.replayed:
            return
        self.llm_calls.inc(result.llm_calls)
        self.turn_seconds.observe(result.latency_ms / 1000)
        if result.block_reason is not None:
            self.guard_blocks.labels(result.block_reason).inc()
        if "brief_completed" in result.actions:
            self.briefs_completed.labels(channel).inc()
        if "confirmed" in result.actions:
            self.briefs_confirmed.labels(channel).inc()
        if result.handoff is not None:
            self.handoffs.labels(channel, result.handoff).inc()
        if result.matches is not None:
            self.match_turns.labels(channel).inc()
            self.listings_shown.labels(channel).inc(len(result.matches.listings))
        if result.intent is not None:
            self.intents.labels(result.intent.intent).inc()


class TimedLLM:
    """A provider whose calls are timed, by outcome."""

    def __init__(self, llm: LLM, seconds: Histogram) -> None:
        self._llm = llm
        self._seconds = seconds

    @property
    def name(self) -> str:
        """The wrapped provider's name."""
        return self._llm.name

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """The wrapped provider's answer, its duration recorded whatever happens."""
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self._llm.complete(request)
        except asyncio.CancelledError:
            outcome = "cancelled"  # the reply's deadline passed, or the turn was dropped
            raise
        else:
            outcome = "ok"
            return response
        finally:
            self._seconds.labels(outcome).observe(time.perf_counter() - started)


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
