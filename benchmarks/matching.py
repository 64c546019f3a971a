"""Match latency over a large catalog, on SQLite and PostgreSQL: p50/p95 per database.

Run: ``.venv/bin/python benchmarks/matching.py [--listings 100000] [--briefs 300]
[--skip-postgres]``. Seeds that many synthetic listings into a fresh SQLite file and a fresh
PostgreSQL database (``REALTY_BENCH_POSTGRES_URL``, default the local server), then runs the
same realistic briefs through :class:`~realty.services.matching.MatchService` one after the
other: each match is the market check (two medians) plus the strict search, and, when
nothing fits, the four relaxations. ``cold`` reads the medians on every brief; ``warm`` reuses
them for five minutes, as the service does. Searches and results are never reused here (the
service reuses them for a minute): every brief is matched afresh. Target: p95 ≤ 50 ms.

Briefs are drawn from the catalog itself: a listing's city and type, its size ±30 %, a budget
of 0.7–1.4 × its price (in pesos or dollars, monthly for rent and total for sale), a fifth
without saying rent or buy, some with parking or docks or a zone, and one in ten with a budget
a third of the price, so that relaxation runs too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from realty.catalog.calibration import load_calibration
from realty.catalog.seed import CatalogSeeder
from realty.domain.brief import Area, Brief, Money, PropertyType, Scalar, Slot
from realty.domain.listing import Listing
from realty.domain.market import Market
from realty.parsing.places import Gazetteer, load_zones
from realty.services.matching import MatchService
from realty.settings import Settings
from realty.store.engine import make_engine, upgrade
from realty.store.listings import SqlCatalog

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_P95_MS = 50.0


@dataclass(frozen=True)
class Row:
    database: str
    mode: str
    load_s: float
    p50: float
    p95: float
    worst: float
    relaxed: float
    found: float


@contextlib.contextmanager
def _postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database, dropped afterwards (as benchmarks/api_load.py does)."""
    import psycopg

    name = f"realty_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _brief(rng: random.Random, listing: Listing, market: Market) -> Brief:
    slots = {
        "property_type": Slot(value=PropertyType(value=listing.property_type)),
        "city": Slot(value=listing.city),
        "size": Slot(value=Area(m2=round(listing.size_m2 * rng.uniform(0.7, 1.3)))),
    }
    price = market.to_home(listing.price, listing.currency)
    factor = 0.33 if rng.random() < 0.1 else rng.uniform(0.7, 1.4)
    currency = rng.choice(["MXN", "USD"]) if listing.city.country == "MX" else "USD"
    amount = round(market.convert(price * factor, market.home_currency, currency), -2)
    period = None
    if rng.random() > 0.2:
        period = "month" if listing.offer == "rent" else "total"
    slots["budget"] = Slot(value=Money(amount=amount, currency=currency, period=period))
    if rng.random() < 0.15:
        key = "loading_docks" if listing.property_type in ("warehouse", "industrial") else None
        slots[key or "parking_spaces"] = Slot(value=Scalar(kind="int", value=rng.randint(1, 8)))
    if listing.zone and rng.random() < 0.1:
        slots["zone"] = Slot(value=Scalar(kind="text", value=listing.zone))
    return Brief(slots=slots, language=rng.choice(["en", "es"]))


async def _measure(service: MatchService, briefs: Sequence[Brief]) -> tuple[list[float], int, int]:
    times: list[float] = []
    relaxed = found = 0
    for brief in briefs:
        start = time.perf_counter()
        result = await service.matches(brief, limit=10)
        times.append((time.perf_counter() - start) * 1000)
        relaxed += result.relaxations != ()
        found += bool(result.listings)
    return times, relaxed, found


def _percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, (q * len(ordered) + 99) // 100 - 1)]


def _run(
    name: str, url: str, items: list[Listing], briefs: Sequence[Brief], market: Market
) -> list[Row]:
    upgrade(url)
    engine = make_engine(url, pool_size=4)
    catalog = SqlCatalog(engine, market, threads=2)
    try:
        start = time.perf_counter()
        catalog.add_now(items)
        load_s = time.perf_counter() - start
        registry = Settings().field_registry()
        rows = []
        for mode, ttl in (("cold", 0.0), ("warm", 300.0)):
            service = MatchService(catalog, market, registry, median_ttl_s=ttl, search_ttl_s=0.0)
            asyncio.run(_measure(service, briefs[:20]))  # connections and caches warmed up
            times, relaxed, found = asyncio.run(_measure(service, briefs))
            rows.append(
                Row(
                    name,
                    mode,
                    load_s,
                    statistics.median(times),
                    _percentile(times, 95),
                    max(times),
                    relaxed / len(briefs),
                    found / len(briefs),
                )
            )
        return rows
    finally:
        catalog.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--briefs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    market = Settings().market()
    started = time.perf_counter()
    seeder = CatalogSeeder(load_calibration(), market, Gazetteer.load().resolve, load_zones())
    items = list(seeder.listings(args.listings, seed=args.seed))
    generated_s = time.perf_counter() - started
    rng = random.Random(args.seed)
    briefs = [_brief(rng, rng.choice(items), market) for _ in range(args.briefs)]
    print(f"{len(items):,} listings generated in {generated_s:.1f} s; {len(briefs)} briefs")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        rows += _run("sqlite", url, items, briefs, market)
    if not args.skip_postgres:
        admin = os.environ.get("REALTY_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        with _postgres_database(admin) as url:
            rows += _run("postgresql", url, items, briefs, market)

    print(
        f"\n| database | medians | load s | p50 ms | p95 ms | max ms | relaxed | with listings "
        f"| p95 ≤ {TARGET_P95_MS:.0f} ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        verdict = "met" if row.p95 <= TARGET_P95_MS else "missed"
        print(
            f"| {row.database} | {row.mode} | {row.load_s:.1f} | {row.p50:.1f} | {row.p95:.1f} "
            f"| {row.worst:.1f} | {row.relaxed:.0%} | {row.found:.0%} | {verdict} |"
        )


if __name__ == "__main__":
    main()
