"""The golden suite: replays tests/dialogues/*.yaml through the service and scores every turn.

Per-field precision/recall/F1 are counted over (field, attribute, value) triples, grouped by
field: every attribute the accumulated expectation lists for a field is one expected pair;
a field present in the brief that nobody expects is one false positive. Joint accuracy is
the share of turns where every expected attribute of the required fields matches and no
unexpected required field is present. A turn also "passes" when the full golden check
(:func:`realty.evaluation.dialogues.check_turn`) finds no difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from realty.domain.brief import LANGUAGES, Language
from realty.evaluation.dialogues import ExpectedBrief, GoldenConversation, check_turn
from realty.evaluation.metrics import FieldScores, TurnStats
from realty.services.conversation import ConversationService

SECTIONS: tuple[str, ...] = ("fields", "extras")


def _language(code: str | None) -> Language | None:
    for language in LANGUAGES:
        if code == language:
            return language
    return None


def same_value(expected: Any, actual: Any) -> bool:
    """Equality with a numeric tolerance (bools are never numbers)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(expected), float(actual), rel_tol=1e-6, abs_tol=0.01)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same_value, expected, actual))
    return bool(expected == actual)


def score_brief(
    expected: Mapping[str, Mapping[str, Any]],
    actual: Mapping[str, Mapping[str, Any]],
    scores: FieldScores,
) -> None:
    """Count one section (``fields`` or ``extras``) of one turn into ``scores``."""
    for key, attrs in expected.items():
        got = actual.get(key)
        for attr, want in (attrs or {}).items():
            if got is None or attr not in got or got[attr] is None:
                scores.fn(key)
            elif same_value(want, got[attr]):
                scores.tp(key)
            else:
                scores.fn(key)
                scores.fp(key)
    for key in actual:
        if key not in expected:
            scores.fp(key)


def joint_ok(
    expected: Mapping[str, Mapping[str, Any]],
    actual: Mapping[str, Mapping[str, Any]],
    required: Collection[str],
) -> bool:
    """All expected required-field attributes match and no unexpected required field exists."""
    for key in required:
        want = expected.get(key)
        got = actual.get(key)
        if want is None:
            if got is not None:
                return False
            continue
        if got is None:
            return False
        if not all(same_value(v, got.get(a)) for a, v in (want or {}).items()):
            return False
    return True


@dataclass(slots=True)
class GoldenResult:
    """Scores of the golden suite."""

    scores: FieldScores = field(default_factory=FieldScores)
    stats: TurnStats = field(default_factory=TurnStats)
    joint_hits: int = 0
    passed_turns: int = 0
    conversations: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def joint_accuracy(self) -> float:
        """Share of turns whose required fields are exactly as expected."""
        turns = self.stats.turns
        return 0.0 if turns == 0 else self.joint_hits / turns

    @property
    def pass_rate(self) -> float:
        """Share of turns that pass the full golden check."""
        turns = self.stats.turns
        return 0.0 if turns == 0 else self.passed_turns / turns

    def to_json(self) -> dict[str, Any]:
        """The suite's section of the JSON report."""
        return {
            "conversations": self.conversations,
            "joint_accuracy": round(self.joint_accuracy, 4),
            "turn_pass_rate": round(self.pass_rate, 4),
            **self.stats.to_json(),
            "scores": self.scores.to_json(),
            "failures": self.failures,
        }


async def run_golden(
    service: ConversationService,
    conversations: Sequence[GoldenConversation],
    *,
    tick: Callable[[], None] = lambda: None,
) -> GoldenResult:
    """Replay every conversation in a fresh session and score every user turn.

    Args:
        service: the service under test (its registry decides which fields are required).
        conversations: the golden conversations, in order.
        tick: called once per conversation (progress reporting).

    Returns:
        The accumulated scores, joint accuracy and the first problems of failing turns.
    """
    result = GoldenResult()
    required = service.registry.required
    for conv in conversations:
        start = await service.start(_language(conv.language))
        expected = ExpectedBrief()
        for number, turn in enumerate(conv.turns, start=1):
            out = await service.handle_turn(start.conversation_id, turn.user, access=start.access)
            brief, refined = await service.settled(out, start.access)
            want = expected.after(turn.expect)
            result.stats.record(out.latency_ms, out.llm_calls, refined)
            for section in SECTIONS:
                score_brief(want[section], brief[section], result.scores)
            result.joint_hits += joint_ok(want["fields"], brief["fields"], required)
            problems = check_turn(
                want, brief=brief, reply=out.reply, actions=out.actions, asked=out.asked
            )
            if problems:
                result.failures.append(f"{conv.name} turn {number}: {problems[0]}")
            else:
                result.passed_turns += 1
        result.conversations += 1
        tick()
    return result
