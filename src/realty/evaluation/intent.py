"""Scoring the intent classifier and the sentiment score on labelled messages.

``tests/data/intent_messages.yaml`` holds rows ``[intent, sentiment, text]`` and extra
``[sentiment, text]`` rows. Of the first two lists every third row (positions 2, 5, 8…) is
held out; of the later list of natural phrasings (``natural``) every second row (positions
1, 3, 5…). The phrase tables were written looking only at the rows not held out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from realty.pipeline.intent import INTENTS, IntentClassifier

# |score| below this reads as neutral when the sentiment is scored as a class.
NEUTRAL_BAND = 0.2

# Which list a row comes from: the first set, or the natural phrasings written later.
Batch = Literal["first", "natural"]


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """A message with its intent (``None`` for sentiment-only rows), sentiment class, and
    the list it comes from."""

    text: str
    intent: str | None
    sentiment: int
    batch: Batch = "first"


@dataclass(frozen=True, slots=True)
class IntentSplit:
    """The rows the tables were written on, and the held-out ones."""

    train: tuple[LabelledMessage, ...]
    test: tuple[LabelledMessage, ...]


def load_messages(path: Path) -> IntentSplit:
    """Read the labelled messages and split them (every third row of the first lists and
    every second row of the natural list held out)."""
    raw: Any = yaml.safe_load(path.read_text("utf-8"))
    intents = [LabelledMessage(t, i, int(s)) for i, s, t in raw["messages"]]
    moods = [LabelledMessage(t, None, int(s)) for s, t in raw["sentiment"]]
    natural = [LabelledMessage(t, i, int(s), "natural") for i, s, t in raw.get("natural", [])]

    def held(rows: list[LabelledMessage], out: bool, every: int) -> list[LabelledMessage]:
        return [r for n, r in enumerate(rows) if (n % every == every - 1) == out]

    return IntentSplit(
        train=tuple(held(intents, False, 3) + held(moods, False, 3) + held(natural, False, 2)),
        test=tuple(held(intents, True, 3) + held(moods, True, 3) + held(natural, True, 2)),
    )


@dataclass(frozen=True, slots=True)
class IntentReport:
    """Accuracy per intent and overall, and the sentiment's accuracy as a 3-way class."""

    per_intent: dict[str, tuple[int, int]]  # intent -> (right, total)
    accuracy: float
    sentiment_accuracy: float
    sentiment_polar_accuracy: float  # on the rows labelled positive or negative
    misses: tuple[tuple[str, str, str], ...]  # (text, expected, predicted)


def sentiment_class(score: float) -> int:
    """-1, 0 or 1 for a score, with :data:`NEUTRAL_BAND` around zero."""
    if score >= NEUTRAL_BAND:
        return 1
    return -1 if score <= -NEUTRAL_BAND else 0


def evaluate(classifier: IntentClassifier, rows: Sequence[LabelledMessage]) -> IntentReport:
    """Score ``classifier`` on ``rows``."""
    per_intent: dict[str, list[int]] = {intent: [0, 0] for intent in INTENTS}
    misses: list[tuple[str, str, str]] = []
    mood_right = polar_right = polar = 0
    for row in rows:
        result = classifier.classify(row.text)
        predicted = sentiment_class(result.sentiment)
        mood_right += predicted == row.sentiment
        if row.sentiment:
            polar += 1
            polar_right += predicted == row.sentiment
        if row.intent is None:
            continue
        per_intent[row.intent][1] += 1
        if result.intent == row.intent:
            per_intent[row.intent][0] += 1
        else:
            misses.append((row.text, row.intent, result.intent))
    right = sum(r for r, _ in per_intent.values())
    total = sum(t for _, t in per_intent.values())
    return IntentReport(
        per_intent={k: (r, t) for k, (r, t) in per_intent.items()},
        accuracy=right / total if total else 0.0,
        sentiment_accuracy=mood_right / len(rows) if rows else 0.0,
        sentiment_polar_accuracy=polar_right / polar if polar else 0.0,
        misses=tuple(misses),
    )
