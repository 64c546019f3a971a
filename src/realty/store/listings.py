"""The listing catalog: writes, lookups, the matching search and per-city medians.

:class:`SqlCatalog` keeps listings in the ``listings`` table (SQLite or PostgreSQL); every
condition of a :class:`~realty.domain.matching.Search` is served by an index (see
``tables.py``), and each part returns at most ``limit`` rows, nearest the wanted size first.
:class:`MemoryCatalog` does the same over a list, for the terminal and tests. Both convert
prices to the normalised column with the :class:`~realty.domain.market.Market` they are given.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

from sqlalchemy import and_, bindparam, func, not_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from realty.domain.brief import City, PropertyKind
from realty.domain.geo import bounding_box
from realty.domain.listing import AMENITY_KEYS, Amenities, Listing, Offer
from realty.domain.market import Market
from realty.domain.matching import NORMALISED_CURRENCY, Search
from realty.store.base import utcnow
from realty.store.tables import listings
from realty.store.workers import DatabaseWorkers

_P = ParamSpec("_P")
_T = TypeVar("_T")

_BATCH = 2000  # rows per INSERT statement group
_ANALYZE_AFTER = 1000  # a write this large refreshes the planner's statistics
_COLUMNS = [c.name for c in listings.c]


class Catalog(Protocol):
    """What matching needs from a catalog."""

    async def add(self, items: Sequence[Listing]) -> int:
        """Store ``items`` (an id already stored is replaced), all or none; returns how many."""
        ...

    async def count(self) -> int:
        """How many listings there are."""
        ...

    async def get(self, listing_id: str) -> Listing | None:
        """One listing, or ``None``."""
        ...

    async def search(self, search: Search) -> list[Listing]:
        """Listings passing ``search``'s coarse filter (same city first, then nearby)."""
        ...

    async def median_m2(
        self, kind: PropertyKind, offer: Offer, city: str, country: str
    ) -> tuple[float, int] | None:
        """The median normalised price per m² of a city's ``kind``/``offer`` and how many
        listings it is taken over (``None``: none)."""
        ...


def _row(listing: Listing, market: Market, now: dt.datetime) -> dict[str, Any]:
    price_usd = market.convert(listing.price, listing.currency, NORMALISED_CURRENCY)
    return {
        "id": listing.id,
        "property_type": listing.property_type,
        "offer": listing.offer,
        "country": listing.city.country,
        "city": listing.city.value,
        "admin1": listing.city.admin1,
        "city_lat": listing.city.lat,
        "city_lon": listing.city.lon,
        "zone": listing.zone,
        "lat": listing.lat,
        "lon": listing.lon,
        "size_m2": listing.size_m2,
        "price": listing.price,
        "currency": listing.currency,
        "price_usd": price_usd,
        "price_usd_m2": price_usd / listing.size_m2,
        "amenities": listing.amenities.model_dump(exclude_none=True),
        "available_from": listing.available_from,
        "source": listing.source,
        "title": listing.title,
        "created_at": now,
    }


def _listing(row: Mapping[Any, Any]) -> Listing:
    """A stored row as a listing. Rows were validated when written, so they are rebuilt
    without validating again: a search turns hundreds of them into listings."""
    available = row["available_from"]
    if isinstance(available, str):
        available = dt.date.fromisoformat(available)
    stated = row["amenities"] or {}
    amenities = Amenities.model_construct(**{k: stated.get(k) for k in AMENITY_KEYS})
    return Listing.model_construct(
        id=row["id"],
        property_type=row["property_type"],
        city=City.model_construct(
            value=row["city"],
            country=row["country"],
            lat=row["city_lat"],
            lon=row["city_lon"],
            admin1=row["admin1"],
        ),
        zone=row["zone"],
        lat=row["lat"],
        lon=row["lon"],
        size_m2=row["size_m2"],
        price=row["price"],
        currency=row["currency"],
        offer=row["offer"],
        amenities=amenities,
        available_from=available,
        source=row["source"],
        title=row["title"],
    )


# The market check's two reads, built once (a brief runs them for rent and for sale).
_GROUP = (
    listings.c.property_type == bindparam("b_kind"),
    listings.c.offer == bindparam("b_offer"),
    listings.c.country == bindparam("b_country"),
    listings.c.city == bindparam("b_city"),
)
_GROUP_COUNT = select(func.count()).select_from(listings).where(*_GROUP)
_GROUP_MIDDLE = (
    select(listings.c.price_usd_m2)
    .where(*_GROUP)
    .order_by(listings.c.price_usd_m2)
    .offset(bindparam("b_skip"))
    .limit(bindparam("b_take"))
)


def _upsert(dialect: str) -> Any:
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(listings)
    return statement.on_conflict_do_update(
        index_elements=[listings.c.id],
        set_={name: statement.excluded[name] for name in _COLUMNS if name != "id"},
    )


def _common(search: Search) -> list[Any]:
    c = listings.c
    where: list[Any] = [c.offer == search.offer]
    if len(search.kinds) == 1:
        where.append(c.property_type == search.kinds[0])
    else:
        where.append(c.property_type.in_(search.kinds))
    if search.size_min is not None:
        where.append(c.size_m2 >= search.size_min)
    if search.size_max is not None:
        where.append(c.size_m2 <= search.size_max)
    if search.max_price_norm is not None:
        where.append(c.price_usd <= search.max_price_norm)
    return where


def _ordered(query: Any, search: Search) -> Any:
    c = listings.c
    if search.target_m2 is not None:
        query = query.order_by(func.abs(c.size_m2 - search.target_m2), c.id)
    else:
        query = query.order_by(c.id)
    return query.limit(search.limit)


def search_statements(search: Search) -> list[Any]:
    """The SELECTs of ``search``: its city, then (with a radius) the box around it."""
    c = listings.c
    if not search.kinds:
        return []
    same = and_(c.country == search.country, c.city == search.city)
    statements = []
    if search.same_city:
        statements.append(_ordered(select(listings).where(same, *_common(search)), search))
    if search.radius_km > 0:
        lat_min, lat_max, lon_min, lon_max = bounding_box(search.lat, search.lon, search.radius_km)
        box = and_(c.lat.between(lat_min, lat_max), c.lon.between(lon_min, lon_max))
        statements.append(
            _ordered(select(listings).where(box, not_(same), *_common(search)), search)
        )
    return statements


class SqlCatalog(DatabaseWorkers):
    """The catalog in the ``listings`` table.

    Args:
        engine: An engine from :func:`realty.store.engine.make_engine` (not owned).
        market: Converts prices to the normalised column when listings are written.
        threads: Worker threads for database calls.
        timeout_s: Longest wait for one call (``None``: no bound).

    Every database failure surfaces as :class:`~realty.errors.StorageError`.
    """

    def __init__(
        self,
        engine: Engine,
        market: Market,
        *,
        threads: int = 4,
        timeout_s: float | None = None,
    ) -> None:
        super().__init__(threads, timeout_s, "realty-catalog")
        self._engine = engine
        self._market = market
        self._upsert = _upsert(engine.dialect.name)
        self._write_lock: Any = threading.Lock()

    # ---- writes -------------------------------------------------------------------------

    async def add(self, items: Sequence[Listing]) -> int:
        """Store ``items`` in one transaction (an id already stored is replaced)."""
        return await self._run("store the listings", self.add_now, items)

    def add_now(self, items: Iterable[Listing]) -> int:
        """:meth:`add`, in the calling thread (the command line, the start-up seed)."""
        now = utcnow()
        rows = [_row(item, self._market, now) for item in items]
        with self._write_lock, self._engine.begin() as conn:
            for start in range(0, len(rows), _BATCH):
                conn.execute(self._upsert, rows[start : start + _BATCH])
            if len(rows) >= _ANALYZE_AFTER:
                # Fresh statistics, so the planner picks the narrowest index from the start.
                conn.execute(text("ANALYZE listings"))
        return len(rows)

    def reprice_now(self) -> int:
        """Rewrite the normalised prices with the market's current rates; returns the rows."""
        c = listings.c
        changed = 0
        with self._write_lock, self._engine.begin() as conn:
            for currency in self._currencies(conn):
                rate = self._market.convert(1.0, currency, NORMALISED_CURRENCY)
                result = conn.execute(
                    update(listings)
                    .where(c.currency == currency)
                    .values(price_usd=c.price * rate, price_usd_m2=c.price * rate / c.size_m2)
                )
                changed += result.rowcount
        return changed

    @staticmethod
    def _currencies(conn: Connection) -> list[str]:
        return [str(v) for v in conn.execute(select(listings.c.currency).distinct()).scalars()]

    # ---- reads --------------------------------------------------------------------------

    async def count(self) -> int:
        """How many listings there are."""
        return await self._run("count the listings", self.count_now)

    def count_now(self) -> int:
        """:meth:`count`, in the calling thread."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(listings)).scalar_one())

    async def get(self, listing_id: str) -> Listing | None:
        """One listing, or ``None``."""

        def read() -> Listing | None:
            with self._engine.connect() as conn:
                row = (
                    conn.execute(select(listings).where(listings.c.id == listing_id))
                    .mappings()
                    .first()
                )
            return None if row is None else _listing(row)

        return await self._run("read the listing", read)

    async def search(self, search: Search) -> list[Listing]:
        """Listings passing ``search``'s coarse filter: its city's, then nearby ones."""
        return await self._run("search the catalog", self.search_now, search)

    def search_now(self, search: Search) -> list[Listing]:
        """:meth:`search`, in the calling thread."""
        out: list[Listing] = []
        with self._engine.connect() as conn:
            for statement in search_statements(search):
                out.extend(_listing(row) for row in conn.execute(statement).mappings())
        return out

    async def median_m2(
        self, kind: PropertyKind, offer: Offer, city: str, country: str
    ) -> tuple[float, int] | None:
        """The median normalised price per m² (an index range read twice: a count, then the
        middle row or two by offset)."""
        return await self._run("read prices", self.median_now, kind, offer, city, country)

    def median_now(
        self, kind: PropertyKind, offer: Offer, city: str, country: str
    ) -> tuple[float, int] | None:
        """:meth:`median_m2`, in the calling thread."""
        group = {"b_kind": kind, "b_offer": offer, "b_country": country, "b_city": city}
        with self._engine.connect() as conn:
            count = int(conn.execute(_GROUP_COUNT, group).scalar_one())
            if count == 0:
                return None
            middle = conn.execute(
                _GROUP_MIDDLE, {**group, "b_skip": (count - 1) // 2, "b_take": 2 - count % 2}
            ).scalars()
            values = [float(v) for v in middle]
        return sum(values) / len(values), count


class MemoryCatalog:
    """The catalog as a list, with the same coarse filter as :class:`SqlCatalog`."""

    def __init__(self, market: Market, items: Iterable[Listing] = ()) -> None:
        self._market = market
        self._items: dict[str, Listing] = {item.id: item for item in items}

    def _usd(self, listing: Listing) -> float:
        return self._market.convert(listing.price, listing.currency, NORMALISED_CURRENCY)

    async def add(self, items: Sequence[Listing]) -> int:
        """Store ``items`` (an id already stored is replaced)."""
        for item in items:
            self._items[item.id] = item
        return len(items)

    async def count(self) -> int:
        """How many listings there are."""
        return len(self._items)

    async def get(self, listing_id: str) -> Listing | None:
        """One listing, or ``None``."""
        return self._items.get(listing_id)

    async def search(self, search: Search) -> list[Listing]:
        """Listings passing ``search``'s coarse filter: its city's, then nearby ones."""
        out: list[Listing] = []
        if search.same_city:
            out = self._first([x for x in self._passing(search) if self._same(x, search)], search)
        if search.radius_km > 0:
            lat_min, lat_max, lon_min, lon_max = bounding_box(
                search.lat, search.lon, search.radius_km
            )
            near = [
                x
                for x in self._passing(search)
                if not self._same(x, search)
                and lat_min <= x.lat <= lat_max
                and lon_min <= x.lon <= lon_max
            ]
            out += self._first(near, search)
        return out

    @staticmethod
    def _same(listing: Listing, search: Search) -> bool:
        return (listing.city.value, listing.city.country) == (search.city, search.country)

    def _passing(self, search: Search) -> list[Listing]:
        return [
            x
            for x in self._items.values()
            if x.property_type in search.kinds
            and x.offer == search.offer
            and (search.size_min is None or x.size_m2 >= search.size_min)
            and (search.size_max is None or x.size_m2 <= search.size_max)
            and (search.max_price_norm is None or self._usd(x) <= search.max_price_norm)
        ]

    @staticmethod
    def _first(items: list[Listing], search: Search) -> list[Listing]:
        target = search.target_m2
        items.sort(key=lambda x: (abs(x.size_m2 - target) if target else 0.0, x.id))
        return items[: search.limit]

    async def median_m2(
        self, kind: PropertyKind, offer: Offer, city: str, country: str
    ) -> tuple[float, int] | None:
        """The median normalised price per m² of a city's ``kind``/``offer``."""
        values = sorted(
            self._usd(x) / x.size_m2
            for x in self._items.values()
            if x.property_type == kind
            and x.offer == offer
            and (x.city.value, x.city.country) == (city, country)
        )
        if not values:
            return None
        n = len(values)
        middle = values[(n - 1) // 2 : n // 2 + 1]
        return sum(middle) / len(middle), n
