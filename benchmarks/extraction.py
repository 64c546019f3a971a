"""Extraction pipelines compared on a set of conversations: parser only, hybrid, every turn.

Run: ``.venv/bin/python benchmarks/extraction.py --provider local [--set messy-test]``
(or ``--provider fake`` / ``none``). Sets: ``golden`` (tests/dialogues), ``messy-dev``,
``messy-dev2``, ``messy-dev3``, ``messy-dev4`` and ``messy-test`` (tests/dialogues/messy: the
test split is reported, never tuned on).
Pipelines (``--pipelines``, default all four): ``parser-only``; ``hybrid`` (the model only when
the parser cannot explain a message, the reply waiting at most REALTY_LLM_REPLY_DEADLINE_MS,
later answers refining the brief); ``hybrid-wait`` (the same, the reply waiting for the model);
``every-turn`` (the model on every message, replies waiting).

For each pipeline it replays every conversation and prints joint accuracy of the required
fields and the share of turns passing every check (both scored on the brief after any
refinement), LLM calls per user turn, p50/p95 latency to the reply, p95 time to a refinement
and how many refinements changed the brief, and memory: the process's peak resident set after
the run (``ru_maxrss``, includes a loaded model) and, with ``--trace-memory``, the peak of
Python allocations (tracemalloc; slows the run, so latency is then indicative only). The
provider is loaded once and shared by the pipelines that use it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import resource
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from realty.evaluation.dialogues import GoldenConversation, load_dir
from realty.evaluation.golden import GoldenResult, run_golden
from realty.evaluation.metrics import percentile
from realty.evaluation.runner import EVAL_DATE, load_llm
from realty.llm.base import LLM, LLMRequest, LLMResponse
from realty.pipeline.parse import Parser
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "tests" / "dialogues"
SETS = {
    "golden": GOLDEN_DIR,
    "messy-dev": GOLDEN_DIR / "messy" / "dev",
    "messy-dev2": GOLDEN_DIR / "messy" / "dev2",
    "messy-dev3": GOLDEN_DIR / "messy" / "dev3",
    "messy-dev4": GOLDEN_DIR / "messy" / "dev4",
    "messy-test": GOLDEN_DIR / "messy" / "test",
}
_FAILURE = re.compile(r"(.* turn \d+): (.*)", re.DOTALL)
PIPELINES = ("parser-only", "hybrid", "hybrid-wait", "every-turn")
Provider = Literal["local", "openai", "fake", "none", "auto"]


class CountingLLM:
    """Passes calls to a provider and adds up what they cost in tokens."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    @property
    def name(self) -> str:
        return self.inner.name

    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await self.inner.complete(request)
        self.calls += 1
        self.prompt_tokens += response.prompt_tokens or 0
        self.completion_tokens += response.completion_tokens or 0
        return response

    def per_call(self) -> tuple[float, float]:
        """Mean prompt and answer tokens per call."""
        if not self.calls:
            return 0.0, 0.0
        return self.prompt_tokens / self.calls, self.completion_tokens / self.calls


@dataclass(frozen=True, slots=True)
class Row:
    """One pipeline's measurements."""

    name: str
    result: GoldenResult
    seconds: float
    maxrss_mb: float
    traced_peak_mb: float | None
    tokens: tuple[float, float] = (0.0, 0.0)


def _maxrss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _golden(
    settings: Settings, parser: Parser, llm: LLM | None, conversations: list[GoldenConversation]
) -> GoldenResult:
    if llm is None:
        settings = settings.model_copy(update={"llm_provider": "none"})
    service = build_service(
        settings, store=InMemoryStore(), parser=parser, today=lambda: EVAL_DATE, llm=llm
    )
    return await run_golden(service, conversations)


def _measure(
    name: str,
    settings: Settings,
    parser: Parser,
    llm: LLM | None,
    conversations: list[GoldenConversation],
    trace: bool,
) -> Row:
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    counting = CountingLLM(llm) if llm is not None else None
    result = asyncio.run(_golden(settings, parser, counting, conversations))
    seconds = time.perf_counter() - started
    traced = None
    if trace:
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    tokens = counting.per_call() if counting is not None else (0.0, 0.0)
    return Row(name, result, seconds, _maxrss_mb(), traced, tokens)


def _table(rows: list[Row]) -> str:
    head = (
        f"{'pipeline':<13}{'joint acc':>10}{'turns ok':>10}{'LLM/turn':>10}"
        f"{'p50 ms':>10}{'p95 ms':>11}{'refine p95':>11}{'refined':>9}{'tok in':>8}{'tok out':>8}"
        f"{'maxrss MB':>11}{'traced MB':>11}{'run s':>8}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        stats = row.result.stats
        traced = "-" if row.traced_peak_mb is None else f"{row.traced_peak_mb:.1f}"
        lines.append(
            f"{row.name:<13}{row.result.joint_accuracy:>10.4f}{row.result.pass_rate:>10.4f}"
            f"{stats.calls_per_turn:>10.3f}{percentile(stats.latencies_ms, 50):>10.2f}"
            f"{percentile(stats.latencies_ms, 95):>11.2f}"
            f"{percentile(stats.refined_ms, 95):>11.0f}{stats.refinements_applied:>9}"
            f"{row.tokens[0]:>8.0f}{row.tokens[1]:>8.0f}"
            f"{row.maxrss_mb:>11.1f}{traced:>11}{row.seconds:>8.1f}"
        )
    return "\n".join(lines)


def _failing(result: GoldenResult) -> dict[str, str]:
    """Failing turns (``conversation turn N``) and their first problem."""
    found = (_FAILURE.match(f) for f in result.failures)
    return {m.group(1): m.group(2) for m in found if m is not None}


def _difference(base: GoldenResult, other: GoldenResult) -> tuple[list[str], list[str]]:
    """Turns ``other`` passes that ``base`` fails, and the reverse (with the problem)."""
    before, after = _failing(base), _failing(other)
    fixed = [f"{turn}: {before[turn]}" for turn in before if turn not in after]
    broke = [f"{turn}: {after[turn]}" for turn in after if turn not in before]
    return fixed, broke


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
    parser_.add_argument("--set", choices=sorted(SETS), default="golden", dest="which")
    parser_.add_argument(
        "--pipelines",
        default=",".join(PIPELINES),
        help=f"comma-separated, from {', '.join(PIPELINES)} (default: all)",
    )
    parser_.add_argument("--limit", type=int, default=None, help="first N conversations only")
    parser_.add_argument(
        "--prompt",
        choices=["narrow", "full"],
        default=None,
        help="the model's prompt (default: REALTY_LLM_PROMPT, else narrow)",
    )
    args = parser_.parse_args()
    chosen = [p.strip() for p in args.pipelines.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PIPELINES))
    if unknown:
        parser_.error(f"unknown pipeline(s): {', '.join(unknown)}")
    settings = Settings() if args.provider is None else Settings(llm_provider=args.provider)
    if args.prompt is not None:
        settings = settings.model_copy(update={"llm_prompt": args.prompt})
    conversations = [c for _, c in load_dir(SETS[args.which])][: args.limit]
    parser = Parser.build()
    llm = load_llm(settings) if set(chosen) - {"parser-only"} else None
    variants = {
        "parser-only": ({}, None),
        "hybrid": ({"llm_mode": "hybrid"}, llm),
        "hybrid-wait": ({"llm_mode": "hybrid", "llm_reply_deadline_ms": 600_000}, llm),
        "every-turn": ({"llm_mode": "every_turn", "llm_reply_deadline_ms": 600_000}, llm),
    }
    rows = []
    for name in chosen:
        update, model = variants[name]
        moded = settings.model_copy(update=update)
        rows.append(_measure(name, moded, parser, model, conversations, args.trace_memory))
    turns = sum(len(c.turns) for c in conversations)
    if not turns:
        parser_.error(f"no conversations in {SETS[args.which]}")
    print(
        f"{args.which}: {len(conversations)} conversations, {turns} user turns "
        f"({SETS[args.which]}) — provider {settings.llm_provider}, "
        f"prompt {settings.llm_prompt}, reply deadline {settings.llm_reply_deadline_ms} ms, "
        f"{dt.date.today()}"
    )
    print(_table(rows))
    for row in rows:
        for failure in row.result.failures[:5]:
            print(f"  {row.name}: {failure}")
    baseline = next((row for row in rows if row.name == "parser-only"), None)
    for row in rows:
        if baseline is not None and row is not baseline:
            fixed, broke = _difference(baseline.result, row.result)
            print(f"{row.name} vs parser-only: {len(fixed)} turns fixed, {len(broke)} broken")
            for turn in fixed:
                print(f"  fixed: {turn}")
            for turn in broke:
                print(f"  broken: {turn}")
    if llm is None:
        print(
            "No language model (provider none or not installed): every row runs the parser "
            "only, so all of them measure the same pipeline."
        )


if __name__ == "__main__":
    main()
