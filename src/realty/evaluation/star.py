"""The STAR apartment suite: does the final brief hold the budget the wizard searched with?

Each row of ``star_apartment_turns.jsonl`` is one wizard query. Its USER history and last
utterance are replayed in one fresh conversation, then the final brief is compared with the
query's constraints: ``Price`` (monthly rent, usually ``<=``, i.e. a maximum budget) against
the budget amount, ``NumRooms`` against ``bedrooms`` and ``Level`` against ``floor``. The
currency is fictional ("credits"); only the amount is compared.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from text_to_num import alpha2digit

from realty.evaluation.metrics import TurnStats
from realty.services.conversation import ConversationService

# STAR constraint → (brief section, key, attribute) compared with its value.
CONSTRAINT_MAP: Mapping[str, tuple[str, str, str]] = {
    "Price": ("fields", "budget", "amount"),
    "NumRooms": ("extras", "bedrooms", "value"),
    "Level": ("extras", "floor", "value"),
}
# How many failing rows the report keeps per constraint, for inspection.
_KEEP_FAILURES = 25
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class StarRow:
    """One wizard query: what the user said, and what the wizard searched for."""

    id: str
    user_turns: tuple[str, ...]
    constraints: Mapping[str, Any]  # constraint name → its value


def parse_row(raw: Mapping[str, Any]) -> StarRow:
    """One line of ``star_apartment_turns.jsonl``: the user's turns and constraint values."""
    turns = [t["utterance"] for t in raw.get("history", []) if t.get("speaker") == "USER"]
    turns.append(raw["utterance"])
    constraints = {
        name: c["value"]
        for name, c in raw.get("expected_constraints", {}).items()
        if isinstance(c, Mapping) and "value" in c
    }
    row_id = f"{raw.get('dialogue_id', '?')}#{raw.get('query_idx', 0)}"
    return StarRow(id=row_id, user_turns=tuple(turns), constraints=constraints)


def load_rows(path: Path, limit: int | None = None) -> list[StarRow]:
    """The rows of ``star_apartment_turns.jsonl`` (the first ``limit``)."""
    rows = [parse_row(json.loads(line)) for line in path.read_text("utf-8").splitlines() if line]
    return rows if limit is None else rows[:limit]


def stated_numbers(turns: Sequence[str]) -> frozenset[str]:
    """Every number the user wrote (digits or English words), as plain digit strings."""
    out: set[str] = set()
    for text in turns:
        for source in (text, alpha2digit(text, "en")):
            out.update(n.replace(",", "").rstrip(".") for n in _NUMBER.findall(source))
    return frozenset(out)


def is_stated(value: Any, turns: Sequence[str]) -> bool:
    """Whether the user wrote the constraint's value (the wizard may have relaxed it)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() in stated_numbers(turns)


def matches(expected: Any, actual: Any) -> bool:
    """A constraint value against a brief value (numbers compared as numbers)."""
    if actual is None or isinstance(actual, bool):
        return False
    try:
        return math.isclose(float(expected), float(actual), abs_tol=0.01)
    except (TypeError, ValueError):
        return str(expected).strip().casefold() == str(actual).strip().casefold()


@dataclass(slots=True)
class Accuracy:
    """Hits over rows that carry one constraint, overall and where the user stated it.

    The wizard sometimes searched with a value the user never wrote (relaxing a budget when
    nothing matched); ``stated_rows`` counts only rows whose value appears in the user's text.
    """

    rows: int = 0
    hits: int = 0
    stated_rows: int = 0
    stated_hits: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of rows where the brief holds the constraint's value (1.0 with no rows)."""
        return 1.0 if self.rows == 0 else self.hits / self.rows

    @property
    def stated_accuracy(self) -> float:
        """The same share over rows whose value the user wrote."""
        return 1.0 if self.stated_rows == 0 else self.stated_hits / self.stated_rows

    def to_json(self) -> dict[str, Any]:
        """Counts, accuracy and a sample of failures."""
        return {
            "rows": self.rows,
            "hits": self.hits,
            "accuracy": round(self.accuracy, 4),
            "stated_rows": self.stated_rows,
            "stated_hits": self.stated_hits,
            "stated_accuracy": round(self.stated_accuracy, 4),
            "failures": self.failures,
        }


@dataclass(slots=True)
class StarResult:
    """Scores of the STAR suite."""

    by_constraint: dict[str, Accuracy] = field(
        default_factory=lambda: {name: Accuracy() for name in CONSTRAINT_MAP}
    )
    stats: TurnStats = field(default_factory=TurnStats)
    rows: int = 0

    def to_json(self) -> dict[str, Any]:
        """The suite's section of the JSON report."""
        return {
            "rows": self.rows,
            **self.stats.to_json(),
            "accuracy": {k: v.to_json() for k, v in self.by_constraint.items()},
        }


def score_row(row: StarRow, brief: Mapping[str, Any], result: StarResult) -> None:
    """Compare one final brief with the row's constraints."""
    for name, (section, key, attr) in CONSTRAINT_MAP.items():
        if name not in row.constraints:
            continue
        acc = result.by_constraint[name]
        want = row.constraints[name]
        stated = is_stated(want, row.user_turns)
        got = (brief.get(section, {}).get(key) or {}).get(attr)
        hit = matches(want, got)
        acc.rows += 1
        acc.hits += hit
        acc.stated_rows += stated
        acc.stated_hits += hit and stated
        if stated and not hit and len(acc.failures) < _KEEP_FAILURES:
            acc.failures.append(
                f"{row.id}: {name} {row.constraints[name]!r} vs {got!r} "
                f"({' | '.join(row.user_turns)[:160]!r})"
            )


async def run_star(
    service: ConversationService,
    rows: Sequence[StarRow],
    *,
    tick: Callable[[], None] = lambda: None,
) -> StarResult:
    """Replay every row in a fresh conversation and score its final brief.

    Args:
        service: the service under test.
        rows: from :func:`load_rows`.
        tick: called once per row (progress reporting).

    Returns:
        Accuracy per constraint plus turn statistics.
    """
    result = StarResult()
    for row in rows:
        start = await service.start()
        brief = start.brief
        for text in row.user_turns:
            out = await service.handle_turn(start.conversation_id, text, access=start.access)
            brief, refined = await service.settled(out, start.access)
            result.stats.record(out.latency_ms, out.llm_calls, refined)
        score_row(row, brief, result)
        result.rows += 1
        tick()
    return result
