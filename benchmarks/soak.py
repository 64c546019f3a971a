"""Soak run: many concurrent prospects for a few minutes against the real service.

Run: ``.venv/bin/python benchmarks/soak.py`` (``--help`` for the options).

The service (``realty.api.main``) runs in its own uvicorn process started the way ``realty
api`` starts it (parser only, rate limits and the purge loop off, as in ``api_load.py``),
over a fresh SQLite file and, unless ``--skip-postgres``, a fresh PostgreSQL database. Each
of ``--users`` simulated prospects loops until the time is up: open a conversation, send one
of the scripted conversations below turn by turn (English and Spanish, a correction, a
confirmation), read the conversation back, start again. Nothing is sent concurrently on one
conversation, as a real chat client does.

Per database the table reports requests, throughput, p50/p99 latency per request kind,
errors (target: 0) and the server's resident memory: after the warm-up, at the end, and the
slope of a line fitted through the samples taken every ``--sample`` seconds (target: flat —
a leak shows as a steady slope, a cache filling up as a step that levels off).

Exit status: 1 when any request failed, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from api_load import Server, _postgres_database, _realty_env, _serving

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².", "yes"),
    ("Busco una bodega en Monterrey", "unos 25 mil pesos al mes, 800 m2", "sí, correcto"),
    (
        "Hola! necesito un local comercial en Guadalajara de 120 m2",
        "presupuesto 35 mil al mes",
        "perdón, quise decir 45 mil",
        "sí",
    ),
    ("Looking for a warehouse in Houston, 20k sq ft, with 4 loading docks", "$18k a month"),
)


@dataclass
class Tally:
    """What one database's run measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retried: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    conversations: int = 0
    memory: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)

    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextlib.contextmanager
def _sampling(pid: int, every_s: float, tally: Tally, started: float) -> Iterator[None]:
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = _rss_mib(pid)
            if rss is not None:
                tally.memory.append((time.monotonic() - started, rss))
            stop.wait(every_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


async def _timed(
    tally: Tally, kind: str, request: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response | None:
    """One request, retried once after a transport failure (a keep-alive connection the
    server closed as it was reused), as clients do: every request here is safe to repeat
    (an Idempotency-Key, a client_message_id, or a read). Retries are counted apart."""
    started = time.perf_counter()
    try:
        try:
            response = await request()
        except httpx.TransportError:
            tally.retried[kind] += 1
            response = await request()
    except httpx.HTTPError as exc:
        tally.errors[f"{kind} {type(exc).__name__}"] += 1
        return None
    if response.status_code >= 300:
        tally.errors[f"{kind} {response.status_code}"] += 1
        return None
    tally.latencies[kind].append((time.perf_counter() - started) * 1000)
    return response


async def _prospect(client: httpx.AsyncClient, user: int, deadline: float, tally: Tally) -> None:
    round_ = 0
    while time.monotonic() < deadline:
        script = SCRIPTS[(user + round_) % len(SCRIPTS)]
        round_ += 1
        key = {"Idempotency-Key": uuid.uuid4().hex}
        opened = await _timed(
            tally, "start", partial(client.post, "/v1/conversations", json={}, headers=key)
        )
        if opened is None:
            continue
        data = opened.json()
        path = f"/v1/conversations/{data['id']}"
        headers = {"Authorization": f"Bearer {data['token']}"}
        for text in script:
            if time.monotonic() >= deadline:
                return
            body = {"text": text, "client_message_id": uuid.uuid4().hex}
            await _timed(
                tally,
                "message",
                partial(client.post, f"{path}/messages", json=body, headers=headers),
            )
        await _timed(tally, "read", partial(client.get, path, headers=headers))
        tally.conversations += 1


async def _soak(server: Server, args: argparse.Namespace) -> Tally:
    limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        warm = Tally()
        warm_deadline = time.monotonic() + args.warmup
        await asyncio.gather(
            *(_prospect(client, u, warm_deadline, warm) for u in range(args.users))
        )
        tally = Tally()
        started = time.monotonic()
        with _sampling(server.process.pid, args.sample, tally, started):
            deadline = started + args.duration
            await asyncio.gather(
                *(_prospect(client, u, deadline, tally) for u in range(args.users))
            )
        tally.memory.append((time.monotonic() - started, _rss_mib(server.process.pid) or 0.0))
    return tally


def _slope_mib_per_min(samples: Sequence[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return 0.0
    xs = [t / 60 for t, _ in samples]
    ys = [m for _, m in samples]
    return statistics.linear_regression(xs, ys).slope


def _percentile(values: Sequence[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _report(results: dict[str, Tally], duration: float) -> int:
    print(
        f"{'database':<11}{'requests':>9}{'req/s':>8}{'convs':>7}{'errors':>7}"
        f"{'msg p50':>9}{'msg p99':>9}{'start p99':>10}{'read p99':>9}"
        f"{'RSS start':>10}{'RSS end':>9}{'MiB/min':>9}"
    )
    failed = 0
    for name, tally in results.items():
        lat = tally.latencies
        errors = sum(tally.errors.values())
        failed += errors
        first = tally.memory[0][1] if tally.memory else float("nan")
        last = tally.memory[-1][1] if tally.memory else float("nan")
        print(
            f"{name:<11}{tally.requests():>9}{tally.requests() / duration:>8.1f}"
            f"{tally.conversations:>7}{errors:>7}"
            f"{_percentile(lat['message'], 50):>9.1f}{_percentile(lat['message'], 99):>9.1f}"
            f"{_percentile(lat['start'], 99):>10.1f}{_percentile(lat['read'], 99):>9.1f}"
            f"{first:>10.1f}{last:>9.1f}{_slope_mib_per_min(tally.memory):>9.2f}"
        )
        if errors:
            print(f"  {name} errors by request kind: {dict(tally.errors)}")
        if tally.retried:
            print(f"  {name} retried once after a transport error: {dict(tally.retried)}")
    print("latencies in ms (client side); RSS of the server process in MiB")
    return 1 if failed else 0


def _run(args: argparse.Namespace) -> int:
    results: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="realty-soak-") as raw, contextlib.ExitStack() as stack:
        tmp = Path(raw)
        targets = [("sqlite", f"sqlite:///{tmp / 'sqlite' / 'realty.db'}")]
        if not args.skip_postgres:
            url, _ = stack.enter_context(_postgres_database(args.postgres))
            targets.append(("postgresql", url))
        for name, url in targets:
            data_dir = tmp / name
            data_dir.mkdir()
            env = _realty_env(data_dir, url, args.redis)
            with _serving(
                name, "realty.api.main:app", env, tmp, factory=False, app_dir=None
            ) as server:
                results[name] = asyncio.run(_soak(server, args))
    return _report(results, args.duration)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=50, help="Concurrent prospects.")
    parser.add_argument("--duration", type=float, default=180.0, help="Measured seconds.")
    parser.add_argument("--warmup", type=float, default=10.0, help="Untimed seconds first.")
    parser.add_argument("--sample", type=float, default=5.0, help="Seconds between RSS samples.")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="Admin URL for PostgreSQL.")
    parser.add_argument("--skip-postgres", action="store_true", help="Only SQLite.")
    parser.add_argument("--redis", default=None, help="REDIS_URL for the server (optional).")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return _run(_arguments(argv))


if __name__ == "__main__":
    sys.exit(main())
