"""HTTP load benchmark: turns per second of ``POST /v1/conversations/{id}/messages``.

Run: ``.venv/bin/python benchmarks/api_load.py`` (``--help`` for the options).

What is measured, all in one run on one machine with one load generator:

* ``sqlite`` and ``postgresql``: the real service (``realty.api.main:app``), each in its own
  uvicorn process started the way ``realty api`` starts it, with the ``none`` language-model
  provider (parser only), rate limits and the purge loop off, tracing off unless
  ``--otel-endpoint`` names a collector, over a fresh SQLite file and a fresh PostgreSQL
  database (created and dropped here).
* ``durable-sqlite`` and ``durable-postgresql``: the yardstick of a durable turn. A bare
  FastAPI app (``durable_app`` below: ``POST /write/{row}`` validating ``{"text": str}``)
  served by uvicorn the same way that, per request, runs one UPDATE of a row and one INSERT
  into a log in one transaction, the way the service's store writes (:class:`DurableWriter`):
  the project's engine factory with the service's settings (same driver and pool; on SQLite
  WAL and the same ``synchronous``), the same worker threads, statements built once. Each has
  its own fresh database. The service's ``vs durable`` ratio divides by the baseline on the
  same database.
* ``echo``: a bare FastAPI app (``echo_app`` below: ``POST /echo`` validating ``{"text": str}``
  with a pydantic model and returning it) served by uvicorn the same way — the ceiling any
  FastAPI endpoint can reach on this machine.

The load generator is a minimal asyncio HTTP/1.1 client (:class:`Connection`: one keep-alive
connection per concurrent worker), because a general-purpose client costs more CPU per
request than the echo server and would be what the echo row measures. Before the clock
starts, ``--conversations`` conversations are opened (and as many rows seeded for each
durable baseline) and every target gets an untimed warm-up. Each worker owns its own
conversations (never two requests in flight on one conversation or row) and walks them
round-robin; each conversation receives a fixed cycle of realistic English and Spanish
messages. The echo and durable targets receive the same texts. Targets run interleaved
(echo, durable-sqlite, sqlite, durable-postgresql, postgresql, echo, …) for ``--rounds``
rounds so machine noise hits them alike; the table shows the median per target, and ratios
are computed from those medians.

Per request the table reports client-side latency (p50/p99), errors (non-2xx or transport
failures), the CPU time of the server process (from ``/proc/<pid>/stat``), of the PostgreSQL
backends serving it, and of the load generator itself. The project's target is a throughput
of at least 0.5 of the durable baseline's on each database. The same target is also judged
by CPU per request (server process + database backends, the baseline's over ours), which
does not depend on the client: when the load generator spends more CPU per request than a
baseline's server does, the throughput verdict is reported as inconclusive.

Exit status: 1 when any request failed (the figures are then suspect), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fastapi
import httpx
import orjson
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, insert, update
from sqlalchemy.engine import Engine

from realty.api.app import SQLITE_THREADS
from realty.settings import Settings
from realty.store.engine import database_url, is_sqlite, make_engine
from realty.store.tables import UTCDateTime
from realty.store.workers import DatabaseWorkers

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 0.5
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
STARTUP_TIMEOUT_S = 120.0
REALTY_APP = "realty.api.main:app"
DURABLE = "durable-"  # the name prefix of the durable-write baselines
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# One conversation's cycle: a first brief, corrections, extras and confirmations, in both
# languages (a conversation may switch language, as prospects do).
MESSAGES = (
    "I need an office in Mexico City.",
    "I can spend 20,000 USD for 500m².",
    "we also need 10 parking spaces",
    "yes, that's right",
    "Busco una bodega en Monterrey de 1,200 m2",
    "mi presupuesto es de 80 mil pesos al mes",
    "también necesitamos andén de carga",
    "sí, es correcto",
    "actually make it Guadalajara, around 300 square meters",
    "no, mejor en Querétaro",
)


# ---- the echo app (served by uvicorn as ``api_load:echo_app``) ----


class EchoBody(BaseModel):
    """The echo endpoint's body."""

    text: str


echo_app = FastAPI(title="echo")


@echo_app.post("/echo")
async def echo(body: EchoBody) -> EchoBody:
    """Return the body as received."""
    return body


@echo_app.get("/healthz")
async def echo_healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


# ---- the durable-write app (served by uvicorn as ``api_load:durable_app``) ----

# One row per conversation-like key, and an append-only log beside it: the smallest durable
# turn (the service's load, parse and reply left out, its write kept).
_durable_metadata = MetaData()
_durable_rows = Table(
    "bench_rows",
    _durable_metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
_durable_log = Table(
    "bench_log",
    _durable_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("row_id", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
_DURABLE_BUMP = (
    update(_durable_rows)
    .where(_durable_rows.c.id == bindparam("b_id"))
    .values(version=_durable_rows.c.version + 1)
)
_DURABLE_APPEND = insert(_durable_log)


class DurableWriter(DatabaseWorkers):
    """The service store's way of writing, and nothing else: the project's engine (same
    driver, pool and SQLite pragmas), the same worker threads, the same in-process queue of
    SQLite writers, statements built once; one UPDATE and one INSERT per transaction."""

    def __init__(self, engine: Engine, threads: int, timeout_s: float) -> None:
        super().__init__(threads, timeout_s, "bench-db")
        self._engine = engine
        self._lock: Any = threading.Lock() if engine.dialect.name == "sqlite" else None

    def seed(self, rows: int) -> None:
        """Create the tables and ``rows`` rows."""
        now = dt.datetime.now(dt.UTC)
        _durable_metadata.create_all(self._engine)
        with self._engine.begin() as conn:
            conn.execute(
                insert(_durable_rows),
                [{"id": i, "version": 1, "text": "", "updated_at": now} for i in range(rows)],
            )

    async def write(self, row: int, text: str) -> None:
        """Bump ``row`` and append ``text`` to the log, in one transaction."""
        await self._run("write", self._write, row, text)

    def _write(self, row: int, text: str) -> None:
        now = dt.datetime.now(dt.UTC)
        with self._lock or contextlib.nullcontext(), self._engine.begin() as conn:
            bumped = conn.execute(_DURABLE_BUMP, {"b_id": row, "text": text, "updated_at": now})
            if bumped.rowcount != 1:
                raise LookupError(row)
            conn.execute(_DURABLE_APPEND, {"row_id": row, "text": text, "created_at": now})


def _durable_writer(settings: Settings) -> tuple[Engine, DurableWriter]:
    """The engine and worker threads ``realty api`` would build from ``settings``."""
    url = database_url(settings)
    engine = make_engine(
        url,
        pool_size=settings.db_pool_size,
        timeout_s=settings.db_timeout_s,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    threads = min(settings.db_pool_size, SQLITE_THREADS) if is_sqlite(url) else None
    return engine, DurableWriter(engine, threads or settings.db_pool_size, settings.db_timeout_s)


@contextlib.asynccontextmanager
async def _durable_lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine, writer = _durable_writer(Settings())
    try:
        await asyncio.to_thread(writer.seed, int(os.environ["BENCH_DURABLE_ROWS"]))
        app.state.writer = writer
        yield
    finally:
        writer.close()
        engine.dispose()


durable_app = FastAPI(title="durable", lifespan=_durable_lifespan)


@durable_app.post("/write/{row}")
async def durable_write(row: int, body: EchoBody, request: fastapi.Request) -> dict[str, int]:
    """One durable write of the body's text."""
    await request.app.state.writer.write(row, body.text)
    return {"row": row}


@durable_app.get("/healthz")
async def durable_healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


# ---- servers ----


@dataclass
class Server:
    """A uvicorn process serving one target."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database: str | None = None  # the PostgreSQL database name, for its backends' CPU time
    baseline: str | None = None  # the durable-write target a service target is judged against


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _uvicorn_command(app: str, port: int, *, factory: bool, app_dir: Path | None) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--ws", "websockets-sansio", "--log-level", "warning"]
    if factory:
        command.append("--factory")
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    return command


def _realty_env(data_dir: Path, database_url: str, args: argparse.Namespace) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REALTY_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        REALTY_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        REALTY_LLM_PROVIDER="none",
        REALTY_RATE_LIMIT_MESSAGES="0",
        REALTY_RATE_LIMIT_CONVERSATIONS="0",
        REALTY_RATE_LIMIT_CLIENT_MESSAGES="0",
        REALTY_RATE_LIMIT_WEBSOCKETS="0",
        REALTY_PURGE_INTERVAL_S="0",
    )
    if args.redis_url is not None:
        env["REDIS_URL"] = args.redis_url
    if args.otel_endpoint is not None:
        env["REALTY_OTEL_ENDPOINT"] = args.otel_endpoint
    return env


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=HERE.parent
        )


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{server.name} server did not become ready:\n{tail}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=15)


@contextlib.contextmanager
def _serving(
    name: str, app: str, env: dict[str, str], logs: Path, *, factory: bool, app_dir: Path | None
) -> Iterator[Server]:
    port = _free_port()
    log = logs / f"{name}.log"
    process = _spawn(_uvicorn_command(app, port, factory=factory, app_dir=app_dir), env, log)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(server)


@contextlib.contextmanager
def _postgres_database(admin_url: str) -> Iterator[tuple[str, str]]:
    """A fresh database: yields its URL and name; dropped afterwards."""
    import psycopg

    name = f"realty_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}", name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- CPU accounting ----


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process, or ``None`` when unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _backend_pids(admin_url: str, database: str) -> list[int]:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [int(row[0]) for row in rows]


@dataclass
class CpuMeter:
    """CPU seconds spent by the server (and its PostgreSQL backends) over an interval."""

    server: Server
    admin_url: str
    _start: dict[int, float] = field(default_factory=dict)

    def _pids(self) -> list[int]:
        pids = [self.server.process.pid]
        if self.server.database is not None:
            pids += _backend_pids(self.admin_url, self.server.database)
        return pids

    def _read(self) -> dict[int, float]:
        return {pid: cpu for pid in self._pids() if (cpu := _cpu_s(pid)) is not None}

    def start(self) -> None:
        """Start the interval."""
        self._start = self._read()

    def stop(self) -> tuple[float | None, float | None]:
        """Server and database CPU seconds since :meth:`start`.

        A backend that appeared during the interval counts from zero; one that ended is lost.
        """
        end = self._read()
        pid = self.server.process.pid
        server = end[pid] - self._start[pid] if pid in end and pid in self._start else None
        if self.server.database is None:
            return server, None
        backends = sum(cpu - self._start.get(p, 0.0) for p, cpu in end.items() if p != pid)
        return server, backends


# ---- load generation ----

# One request: (path, JSON body, headers).
Request = tuple[str, dict[str, Any], dict[str, str]]
Plan = Callable[[int], Iterator[Request]]  # worker number → its endless request stream


@dataclass
class Sample:
    """One timed phase against one target."""

    target: str
    completed: int
    errors: int
    wall_s: float
    latencies_ms: list[float]
    statuses: Counter[str]
    server_cpu_s: float | None = None
    db_cpu_s: float | None = None
    client_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.completed / self.wall_s if self.wall_s else 0.0

    def percentile(self, q: int) -> float:
        """The ``q``-th percentile latency in milliseconds."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    def per_request_ms(self, seconds: float | None) -> float | None:
        """``seconds`` of CPU per completed request, in milliseconds."""
        if seconds is None or not self.completed:
            return None
        return seconds * 1000 / self.completed


@dataclass
class Budget:
    """When a phase ends: after ``seconds`` or after ``requests`` requests."""

    seconds: float | None
    requests: int | None

    def take(self, counter: Iterator[int], deadline: float) -> bool:
        """Whether one more request may start."""
        if self.requests is not None:
            return next(counter) < self.requests
        return time.perf_counter() < deadline


class Connection:
    """One keep-alive HTTP/1.1 connection that speaks just enough HTTP for JSON POSTs.

    A general-purpose client spends several times the CPU of a small FastAPI endpoint per
    request; on a shared machine it would then be what the echo row measures. This one costs
    a few tens of microseconds, so the servers are what the table compares.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect."""
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)

    async def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        """Send one POST and read the whole response; returns its status."""
        if self._reader is None or self._writer is None:
            raise OSError("not connected")
        payload = orjson.dumps(body)
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self._host}:{self._port}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        status = int((await self._reader.readline()).split()[1])
        length, chunked = 0, False
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if chunked:
            while size := int((await self._reader.readline()).strip(), 16):
                await self._reader.readexactly(size + 2)
            await self._reader.readline()
        else:
            await self._reader.readexactly(length)
        return status

    async def close(self) -> None:
        """Disconnect."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


async def _worker(
    connection: Connection,
    requests: Iterator[Request],
    budget: Budget,
    counter: Iterator[int],
    deadline: float,
    sample: Sample,
) -> None:
    while budget.take(counter, deadline):
        path, body, headers = next(requests)
        started = time.perf_counter()
        try:
            code = await connection.post(path, body, headers)
            status, ok = str(code), 200 <= code < 300
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            status, ok = type(exc).__name__, False
            await connection.close()
            await connection.open()
        sample.latencies_ms.append((time.perf_counter() - started) * 1000)
        sample.completed += ok
        sample.errors += not ok
        sample.statuses[status] += 1


async def _load(target: str, url: str, plan: Plan, concurrency: int, budget: Budget) -> Sample:
    sample = Sample(target, 0, 0, 0.0, [], Counter())
    counter = itertools.count()
    connections = [Connection(url) for _ in range(concurrency)]
    await asyncio.gather(*(c.open() for c in connections))
    try:
        started = time.perf_counter()
        deadline = started + (budget.seconds or 0.0)
        workers = [
            _worker(connections[w], plan(w), budget, counter, deadline, sample)
            for w in range(concurrency)
        ]
        await asyncio.gather(*workers)
        sample.wall_s = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    return sample


# ---- targets ----


@dataclass(frozen=True)
class Conversation:
    """An open conversation: its messages path and its Authorization header."""

    path: str
    headers: dict[str, str]


async def _open_conversations(client: httpx.AsyncClient, count: int) -> list[Conversation]:
    async def one() -> Conversation:
        response = await client.post("/v1/conversations", json={})
        response.raise_for_status()
        data = response.json()
        return Conversation(
            f"/v1/conversations/{data['id']}/messages",
            {"Authorization": f"Bearer {data['token']}"},
        )

    return list(await asyncio.gather(*(one() for _ in range(count))))


def _conversation_plan(conversations: Sequence[Conversation], concurrency: int) -> Plan:
    """Worker ``w`` owns conversations ``w, w + concurrency, …`` and walks them in turn;
    each conversation gets the message cycle in order."""

    def plan(worker: int) -> Iterator[Request]:
        owned = conversations[worker::concurrency]
        sent = [0] * len(owned)
        for index in itertools.cycle(range(len(owned))):
            text = MESSAGES[sent[index] % len(MESSAGES)]
            sent[index] += 1
            yield owned[index].path, {"text": text}, owned[index].headers

    return plan


def _durable_plan(rows: int, concurrency: int) -> Plan:
    """Like :func:`_conversation_plan`: worker ``w`` owns rows ``w, w + concurrency, …``."""

    def plan(worker: int) -> Iterator[Request]:
        owned = range(worker, rows, concurrency)
        for step, row in enumerate(itertools.cycle(owned)):
            yield f"/write/{row}", {"text": MESSAGES[step % len(MESSAGES)]}, {}

    return plan


def _echo_plan() -> Plan:
    def plan(worker: int) -> Iterator[Request]:
        for text in itertools.cycle(MESSAGES[worker % len(MESSAGES) :] + MESSAGES):
            yield "/echo", {"text": text}, {}

    return plan


@dataclass
class Target:
    """A running server, its client and what to send it."""

    server: Server
    client: httpx.AsyncClient
    plan: Plan
    cpu: CpuMeter


async def _measure(target: Target, concurrency: int, budget: Budget) -> Sample:
    target.cpu.start()
    client_start = time.process_time()
    sample = await _load(target.server.name, target.server.url, target.plan, concurrency, budget)
    sample.client_cpu_s = time.process_time() - client_start
    sample.server_cpu_s, sample.db_cpu_s = target.cpu.stop()
    return sample


# ---- output ----

HEADER = (
    f"{'target':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs echo':>8} "
    f"{'vs durable':>10} {'srv cpu':>8} {'db cpu':>7} {'cli cpu':>8}"
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _row(
    name: str,
    figures: tuple[float, float, float, int],
    ratios: tuple[float | None, float | None],
    cpu: tuple[float | None, float | None, float | None],
) -> str:
    rps, p50, p99, errors = figures
    server, db, client = cpu
    return (
        f"{name:<22} {rps:>8.1f} {p50:>8.2f} {p99:>8.2f} {errors:>7d} {_ratio(ratios[0]):>8} "
        f"{_ratio(ratios[1]):>10} {_ms(server):>8} {_ms(db):>7} {_ms(client):>8}"
    )


def _over(rps: float, of: float | None) -> float | None:
    return rps / of if of else None


def _sample_row(sample: Sample, baseline: str | None, rps: dict[str, float]) -> str:
    """One round's row; ``rps`` holds the round's throughput of the targets already run."""
    ratios = (
        _over(sample.rps, rps.get("echo")),
        _over(sample.rps, rps.get(baseline or "")),
    )
    cpu = (
        sample.per_request_ms(sample.server_cpu_s),
        sample.per_request_ms(sample.db_cpu_s),
        sample.per_request_ms(sample.client_cpu_s),
    )
    figures = (sample.rps, sample.percentile(50), sample.percentile(99), sample.errors)
    return _row(sample.target, figures, ratios, cpu)


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True)
class Summary:
    """The median of one target's rounds."""

    name: str
    rps: float
    p50: float
    p99: float
    errors: int
    cpu: tuple[float | None, float | None, float | None]
    statuses: Counter[str]
    baseline: str | None

    @property
    def work_ms(self) -> float | None:
        """Server plus database CPU per request."""
        return None if self.cpu[0] is None else self.cpu[0] + (self.cpu[1] or 0.0)


def _summarise(server: Server, samples: list[Sample]) -> Summary:
    statuses: Counter[str] = Counter()
    for s in samples:
        statuses.update(s.statuses)
    cpu = (
        _median_or_none([s.per_request_ms(s.server_cpu_s) for s in samples]),
        _median_or_none([s.per_request_ms(s.db_cpu_s) for s in samples]),
        _median_or_none([s.per_request_ms(s.client_cpu_s) for s in samples]),
    )
    return Summary(
        server.name,
        statistics.median(s.rps for s in samples),
        statistics.median(s.percentile(50) for s in samples),
        statistics.median(s.percentile(99) for s in samples),
        sum(s.errors for s in samples),
        cpu,
        statuses,
        server.baseline,
    )


def _report(
    servers: list[Server], results: dict[str, list[Sample]], args: argparse.Namespace
) -> int:
    """Print the summary table; returns the number of failed requests."""
    summaries = {s.name: _summarise(s, results[s.name]) for s in servers}
    echo = summaries["echo"]
    budget = f"{args.requests} requests" if args.requests else f"{args.duration:g} s"
    print(
        f"\nmedian of {args.rounds} round(s), concurrency {args.concurrency}, {budget} per target "
        f"per round, {args.conversations} conversations; CPU columns are ms per request"
    )
    print(HEADER)
    for s in summaries.values():
        base = summaries[s.baseline].rps if s.baseline else None
        figures = (s.rps, s.p50, s.p99, s.errors)
        print(_row(s.name, figures, (_over(s.rps, echo.rps), _over(s.rps, base)), s.cpu))
    judged = [(s, summaries[s.baseline]) for s in summaries.values() if s.baseline]
    print(_verdict(judged))
    print(_cpu_verdict(judged))
    for s in summaries.values():
        if s.errors:
            print(f"{s.name} errors by status: {dict(s.statuses)}")
    for s in summaries.values():
        if _client_bound(s) and not s.baseline:
            print(
                f"note: the load generator spent {s.cpu[2]:.2f} ms CPU per {s.name} request and "
                f"the {s.name} server {s.cpu[0]:.2f} ms, so the {s.name} row measures the client; "
                "ratios to it overstate ours and the CPU ratio is the one to read"
            )
    return sum(s.errors for s in summaries.values())


def _client_bound(baseline: Summary) -> bool:
    """Whether the client costs more CPU per request than the server does: sharing the
    machine's cores, it then saturates first and caps the throughput."""
    client, server = baseline.cpu[2], baseline.cpu[0]
    return client is not None and server is not None and client > server


def _met(ratio: float, errors: int) -> str:
    return "met" if ratio >= TARGET_RATIO and errors == 0 else "NOT met"


def _verdict(judged: list[tuple[Summary, Summary]]) -> str:
    verdicts = []
    for ours, base in judged:
        ratio = ours.rps / base.rps if base.rps else 0.0
        bound = _client_bound(base)
        shown = f"inconclusive: {base.name} was client-bound" if bound else _met(ratio, ours.errors)
        verdicts.append(f"{ours.name} {ratio:.2f} ({shown})")
    return f"target, throughput ≥ {TARGET_RATIO:.2f} × the durable write: " + ", ".join(verdicts)


def _cpu_verdict(judged: list[tuple[Summary, Summary]]) -> str:
    """The durable write's CPU per request over ours (server process + database each): the
    throughput ratio both would reach with a free core each and an unlimited client."""
    verdicts = []
    for ours, base in judged:
        if ours.work_ms is None or base.work_ms is None:
            continue
        ratio = base.work_ms / ours.work_ms
        verdicts.append(f"{ours.name} {ratio:.3f} ({_met(ratio, ours.errors)})")
    return "same target by server + database CPU per request, durable ÷ ours: " + ", ".join(
        verdicts
    )


# ---- orchestration ----


def _client(url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0)


async def _prepare(
    servers: list[Server], args: argparse.Namespace, stack: contextlib.AsyncExitStack
) -> list[Target]:
    targets = []
    for server in servers:
        client = await stack.enter_async_context(_client(server.url, args.concurrency))
        if server.name == "echo":
            plan = _echo_plan()
        elif server.name.startswith(DURABLE):
            plan = _durable_plan(args.conversations, args.concurrency)
        else:
            conversations = await _open_conversations(client, args.conversations)
            plan = _conversation_plan(conversations, args.concurrency)
        targets.append(Target(server, client, plan, CpuMeter(server, args.postgres_url)))
    return targets


async def _bench(servers: list[Server], args: argparse.Namespace) -> dict[str, list[Sample]]:
    budget = Budget(None if args.requests else args.duration, args.requests)
    warmup = Budget(args.warmup, None)
    results: dict[str, list[Sample]] = {s.name: [] for s in servers}
    async with contextlib.AsyncExitStack() as stack:
        targets = await _prepare(servers, args, stack)
        for target in targets:
            await _load(
                target.server.name, target.server.url, target.plan, args.concurrency, warmup
            )
        print(HEADER)
        for round_ in range(1, args.rounds + 1):
            rps: dict[str, float] = {}
            for target in targets:
                sample = await _measure(target, args.concurrency, budget)
                results[sample.target].append(sample)
                rps[sample.target] = sample.rps
                row = _sample_row(sample, target.server.baseline, rps)
                print(row, f"  (round {round_})", flush=True)
    return results


def _durable(
    name: str, env: dict[str, str], args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path
) -> Server:
    env = {**env, "BENCH_DURABLE_ROWS": str(args.conversations)}
    return stack.enter_context(
        _serving(name, "api_load:durable_app", env, tmp, factory=False, app_dir=HERE)
    )


def _sqlite_pair(
    name: str, args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path, synchronous: str
) -> list[Server]:
    """A durable-write baseline and the service, each on a fresh SQLite file."""
    pair: list[Server] = []
    for target in (f"{DURABLE}{name}", name):
        env = _realty_env(tmp / target, f"sqlite:///{tmp / target / 'bench.db'}", args)
        env["REALTY_SQLITE_SYNCHRONOUS"] = synchronous
        if target.startswith(DURABLE):
            pair.append(_durable(target, env, args, stack, tmp))
        else:
            server = stack.enter_context(
                _serving(target, REALTY_APP, env, tmp, factory=True, app_dir=None)
            )
            server.baseline = pair[0].name
            pair.append(server)
    return pair


def _postgres_pair(
    args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path
) -> list[Server]:
    """A durable-write baseline and the service, each on a fresh PostgreSQL database."""
    pair: list[Server] = []
    for target in (f"{DURABLE}postgresql", "postgresql"):
        url, database = stack.enter_context(_postgres_database(args.postgres_url))
        env = _realty_env(tmp / target, url, args)
        if target.startswith(DURABLE):
            server = _durable(target, env, args, stack, tmp)
        else:
            server = stack.enter_context(
                _serving(target, REALTY_APP, env, tmp, factory=True, app_dir=None)
            )
            server.baseline = pair[0].name
        server.database = database
        pair.append(server)
    return pair


def _start_servers(
    args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path
) -> list[Server]:
    echo_env = dict(os.environ)
    servers = [
        stack.enter_context(
            _serving("echo", "api_load:echo_app", echo_env, tmp, factory=False, app_dir=HERE)
        )
    ]
    servers += _sqlite_pair("sqlite", args, stack, tmp, "NORMAL")
    if args.sqlite_full:
        servers += _sqlite_pair("sqlite-full", args, stack, tmp, "FULL")
    if not args.skip_postgres:
        servers += _postgres_pair(args, stack, tmp)
    return servers


def _run(args: argparse.Namespace) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="realty-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        print("starting servers…", flush=True)
        servers = _start_servers(args, stack, Path(tmp))
        results = _run_loop(_bench(servers, args))
        return _report(servers, results, args)


def _run_loop(
    coroutine: Coroutine[Any, Any, dict[str, list[Sample]]],
) -> dict[str, list[Sample]]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load-test POST /v1/conversations/{id}/messages against a bare FastAPI "
        "endpoint doing one durable write (UPDATE + INSERT, one transaction) on the same "
        "database, and against a bare FastAPI echo.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--concurrency", type=int, default=16, help="Requests in flight.")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="Seconds per target per round."
    )
    parser.add_argument(
        "--requests", type=int, default=None, help="Requests per target per round (instead)."
    )
    parser.add_argument("--rounds", type=int, default=2, help="Interleaved rounds.")
    parser.add_argument("--warmup", type=float, default=2.0, help="Untimed seconds per target.")
    parser.add_argument(
        "--conversations",
        type=int,
        default=64,
        help="Conversations opened per service target (rows seeded per durable baseline).",
    )
    parser.add_argument(
        "--skip-postgres", action="store_true", help="Only echo and the SQLite targets."
    )
    parser.add_argument(
        "--sqlite-full",
        action="store_true",
        help="Also SQLite with REALTY_SQLITE_SYNCHRONOUS=FULL (an fsync per commit), service "
        "and durable baseline.",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="Admin URL; a fresh database is created next to it and dropped.",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="Redis for the service (unset: in-process).",
    )
    parser.add_argument(
        "--otel-endpoint",
        default=None,
        help="Trace the service to this OTLP/HTTP traces URL (REALTY_OTEL_ENDPOINT; unset: "
        "tracing off, as by default).",
    )
    args = parser.parse_args(argv)
    if args.conversations < args.concurrency:
        parser.error("--conversations must be at least --concurrency")
    if args.concurrency < 1 or args.rounds < 1:
        parser.error("--concurrency and --rounds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when any request failed (the figures are then suspect).

    Missing the throughput target is reported, not an error.
    """
    return 1 if _run(_arguments(argv)) else 0


if __name__ == "__main__":
    sys.exit(main())
