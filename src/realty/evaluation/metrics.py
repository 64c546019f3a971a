"""Scoring arithmetic shared by every evaluation suite: P/R/F1 counts and latency percentiles.

Pure code: the suites decide what counts as expected and predicted, this module only counts.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives of one field (or of all)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of predictions that were right (1.0 when nothing was predicted)."""
        predicted = self.tp + self.fp
        return 1.0 if predicted == 0 else self.tp / predicted

    @property
    def recall(self) -> float:
        """Share of expected values that were found (1.0 when nothing was expected)."""
        expected = self.tp + self.fn
        return 1.0 if expected == 0 else self.tp / expected

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0.0 when both are 0)."""
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def add(self, other: Counts) -> None:
        """Accumulate ``other`` into this count."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def to_json(self) -> dict[str, Any]:
        """Counts plus the derived scores, rounded for reports."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(slots=True)
class FieldScores:
    """Per-field counts over (field, value) pairs, with a micro-averaged total."""

    by_field: dict[str, Counts] = field(default_factory=dict)

    def counts(self, name: str) -> Counts:
        """The counts of ``name``, created on first use."""
        return self.by_field.setdefault(name, Counts())

    def tp(self, name: str) -> None:
        """Record a correct prediction for ``name``."""
        self.counts(name).tp += 1

    def fp(self, name: str) -> None:
        """Record a prediction for ``name`` that was not expected (or wrong)."""
        self.counts(name).fp += 1

    def fn(self, name: str) -> None:
        """Record an expected value of ``name`` that was not predicted."""
        self.counts(name).fn += 1

    def score_sets(
        self, expected: Iterable[tuple[str, Hashable]], predicted: Iterable[tuple[str, Hashable]]
    ) -> None:
        """Count two sets of exact (field, value) pairs against each other."""
        want, got = set(expected), set(predicted)
        for name, _ in want & got:
            self.tp(name)
        for name, _ in got - want:
            self.fp(name)
        for name, _ in want - got:
            self.fn(name)

    @property
    def total(self) -> Counts:
        """Micro-averaged counts over every field."""
        out = Counts()
        for counts in self.by_field.values():
            out.add(counts)
        return out

    def to_json(self) -> dict[str, Any]:
        """Per-field scores (sorted by name) and the micro total."""
        return {
            "fields": {k: self.by_field[k].to_json() for k in sorted(self.by_field)},
            "micro": self.total.to_json(),
        }


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(slots=True)
class TurnStats:
    """LLM calls and latency of every user turn a suite replayed."""

    latencies_ms: list[float] = field(default_factory=list)
    llm_calls: int = 0
    refined_ms: list[float] = field(default_factory=list)
    refinements_applied: int = 0

    def record(self, latency_ms: float, llm_calls: int, refined: Sequence[Any] = ()) -> None:
        """Add one user turn (``refined``: the late model readings it led to)."""
        self.latencies_ms.append(latency_ms)
        self.llm_calls += llm_calls
        self.refined_ms.extend(r.refined_ms for r in refined)
        self.refinements_applied += sum(1 for r in refined if r.applied)

    @property
    def turns(self) -> int:
        """Number of user turns recorded."""
        return len(self.latencies_ms)

    @property
    def calls_per_turn(self) -> float:
        """Average LLM calls per user turn."""
        return 0.0 if not self.latencies_ms else self.llm_calls / len(self.latencies_ms)

    def to_json(self) -> dict[str, Any]:
        """Turn count, LLM calls and latency percentiles."""
        return {
            "turns": self.turns,
            "llm_calls": self.llm_calls,
            "llm_calls_per_turn": round(self.calls_per_turn, 4),
            "latency_ms_p50": round(percentile(self.latencies_ms, 50), 3),
            "latency_ms_p95": round(percentile(self.latencies_ms, 95), 3),
            "refinements": len(self.refined_ms),
            "refinements_applied": self.refinements_applied,
            "refined_ms_p50": round(percentile(self.refined_ms, 50), 3),
            "refined_ms_p95": round(percentile(self.refined_ms, 95), 3),
        }
