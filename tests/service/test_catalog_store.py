"""The catalog on SQLite and PostgreSQL: writes, medians, the matching search (checked
against the in-memory catalog), index use, and the match service over a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from realty.catalog.calibration import load_calibration
from realty.catalog.seed import CatalogSeeder
from realty.domain.brief import PROPERTY_KINDS, Area, Brief, Money, PropertyType, Slot
from realty.domain.listing import OFFERS, Listing
from realty.domain.market import Market
from realty.domain.matching import Search
from realty.parsing.places import load_zones
from realty.pipeline.parse import Parser
from realty.services.matching import MatchService, seed_if_empty
from realty.settings import Settings
from realty.store.engine import make_engine, upgrade
from realty.store.listings import MemoryCatalog, SqlCatalog, search_statements

MARKET = Market("MX", {"USD": 18.0, "EUR": 19.5}, dt.date(2026, 11, 30))
DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def listings(parser: Parser) -> list[Listing]:
    seeder = CatalogSeeder(
        load_calibration(), MARKET, parser.cities.gazetteer.resolve, load_zones()
    )
    return list(seeder.listings(3000, seed=11, today=DAY))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    made = make_engine(database_url, pool_size=2)
    yield made
    made.dispose()


@pytest.fixture
def catalog(engine: Engine) -> Iterator[SqlCatalog]:
    store = SqlCatalog(engine, MARKET, threads=2)
    yield store
    store.close()


def test_listings_round_trip_and_an_id_written_again_is_replaced(
    catalog: SqlCatalog, listings: list[Listing]
) -> None:
    assert catalog.add_now(listings[:50]) == 50
    first = listings[0]
    assert asyncio.run(catalog.get(first.id)) == first
    cheaper = first.model_copy(update={"price": first.price / 2})
    catalog.add_now([cheaper])
    assert catalog.count_now() == 50
    assert asyncio.run(catalog.get(first.id)) == cheaper
    assert asyncio.run(catalog.get("nope")) is None


def test_seed_if_empty_seeds_once(catalog: SqlCatalog, parser: Parser) -> None:
    seeder = CatalogSeeder(
        load_calibration(), MARKET, parser.cities.gazetteer.resolve, load_zones()
    )
    assert seed_if_empty(catalog, seeder, 200, today=DAY) == 200
    assert seed_if_empty(catalog, seeder, 200, today=DAY) == 0
    assert catalog.count_now() == 200


def test_medians_per_city_type_and_offer(catalog: SqlCatalog, listings: list[Listing]) -> None:
    catalog.add_now(listings)
    memory = MemoryCatalog(MARKET, listings)
    for kind in ("office", "warehouse", "retail"):
        for offer in OFFERS:
            for city, country in (("Mexico City", "MX"), ("Monterrey", "MX"), ("Houston", "US")):
                stored = asyncio.run(catalog.median_m2(kind, offer, city, country))
                expected = asyncio.run(memory.median_m2(kind, offer, city, country))
                if expected is None:
                    assert stored is None
                    continue
                assert stored is not None
                assert stored[1] == expected[1]
                assert stored[0] == pytest.approx(expected[0])
    assert asyncio.run(catalog.median_m2("office", "rent", "Atlantis", "MX")) is None


def test_the_sql_search_returns_what_the_memory_catalog_does(
    catalog: SqlCatalog, listings: list[Listing]
) -> None:
    """Random searches (city, nearby box, size and price ranges, several kinds, limits):
    the database returns the same listings, in the same order, as the list does."""
    catalog.add_now(listings)
    memory = MemoryCatalog(MARKET, listings)
    rng = random.Random(5)
    cities = {(x.city.value, x.city.country): x.city for x in listings}
    for _ in range(60):
        city = cities[rng.choice(sorted(cities))]
        size = rng.choice([None, 80.0, 300.0, 2000.0])
        search = Search(
            kinds=tuple(rng.sample(PROPERTY_KINDS, rng.choice([1, 1, 2]))),
            offer=rng.choice(OFFERS),
            city=city.value,
            country=city.country,
            lat=city.lat,
            lon=city.lon,
            radius_km=rng.choice([0.0, 40.0, 150.0]),
            size_min=size * 0.6 if size else None,
            size_max=size * 1.4 if size else None,
            max_price_norm=rng.choice([None, 5_000.0, 200_000.0, 5_000_000.0]),
            target_m2=size,
            limit=rng.choice([5, 300]),
        )
        stored = [x.id for x in catalog.search_now(search)]
        expected = [x.id for x in asyncio.run(memory.search(search))]
        assert stored == expected, search


def _plan(engine: Engine, statement: object) -> str:
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return " ".join(str(r[-1]) for r in rows)
        conn.execute(text("SET enable_seqscan = off"))
        return " ".join(str(r[0]) for r in conn.execute(text(f"EXPLAIN {compiled}")))


def test_every_search_part_is_served_by_an_index(
    catalog: SqlCatalog, engine: Engine, listings: list[Listing]
) -> None:
    catalog.add_now(listings)
    search = Search(
        kinds=("office",),
        offer="rent",
        city="Mexico City",
        country="MX",
        lat=19.43,
        lon=-99.13,
        radius_km=150,
        size_min=400,
        size_max=600,
        max_price_norm=25_000,
        target_m2=500,
        limit=300,
    )
    for statement in search_statements(search):
        plan = _plan(engine, statement)
        assert "ix_listings_" in plan
        # No full scan of the table (SQLite says SCAN, PostgreSQL Seq Scan).
        assert "SCAN listings" not in plan.replace("SCAN listings USING", "")
        assert "Seq Scan" not in plan


def test_the_match_service_over_the_database(
    catalog: SqlCatalog, listings: list[Listing], parser: Parser
) -> None:
    catalog.add_now(listings)
    registry = Settings().field_registry()
    on_sql = MatchService(catalog, MARKET, registry)
    in_memory = MatchService(MemoryCatalog(MARKET, listings), MARKET, registry)
    city = parser.cities.gazetteer.resolve("Mexico City")
    assert city is not None
    brief = Brief(
        slots={
            "property_type": Slot(value=PropertyType(value="office")),
            "city": Slot(value=city),
            "size": Slot(value=Area(m2=300)),
            "budget": Slot(value=Money(amount=8000, currency="USD", period="month")),
        }
    )
    found = asyncio.run(on_sql.matches(brief, limit=5))
    assert found.listings
    assert found.total >= len(found.listings)
    for match in found.listings:
        assert match.listing.property_type == "office"
        assert match.listing.offer == "rent"
        assert 240 <= match.listing.size_m2 <= 360
        assert MARKET.to_home(match.listing.price, match.listing.currency) <= 8000 * 18 * 1.05
        assert match.summary["en"].startswith("office in ")
        assert match.summary["es"].startswith("oficina en ")
    scores = [m.score for m in found.listings]
    assert scores == sorted(scores, reverse=True)
    same = asyncio.run(in_memory.matches(brief, limit=5))
    assert [m.listing.id for m in same.listings] == [m.listing.id for m in found.listings]
    assert found.market is not None
    assert found.market.check.budget is not None
    assert found.market.text["en"]
