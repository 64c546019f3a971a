"""Scoring the knowledge base on labelled questions (``tests/data/kb_questions.yaml``).

In-scope questions name the guide and the section (or the sections, any of which is right)
that answer them; out-of-scope ones name none. The first lists (``in_scope``,
``out_of_scope``) and the natural phrasings written later (``natural_in_scope``,
``natural_out_of_scope``) are each split by position (even: dev, odd: test); the thresholds
are chosen on dev (:func:`choose_thresholds`) and the figures reported on test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from realty.knowledge.base import Hit, KnowledgeBase

# Which lists a question comes from: the first set, or the natural phrasings written later.
Batch = Literal["first", "natural"]


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    """A question, the guide (``None``: out of scope) and the sections that answer it."""

    question: str
    doc: str | None = None
    sections: tuple[str, ...] = ()
    batch: Batch = "first"


@dataclass(frozen=True, slots=True)
class Split:
    """The dev and test halves of both lists."""

    dev: tuple[LabelledQuestion, ...]
    test: tuple[LabelledQuestion, ...]


def load_questions(path: Path) -> Split:
    """Read the labelled set and split it (even positions dev, odd test, per list)."""
    raw: Any = yaml.safe_load(path.read_text("utf-8"))
    lists: list[list[LabelledQuestion]] = []
    batches: tuple[tuple[str, Batch], ...] = (("", "first"), ("natural_", "natural"))
    for prefix, batch in batches:
        inside, outside = raw.get(f"{prefix}in_scope", []), raw.get(f"{prefix}out_of_scope", [])
        lists.append([_labelled(q, batch) for q in inside])
        lists.append([LabelledQuestion(q["q"], batch=batch) for q in outside])
    return Split(
        dev=tuple(q for rows in lists for q in rows[0::2]),
        test=tuple(q for rows in lists for q in rows[1::2]),
    )


def _labelled(row: Any, batch: Batch) -> LabelledQuestion:
    section = row["section"]
    sections = (section,) if isinstance(section, str) else tuple(section)
    return LabelledQuestion(row["q"], row["doc"], sections, batch)


@dataclass(frozen=True, slots=True)
class KnowledgeReport:
    """Retrieval and refusal figures on a set of questions.

    Attributes:
        in_scope: Number of in-scope questions.
        out_of_scope: Number of out-of-scope questions.
        top1: Share of in-scope questions whose best section is the labelled one.
        top3: Share whose labelled section is among the best three.
        answered: Share of in-scope questions answered (thresholds reached).
        answered_right: Share answered with the labelled section first.
        refused: Share of out-of-scope questions refused ("I don't know").
    """

    in_scope: int
    out_of_scope: int
    top1: float
    top3: float
    answered: float
    answered_right: float
    refused: float


def _hits(kb: KnowledgeBase, question: str) -> list[Hit]:
    return kb.search(question, kb.language_of(question), k=3)


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def evaluate(kb: KnowledgeBase, questions: Sequence[LabelledQuestion]) -> KnowledgeReport:
    """Score ``kb`` on ``questions`` with its own thresholds."""
    top1, top3, answered, right, refused = [], [], [], [], []
    for item in questions:
        hits = _hits(kb, item.question)
        if item.doc is None:
            refused.append(not kb.in_scope(hits[0]))
            continue
        found = [h.passage.doc == item.doc and h.passage.section in item.sections for h in hits]
        top1.append(found[0])
        top3.append(any(found))
        answered.append(kb.in_scope(hits[0]))
        right.append(kb.in_scope(hits[0]) and found[0])
    return KnowledgeReport(
        in_scope=len(top1),
        out_of_scope=len(refused),
        top1=_share(top1),
        top3=_share(top3),
        answered=_share(answered),
        answered_right=_share(right),
        refused=_share(refused),
    )


def choose_thresholds(
    kb: KnowledgeBase, questions: Sequence[LabelledQuestion]
) -> tuple[float, float]:
    """The (min_score, min_coverage) pair that maximises the mean of the in-scope answered
    rate and the out-of-scope refusal rate on ``questions``; ties go to the lower pair."""
    best = [(h[0], item.doc is not None) for item in questions for h in [_hits(kb, item.question)]]
    scored: list[tuple[float, float, float]] = []
    for score_step in range(0, 41):
        min_score = score_step / 10
        for coverage_step in range(0, 41):
            min_coverage = coverage_step / 50
            ok_in = [
                h.score >= min_score and h.coverage >= min_coverage for h, inside in best if inside
            ]
            refused = [
                not (h.score >= min_score and h.coverage >= min_coverage)
                for h, inside in best
                if not inside
            ]
            balanced = (_share(ok_in) + _share(refused)) / 2
            scored.append((balanced, -min_score, -min_coverage))
    balanced, min_score, min_coverage = max(scored)
    return -min_score, -min_coverage
