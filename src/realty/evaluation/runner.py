"""``realty eval``: runs the golden, SGD and STAR suites against a service built from settings.

The provider comes from the settings (``llm_provider``; ``every_turn`` switches ``llm_mode``),
so the same command measures the parser alone, the hybrid pipeline or the model on every
turn. Results are printed as a table and written as a JSON report.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from realty.evaluation.dialogues import load_dir
from realty.evaluation.golden import GoldenResult, run_golden
from realty.evaluation.metrics import Counts, FieldScores, TurnStats
from realty.evaluation.sgd import BASE_DATE, SgdResult, load_dialogues, run_sgd
from realty.evaluation.star import StarResult, load_rows, run_star
from realty.llm.base import LLM
from realty.llm.registry import build_llm
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore

Suite = Literal["golden", "sgd", "star", "all"]
SUITES: tuple[Suite, ...] = ("golden", "sgd", "star", "all")

SGD_FILE = "sgd_homes_dialogues.jsonl"
STAR_FILE = "star_apartment_turns.jsonl"
DEFAULT_GOLDEN_DIR = Path("tests/dialogues")
# The golden dialogues and STAR rows are scored as of this day, so dates are reproducible.
EVAL_DATE = dt.date(2026, 11, 22)
SGD_HOME_COUNTRY = "US"

Tick = Callable[[], None]


@dataclass(slots=True)
class EvalReport:
    """Everything one ``realty eval`` run measured."""

    suite: Suite
    provider: str
    mode: str
    golden: GoldenResult | None = None
    sgd: dict[str, SgdResult] = field(default_factory=dict)
    star: StarResult | None = None
    elapsed_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The JSON report: one section per suite that ran."""
        return {
            "suite": self.suite,
            "provider": self.provider,
            "mode": self.mode,
            "elapsed_s": round(self.elapsed_s, 2),
            "golden": self.golden.to_json() if self.golden else None,
            "sgd": {group: r.to_json() for group, r in self.sgd.items()},
            "star": self.star.to_json() if self.star else None,
        }

    def write(self, path: Path) -> None:
        """Write the JSON report to ``path`` (parent folders are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")

    def table(self) -> str:
        """A plain-text table of every score, for the terminal."""
        lines = [f"realty eval {self.suite} — provider {self.provider}, mode {self.mode}"]
        if self.golden is not None:
            g = self.golden
            lines += _section(f"golden ({g.conversations} conversations)", g.scores, g.stats)
            lines.append(f"  joint accuracy (required fields)  {g.joint_accuracy:.4f}")
            lines.append(f"  turns passing every check          {g.pass_rate:.4f}")
        for group, result in self.sgd.items():
            lines += _section(
                f"sgd {group} ({result.dialogues} dialogues)", result.scores, result.stats
            )
        if self.star is not None:
            s = self.star
            lines += _section(f"star ({s.rows} rows)", FieldScores(), s.stats, fields=False)
            for name, acc in s.by_constraint.items():
                lines.append(
                    f"  {name:<10} accuracy {acc.accuracy:.4f} ({acc.hits}/{acc.rows}), "
                    f"user-stated {acc.stated_accuracy:.4f} ({acc.stated_hits}/{acc.stated_rows})"
                )
        return "\n".join(lines)


def _row(name: str, counts: Counts) -> str:
    return (
        f"  {name:<18}{counts.tp:>6}{counts.fp:>6}{counts.fn:>6}"
        f"{counts.precision:>9.4f}{counts.recall:>9.4f}{counts.f1:>9.4f}"
    )


def _section(
    title: str, scores: FieldScores, stats: TurnStats, *, fields: bool = True
) -> list[str]:
    lines = ["", title]
    if fields:
        lines.append(f"  {'field':<18}{'tp':>6}{'fp':>6}{'fn':>6}{'P':>9}{'R':>9}{'F1':>9}")
        lines += [_row(name, scores.by_field[name]) for name in sorted(scores.by_field)]
        lines.append(_row("micro", scores.total))
    data = stats.to_json()
    lines.append(
        f"  user turns {stats.turns}, LLM calls/turn {stats.calls_per_turn:.3f}, "
        f"latency p50 {data['latency_ms_p50']:.2f} ms, p95 {data['latency_ms_p95']:.2f} ms"
    )
    return lines


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int], Tick]]:
    """A progress bar on stderr; yields ``task(description, total) -> tick``."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), disable=not enabled) as bar:

        def task(description: str, total: int) -> Tick:
            task_id = bar.add_task(description, total=total)
            return lambda: bar.advance(task_id)

        yield task


def _service(
    settings: Settings, parser: Parser, today: dt.date, llm: LLM | None
) -> ConversationService:
    if llm is None:  # the provider was already resolved to "parser only": do not ask again
        settings = settings.model_copy(update={"llm_provider": "none"})
    return build_service(
        settings, store=InMemoryStore(), parser=parser, today=lambda: today, llm=llm
    )


def load_llm(settings: Settings) -> LLM | None:
    """The provider the settings select, built once for every suite (a model loads once)."""
    llm, warning = build_llm(settings)
    if warning:
        logging.getLogger("realty").warning(warning)
    return llm


def sgd_settings(settings: Settings) -> Settings:
    """``settings`` as the US deployment SGD (a US dataset) runs in: US places win name ties,
    "$" is the dollar and the currency question offers dollars first. The rates are the
    packaged US ones: rates configured for another market do not apply to it."""
    return settings.model_copy(update={"home_country": SGD_HOME_COUNTRY, "exchange_rates": None})


class _Parsers:
    """One parser per market country, built when a suite first needs it (about a second)."""

    def __init__(self) -> None:
        self._built: dict[str, Parser] = {}

    def of(self, settings: Settings) -> Parser:
        """The parser of the market ``settings`` describe."""
        country = settings.market().country
        if country not in self._built:
            self._built[country] = Parser.build(country=country)
        return self._built[country]


def _alias(parser: Parser) -> Callable[[str], str | None]:
    def alias(name: str) -> str | None:
        city = parser.cities.gazetteer.resolve(name)
        return city.value if city is not None else None

    return alias


async def _run(
    report: EvalReport,
    *,
    settings: Settings,
    data_dir: Path,
    golden_dir: Path,
    limit: int | None,
    sgd_service: str | None,
    task: Callable[[str, int], Tick],
) -> None:
    parsers = _Parsers()
    llm = load_llm(settings)
    wanted = {report.suite} if report.suite != "all" else {"golden", "sgd", "star"}
    if "golden" in wanted:
        conversations = [c for _, c in load_dir(golden_dir)][:limit]
        service = _service(settings, parsers.of(settings), EVAL_DATE, llm)
        tick = task("golden", len(conversations))
        report.golden = await run_golden(service, conversations, tick=tick)
    if "sgd" in wanted:
        dialogues = load_dialogues(data_dir / SGD_FILE, limit, sgd_service)
        us = sgd_settings(settings)
        parser = parsers.of(us)
        service = _service(us, parser, BASE_DATE, llm)
        tick = task("sgd", len(dialogues))
        report.sgd = await run_sgd(service, dialogues, alias=_alias(parser), tick=tick)
    if "star" in wanted:
        rows = load_rows(data_dir / STAR_FILE, limit)
        service = _service(settings, parsers.of(settings), EVAL_DATE, llm)
        report.star = await run_star(service, rows, tick=task("star", len(rows)))


def run_eval(
    suite: Suite,
    *,
    settings: Settings,
    data_dir: Path,
    limit: int | None = None,
    sgd_service: str | None = None,
    every_turn: bool = False,
    report_path: Path | None = None,
    progress: bool = True,
    golden_dir: Path = DEFAULT_GOLDEN_DIR,
) -> EvalReport:
    """Run one suite (or all) and write its JSON report.

    Args:
        suite: ``golden``, ``sgd``, ``star`` or ``all``.
        settings: select the provider (``llm_provider``) and everything else.
        data_dir: the folder holding the SGD and STAR files.
        limit: at most this many conversations per suite (per service for SGD).
        sgd_service: score only this SGD service (``Homes_1`` or ``Homes_2``).
        every_turn: call the model on every turn (``llm_mode="every_turn"``).
        report_path: where to write the JSON report; default ``reports/eval-<suite>.json``.
        progress: show a progress bar on stderr.
        golden_dir: the folder of golden ``*.yaml`` conversations.

    Returns:
        The report; print ``report.table()``.
    """
    if every_turn:
        settings = settings.model_copy(update={"llm_mode": "every_turn"})
    report = EvalReport(suite=suite, provider=settings.llm_provider, mode=settings.llm_mode)
    started = time.perf_counter()
    with _progress(progress) as task:
        asyncio.run(
            _run(
                report,
                settings=settings,
                data_dir=data_dir,
                golden_dir=golden_dir,
                limit=limit,
                sgd_service=sgd_service,
                task=task,
            )
        )
    report.elapsed_s = time.perf_counter() - started
    report.write(report_path or Path("reports") / f"eval-{suite}.json")
    return report
