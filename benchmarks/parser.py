"""Parser and whole-turn speed: turns per second and median/p95 microseconds per turn.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/parser.py --rounds 20``).
Messages: every user turn of the golden conversations (tests/dialogues) plus typical
single-field messages in both languages. Target: median ≤ 2 ms for a whole turn.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from realty.domain.turn import ParseContext
from realty.evaluation.dialogues import load_dir
from realty.pipeline.parse import Parser
from realty.services.conversation import TurnResult
from realty.services.factory import build_service
from realty.settings import Settings

EXTRA = [
    "I need an office in Mexico City.",
    "I can spend 20,000 USD for 500m².",
    "Busco una bodega de 1,200 m2 en Monterrey, presupuesto 150 mil pesos al mes",
    "entre 15 y 20 mil dólares mensuales",
    "hola",
    "asldkfjaslkdfj",
    "no, mejor en Guadalajara",
    "pet friendly please, and 20 parking spaces",
]
TARGET_MS = 2.0


def _messages() -> list[str]:
    root = Path(__file__).resolve().parent.parent / "tests" / "dialogues"
    golden = [t.user for _, conv in load_dir(root) for t in conv.turns]
    return golden + EXTRA


def _time(
    fn: Callable[[Any, str], object],
    messages: list[str],
    rounds: int,
    prepare: Callable[[], Any] = lambda: None,
) -> list[float]:
    """Microseconds per call of ``fn(prepared, text)``; ``prepare`` runs outside the clock."""
    for text in messages:  # warm caches and lazily loaded models
        fn(prepare(), text)
    samples = []
    for _ in range(rounds):
        for text in messages:
            prepared = prepare()
            start = time.perf_counter_ns()
            fn(prepared, text)
            samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def main() -> None:
    """Measure and print the table."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--rounds", type=int, default=20, help="passes over the message set")
    args = cli.parse_args()
    messages = _messages()
    parser = Parser.build()
    service = build_service(Settings(llm_provider="none"), parser=parser)
    loop = asyncio.new_event_loop()
    ctx = ParseContext(language="en", asked=("budget", "size"), today="2026-11-22")

    def parse_only(_: object, text: str) -> object:
        return parser.parse(text, ctx)

    def new_conversation() -> TurnResult:
        # A fresh conversation per message keeps every turn comparable.
        return loop.run_until_complete(service.start())

    def whole_turn(start: TurnResult, text: str) -> object:
        return loop.run_until_complete(
            service.handle_turn(start.conversation_id, text, access=start.access)
        )

    rows = [
        ("parser", _time(parse_only, messages, args.rounds)),
        ("whole turn (guard→parse→validate→advance→respond)",
         _time(whole_turn, messages, args.rounds, new_conversation)),
    ]  # fmt: skip
    print(f"{len(messages)} messages x {args.rounds} rounds")
    print(f"| stage | turns/s | median µs | p95 µs | target ≤ {TARGET_MS:g} ms |")
    print("|---|---:|---:|---:|---|")
    for name, samples in rows:
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        rate = 1e6 / statistics.fmean(samples)
        verdict = "met" if median <= TARGET_MS * 1000 else "MISSED"
        print(f"| {name} | {rate:,.0f} | {median:,.0f} | {p95:,.0f} | {verdict} |")
    loop.close()


if __name__ == "__main__":
    main()
