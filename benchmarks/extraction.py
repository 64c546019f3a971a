"""Extraction pipelines compared on the golden conversations: parser only, hybrid, every turn.

Run: ``.venv/bin/python benchmarks/extraction.py --provider local`` (or ``fake`` / ``none``).
For each pipeline it replays every golden conversation (tests/dialogues) and prints joint
accuracy of the required fields, the share of turns passing every golden check, LLM calls per
user turn, p50/p95 turn latency and memory: the process's peak resident set after the run
(``ru_maxrss``, includes a loaded model) and, with ``--trace-memory``, the peak of Python
allocations during the run (tracemalloc; slows the run, so latency is then indicative only).
The provider is loaded once and shared by the hybrid and every-turn pipelines.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from realty.evaluation.dialogues import load_dir
from realty.evaluation.golden import GoldenResult, run_golden
from realty.evaluation.metrics import percentile
from realty.evaluation.runner import EVAL_DATE, load_llm
from realty.llm.base import LLM
from realty.pipeline.parse import Parser
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "tests" / "dialogues"
Provider = Literal["local", "openai", "fake", "none", "auto"]


@dataclass(frozen=True, slots=True)
class Row:
    """One pipeline's measurements."""

    name: str
    result: GoldenResult
    seconds: float
    maxrss_mb: float
    traced_peak_mb: float | None


def _maxrss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _golden(settings: Settings, parser: Parser, llm: LLM | None) -> GoldenResult:
    if llm is None:
        settings = settings.model_copy(update={"llm_provider": "none"})
    service = build_service(
        settings, store=InMemoryStore(), parser=parser, today=lambda: EVAL_DATE, llm=llm
    )
    return await run_golden(service, [c for _, c in load_dir(GOLDEN_DIR)])


def _measure(name: str, settings: Settings, parser: Parser, llm: LLM | None, trace: bool) -> Row:
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = asyncio.run(_golden(settings, parser, llm))
    seconds = time.perf_counter() - started
    traced = None
    if trace:
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return Row(name, result, seconds, _maxrss_mb(), traced)


def _table(rows: list[Row]) -> str:
    head = (
        f"{'pipeline':<13}{'joint acc':>10}{'turns ok':>10}{'LLM/turn':>10}"
        f"{'p50 ms':>10}{'p95 ms':>11}{'maxrss MB':>11}{'traced MB':>11}{'run s':>8}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        stats = row.result.stats
        traced = "-" if row.traced_peak_mb is None else f"{row.traced_peak_mb:.1f}"
        lines.append(
            f"{row.name:<13}{row.result.joint_accuracy:>10.4f}{row.result.pass_rate:>10.4f}"
            f"{stats.calls_per_turn:>10.3f}{percentile(stats.latencies_ms, 50):>10.2f}"
            f"{percentile(stats.latencies_ms, 95):>11.2f}{row.maxrss_mb:>11.1f}"
            f"{traced:>11}{row.seconds:>8.1f}"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run the three pipelines and print the table."""
    parser_ = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser_.add_argument(
        "--provider",
        choices=["local", "openai", "fake", "none", "auto"],
        default=None,
        help="language model provider (default: REALTY_LLM_PROVIDER, else auto)",
    )
    parser_.add_argument(
        "--trace-memory", action="store_true", help="also report tracemalloc peaks"
    )
    args = parser_.parse_args()
    settings = Settings() if args.provider is None else Settings(llm_provider=args.provider)
    parser = Parser.build()
    rows = [_measure("parser-only", settings, parser, None, args.trace_memory)]
    llm = load_llm(settings)
    for mode in ("hybrid", "every_turn"):
        moded = settings.model_copy(update={"llm_mode": mode})
        rows.append(_measure(mode.replace("_", "-"), moded, parser, llm, args.trace_memory))
    print(
        f"golden conversations: {GOLDEN_DIR} — provider {settings.llm_provider}, {dt.date.today()}"
    )
    print(_table(rows))
    for row in rows:
        for failure in row.result.failures[:5]:
            print(f"  {row.name}: {failure}")
    if llm is None:
        print(
            "No language model (provider none or not installed): hybrid and every-turn run the "
            "parser only, so all three rows measure the same pipeline."
        )


if __name__ == "__main__":
    main()
