"""Score the intent classifier and the sentiment score on the labelled messages.

    python benchmarks/intent.py [--messages PATH]

Prints accuracy per intent on the rows the phrase tables were written on (train) and on the
held-out rows (test), the sentiment's 3-way accuracy, and the median time per message.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from realty.evaluation.intent import evaluate, load_messages
from realty.pipeline.intent import INTENTS, IntentClassifier

DEFAULT_MESSAGES = Path(__file__).parent.parent / "tests" / "data" / "intent_messages.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=DEFAULT_MESSAGES)
    args = parser.parse_args()
    classifier = IntentClassifier()
    split = load_messages(args.messages)
    train, test = evaluate(classifier, split.train), evaluate(classifier, split.test)
    print("| intent | train | test |")
    print("|---|---:|---:|")
    for intent in INTENTS:
        a, b = train.per_intent[intent], test.per_intent[intent]
        print(f"| {intent} | {a[0]}/{a[1]} | {b[0]}/{b[1]} |")
    print(f"| **all** | {train.accuracy:.3f} | {test.accuracy:.3f} |")
    print(f"| sentiment (3-way) | {train.sentiment_accuracy:.3f} | {test.sentiment_accuracy:.3f} |")
    print(
        f"| sentiment (rows labelled ±) | {train.sentiment_polar_accuracy:.3f} "
        f"| {test.sentiment_polar_accuracy:.3f} |"
    )
    for text, expected, got in test.misses:
        print(f"test miss: {text!r}: {expected} read as {got}")
    timings = []
    for row in split.train + split.test:
        start = time.perf_counter()
        classifier.classify(row.text)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"median {statistics.median(timings):.3f} ms per message")


if __name__ == "__main__":
    main()
