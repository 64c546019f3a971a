"""Score the knowledge base on the labelled questions.

    python benchmarks/knowledge.py [--questions PATH]

Prints top-1 and top-3 hit rates, the share of in-scope questions answered and the share of
out-of-scope questions refused, on the dev half (where the thresholds are chosen), the test
half and both; then the thresholds chosen on dev and the median time per question.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from realty.evaluation.knowledge import choose_thresholds, evaluate, load_questions
from realty.knowledge.base import KnowledgeBase

DEFAULT_QUESTIONS = Path(__file__).parent.parent / "tests" / "data" / "kb_questions.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    args = parser.parse_args()
    started = time.perf_counter()
    kb = KnowledgeBase()
    built_ms = (time.perf_counter() - started) * 1000
    split = load_questions(args.questions)
    print("| set | in scope | out of scope | top-1 | top-3 | answered | answered right | refused |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, questions in (
        ("dev", split.dev),
        ("test", split.test),
        ("all", split.dev + split.test),
    ):
        r = evaluate(kb, questions)
        print(
            f"| {name} | {r.in_scope} | {r.out_of_scope} | {r.top1:.3f} | {r.top3:.3f} "
            f"| {r.answered:.3f} | {r.answered_right:.3f} | {r.refused:.3f} |"
        )
    min_score, min_coverage = choose_thresholds(kb, split.dev)
    timings = []
    for item in split.dev + split.test:
        start = time.perf_counter()
        kb.ask(item.question)
        timings.append((time.perf_counter() - start) * 1000)
    print()
    print(f"thresholds chosen on dev: min_score={min_score}, min_coverage={min_coverage}")
    print(f"index built in {built_ms:.0f} ms; median ask {statistics.median(timings):.2f} ms")


if __name__ == "__main__":
    main()
