"""Score the knowledge base on the labelled questions.

    python benchmarks/knowledge.py [--questions PATH] [--misses dev|test]

Prints top-1 and top-3 hit rates, the share of in-scope questions answered and the share of
out-of-scope questions refused, on the dev half (where the thresholds are chosen) and the
test half, each for the first set, the natural phrasings and both; then the thresholds
chosen on dev and the median time per question. ``--misses`` lists one half's questions
answered from the wrong section, not answered, or wrongly answered (tune on dev only).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from realty.evaluation.knowledge import (
    LabelledQuestion,
    choose_thresholds,
    evaluate,
    load_questions,
)
from realty.knowledge.base import KnowledgeBase

DEFAULT_QUESTIONS = Path(__file__).parent.parent / "tests" / "data" / "kb_questions.yaml"


def _misses(kb: KnowledgeBase, questions: tuple[LabelledQuestion, ...]) -> None:
    for item in questions:
        best = kb.search(item.question, kb.language_of(item.question), k=1)[0]
        where = f"{best.passage.doc} / {best.passage.section}"
        numbers = f"score {best.score:.2f}, coverage {best.coverage:.2f}"
        answered = kb.in_scope(best)
        if item.doc is None:
            if answered:
                print(f"answered out of scope: {item.question!r} -> {where} ({numbers})")
        elif (best.passage.doc, best.passage.section) not in {(item.doc, s) for s in item.sections}:
            print(f"wrong section: {item.question!r} -> {where} ({numbers})")
        elif not answered:
            print(f"not answered: {item.question!r} ({numbers})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--misses", choices=("dev", "test"), default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    kb = KnowledgeBase()
    built_ms = (time.perf_counter() - started) * 1000
    split = load_questions(args.questions)
    halves = {"dev": split.dev, "test": split.test}
    print("| set | in scope | out of scope | top-1 | top-3 | answered | answered right | refused |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for half, questions in halves.items():
        for batch in ("first", "natural", "all"):
            chosen = [q for q in questions if batch in ("all", q.batch)]
            r = evaluate(kb, chosen)
            print(
                f"| {half} {batch} | {r.in_scope} | {r.out_of_scope} | {r.top1:.3f} "
                f"| {r.top3:.3f} | {r.answered:.3f} | {r.answered_right:.3f} | {r.refused:.3f} |"
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
    if args.misses:
        _misses(kb, halves[args.misses])


if __name__ == "__main__":
    main()
