"""The synthetic catalog: invented listings whose price levels follow public market figures.

Every listing is made up (``source: synthetic``); only the price levels, sizes and the mix of
types are calibrated (``realty/data/market_calibration.yaml`` names its sources). The same
seed and calibration give the same listings, in the same order, with the same ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from realty.catalog.calibration import Calibration, CityCalibration
from realty.domain.brief import City, PropertyKind
from realty.domain.listing import Amenities, Listing, Offer
from realty.domain.market import Market
from realty.errors import ConfigurationError
from realty.parsing.places import Zone
from realty.pipeline.templates import CITY_NAMES_ES, KIND_NAMES

DEFAULT_COUNT = 5000
SOURCE = "synthetic"
_ZONE_SHARE = 0.85  # listings of a metro with known zones placed in one of them
_KM_PER_DEGREE = 111.32
_POWER_KVA = (45.0, 75.0, 112.5, 150.0, 225.0, 300.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0)

Resolve = Callable[[str], City | None]


@dataclass(frozen=True, slots=True)
class _Place:
    city: City
    calibration: CityCalibration
    zones: tuple[str, ...]


def _round_significant(value: float, digits: int = 3) -> float:
    if value <= 0:
        return value
    exponent = math.floor(math.log10(value)) - digits + 1
    return float(round(value / 10**exponent) * 10**exponent)


def _round_size(m2: float) -> float:
    step = 1 if m2 < 100 else 5 if m2 < 1000 else 50
    return float(max(step, round(m2 / step) * step))


def _offset(name: str, radius_km: tuple[float, float]) -> tuple[float, float]:
    """A fixed bearing and distance for ``name`` (a zone's place in its city)."""
    digest = hashlib.sha256(name.encode()).digest()
    bearing = digest[0] / 255 * 2 * math.pi
    low, high = radius_km
    km = low + digest[1] / 255 * (high - low)
    return km * math.cos(bearing), km * math.sin(bearing)


def _move(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    dlat = north_km / _KM_PER_DEGREE
    dlon = east_km / (_KM_PER_DEGREE * max(0.1, math.cos(math.radians(lat))))
    return round(lat + dlat, 6), round(lon + dlon, 6)


class CatalogSeeder:
    """Generates the synthetic catalog.

    Args:
        calibration: Price levels, sizes and mix (see :mod:`realty.catalog.calibration`).
        market: The deployment's market: its country gets ``home_share`` of the listings and
            its rates convert prices quoted in dollars.
        resolve: The gazetteer's lookup of a city name (coordinates and state).
        zones: Neighbourhoods and submarkets by metro (``realty/data/zones.yaml``).

    Raises:
        ConfigurationError: a calibrated city is not in the gazetteer, or the market's
            country has no calibrated city.
    """

    def __init__(
        self,
        calibration: Calibration,
        market: Market,
        resolve: Resolve,
        zones: Sequence[Zone] = (),
    ) -> None:
        self._calibration = calibration
        self._market = market
        by_city: dict[tuple[str, str], list[str]] = {}
        for zone in zones:
            by_city.setdefault((zone.city, zone.country), []).append(zone.name)
        self._places: dict[str, list[_Place]] = {}
        for country, cities in calibration.cities.items():
            for name, city_calibration in cities.items():
                city = resolve(name)
                if city is None or city.country != country:
                    raise ConfigurationError(
                        f"market_calibration.yaml: {name} ({country}) is not in the gazetteer"
                    )
                zone_names = tuple(by_city.get((city.value, country), ()))
                self._places.setdefault(country, []).append(
                    _Place(city, city_calibration, zone_names)
                )
        if market.country not in self._places:
            raise ConfigurationError(f"market_calibration.yaml has no city in {market.country}")

    def listings(
        self, count: int = DEFAULT_COUNT, *, seed: int = 0, today: dt.date | None = None
    ) -> Iterator[Listing]:
        """``count`` listings for ``seed``; availability dates count from ``today`` (default
        2027-01-01, so that the seed alone fixes the catalog)."""
        rng = random.Random(seed)
        start = today or dt.date(2027, 1, 1)
        countries = sorted(self._places)
        home = self._market.country
        others = [c for c in countries if c != home]
        kinds = list(self._calibration.kinds)
        kind_weights = [self._calibration.kinds[k].share for k in kinds]
        for n in range(count):
            if not others or rng.random() < self._calibration.home_share:
                country = home
            else:
                country = rng.choice(others)
            places = self._places[country]
            place = rng.choices(places, weights=[p.calibration.weight for p in places])[0]
            kind = rng.choices(kinds, weights=kind_weights)[0]
            yield self._listing(rng, f"syn-{seed}-{n:06d}", country, place, kind, start)

    def _listing(
        self,
        rng: random.Random,
        listing_id: str,
        country: str,
        place: _Place,
        kind: PropertyKind,
        start: dt.date,
    ) -> Listing:
        sizes = self._calibration.kinds[kind]
        offer: Offer = "rent" if rng.random() < sizes.rent_share else "sale"
        m2 = math.exp(math.log(sizes.median_m2) + rng.gauss(0, sizes.spread))
        m2 = _round_size(min(sizes.max_m2, max(sizes.min_m2, m2)))
        base = self._calibration.countries[country].base[kind]
        per_m2 = base.per_m2(offer) * place.calibration.factor_for(kind)
        per_m2 *= math.exp(rng.gauss(0, self._calibration.price_spread))
        currency = self._calibration.countries[country].currency
        price = per_m2 * m2
        if currency != "USD" and rng.random() < base.usd_share:
            price, currency = self._market.convert(price, currency, "USD"), "USD"
        zone = None
        if place.zones and rng.random() < _ZONE_SHARE:
            zone = rng.choice(place.zones)
        lat, lon = self._where(rng, place.city, zone)
        available = None
        if rng.random() < 0.4:
            available = start + dt.timedelta(days=rng.randrange(15, 365, 15))
        return Listing(
            id=listing_id,
            property_type=kind,
            city=place.city,
            zone=zone,
            lat=lat,
            lon=lon,
            size_m2=m2,
            price=_round_significant(price),
            currency=currency,
            offer=offer,
            amenities=_amenities(rng, kind, m2),
            available_from=available,
            source=SOURCE,
            title=_title(kind, m2, place.city, zone, country),
        )

    @staticmethod
    def _where(rng: random.Random, city: City, zone: str | None) -> tuple[float, float]:
        lat, lon = city.lat, city.lon
        if zone is not None:
            north, east = _offset(f"{city.value}/{zone}", (2.0, 14.0))
            lat, lon = _move(lat, lon, north, east)
            return _move(lat, lon, rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))
        return _move(lat, lon, rng.uniform(-5.0, 5.0), rng.uniform(-5.0, 5.0))


def _title(kind: PropertyKind, m2: float, city: City, zone: str | None, country: str) -> str:
    if country == "MX":
        name = CITY_NAMES_ES.get(city.value, city.value)
        where = f"{zone}, {name}" if zone else name
        return f"{KIND_NAMES['es'][kind].capitalize()} de {m2:,.0f} m² en {where}"
    where = f"{zone}, {city.value}" if zone else city.value
    return f"{KIND_NAMES['en'][kind].capitalize()} of {m2:,.0f} m² in {where}"


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _amenities(rng: random.Random, kind: PropertyKind, m2: float) -> Amenities:
    """Amenities typical of the type and size (parking ~1 space per 35 m² of office, a dock
    per ~1,200 m² of warehouse…), each drawn independently."""
    found: dict[str, int | float | bool] = {}
    spread = rng.uniform(0.5, 1.5)
    if kind in ("office", "coworking", "medical", "mixed_use", "hotel", "retail", "other"):
        per_space = {"retail": 50.0, "hotel": 80.0, "other": 60.0}.get(kind, 35.0)
        found["parking_spaces"] = max(0, round(m2 / per_space * spread))
        found["elevator"] = m2 > 300 or _chance(rng, 0.4)
        found["security_24h"] = _chance(rng, 0.7)
        found["air_conditioning"] = _chance(rng, 0.6)
        found["furnished"] = kind == "coworking" or _chance(rng, 0.2)
    elif kind in ("warehouse", "industrial"):
        found["loading_docks"] = max(1, round(m2 / 1200 * spread))
        low, high = (7.0, 12.0) if kind == "warehouse" else (9.0, 14.0)
        found["ceiling_height"] = round(rng.uniform(low, high) * 2) / 2
        wanted = m2 * rng.uniform(0.05, 0.15)
        found["power_kva"] = min(_POWER_KVA, key=lambda p: abs(p - wanted))
        found["three_phase_power"] = _chance(rng, 0.9)
        found["security_24h"] = _chance(rng, 0.8)
        found["parking_spaces"] = max(2, round(m2 / 500 * spread))
    elif kind in ("apartment", "house"):
        bedrooms = max(1, min(6, round(m2 / 45 * spread)))
        found["bedrooms"] = bedrooms
        found["bathrooms"] = max(1, min(bedrooms + 1, round(bedrooms * rng.uniform(0.7, 1.3))))
        found["parking_spaces"] = rng.choice((0, 1, 1, 2, 2, 3))
        found["furnished"] = _chance(rng, 0.3)
        found["pets_allowed"] = _chance(rng, 0.5)
        found["security_24h"] = _chance(rng, 0.4 if kind == "apartment" else 0.2)
        if kind == "apartment":
            found["elevator"] = _chance(rng, 0.5)
    return Amenities.model_validate(found)
