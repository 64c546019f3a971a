"""Score the intent classifier and the sentiment score on the labelled messages.

    python benchmarks/intent.py [--messages PATH] [--misses train|test]

Prints accuracy per intent on the rows the phrase tables were written on (train) and on the
held-out rows (test), each also for the first set and the natural phrasings alone, the
sentiment's 3-way accuracy, and the median time per message; ``--misses`` lists the
messages of one half read wrongly (tune on train only).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from realty.evaluation.intent import IntentReport, evaluate, load_messages
from realty.pipeline.intent import INTENTS, IntentClassifier

DEFAULT_MESSAGES = Path(__file__).parent.parent / "tests" / "data" / "intent_messages.yaml"


def _cell(report: IntentReport, intent: str) -> str:
    right, total = report.per_intent[intent]
    return f"{right}/{total}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=DEFAULT_MESSAGES)
    parser.add_argument("--misses", choices=("train", "test"), default=None)
    args = parser.parse_args()
    classifier = IntentClassifier()
    split = load_messages(args.messages)
    columns = {
        f"{half} {batch}": evaluate(classifier, [r for r in rows if r.batch == batch])
        for half, rows in (("train", split.train), ("test", split.test))
        for batch in ("first", "natural")
    }
    columns["train all"] = evaluate(classifier, split.train)
    columns["test all"] = evaluate(classifier, split.test)
    print("| intent | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for intent in INTENTS:
        print(f"| {intent} | " + " | ".join(_cell(r, intent) for r in columns.values()) + " |")
    print("| **all** | " + " | ".join(f"{r.accuracy:.3f}" for r in columns.values()) + " |")
    print(
        "| sentiment (3-way) | "
        + " | ".join(f"{r.sentiment_accuracy:.3f}" for r in columns.values())
        + " |"
    )
    print(
        "| sentiment (rows labelled ±) | "
        + " | ".join(f"{r.sentiment_polar_accuracy:.3f}" for r in columns.values())
        + " |"
    )
    if args.misses:
        for text, expected, got in columns[f"{args.misses} all"].misses:
            print(f"{args.misses} miss: {text!r}: {expected} read as {got}")
    timings = []
    for row in split.train + split.test:
        start = time.perf_counter()
        classifier.classify(row.text)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"median {statistics.median(timings):.3f} ms per message")


if __name__ == "__main__":
    main()
