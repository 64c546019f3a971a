"""Matching a brief against listings: what the brief asks (:class:`Want`), the bounds a listing
must fall within (:class:`Bounds`), how well one fits (:func:`assess`), and the one-at-a-time
relaxations tried when nothing fits. Pure: no I/O.

The database does the heavy lifting with :class:`Search` (type, offer, city or a box around
it, size range and a price ceiling on a normalised column, all served by indexes); the few
hundred rows it returns are checked here exactly (current exchange rates, the real distance)
and ranked. Reasons are facts (:data:`Fact`), put into words elsewhere in either language.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import (
    Area,
    Brief,
    City,
    Language,
    Modality,
    Money,
    PropertyKind,
    PropertyType,
    Scalar,
)
from realty.domain.geo import haversine_km
from realty.domain.listing import AMENITY_KEYS, Listing, Offer
from realty.domain.market import Market, UnknownCurrencyError

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_T = TypeVar("_T")

# The currency of the catalog's normalised price column (rents per month, sales in total).
NORMALISED_CURRENCY = "USD"

OfferSource = Literal["modality", "period", "assumed"]
Relax = Literal["size", "budget", "nearby", "type"]
RELAXATIONS: tuple[Relax, ...] = get_args(Relax)
Wanted = int | float | bool


class Policy(BaseModel):
    """The tolerances of matching (defaults in ``realty/data/matching.yaml``).

    Attributes:
        size_tolerance: A listing's size may differ from the wanted size by this share.
        budget_tolerance: A price may exceed the budget by this share.
        near_km: Other cities within this distance of the wanted city are searched too.
        relaxed_size_tolerance: The size tolerance when size is relaxed.
        relaxed_budget: The extra share of budget when the budget is relaxed.
        relaxed_near_km: The radius when the place is relaxed.
        neighbours: Kinds tried when the type is relaxed (warehouse → industrial).
        candidates: At most this many rows per database query.
        slack: Margin on the normalised price ceiling, so listings written at older rates
            still reach the exact check.
        low_ratio: A budget under this share of the local median × size is low.
        high_ratio: A budget over this share of it is high.
        offer_doubt_ratio: An amount this many times the expected rent (or this share of the
            expected sale price) reads as the other offer.
    """

    model_config = _FROZEN

    size_tolerance: float = Field(default=0.20, gt=0, lt=1)
    budget_tolerance: float = Field(default=0.05, ge=0, lt=1)
    near_km: float = Field(default=40.0, ge=0, le=1000)
    relaxed_size_tolerance: float = Field(default=0.45, gt=0, lt=1)
    relaxed_budget: float = Field(default=0.15, gt=0, lt=5)
    relaxed_near_km: float = Field(default=150.0, ge=0, le=2000)
    neighbours: Mapping[PropertyKind, tuple[PropertyKind, ...]] = Field(default_factory=dict)
    candidates: int = Field(default=300, ge=1, le=10_000)
    slack: float = Field(default=0.10, ge=0, lt=1)
    low_ratio: float = Field(default=0.6, gt=0, lt=1)
    high_ratio: float = Field(default=1.6, gt=1)
    offer_doubt_ratio: float = Field(default=6.0, gt=1)


class Want(BaseModel):
    """What a brief asks, normalised for matching.

    ``budget`` is in ``budget_currency`` as the prospect said it; ``budget_home`` the same in
    the market's home currency (``None`` without a budget, or when its currency has no rate:
    ``budget_ignored`` then says why). ``offer`` is rent for a monthly budget, sale for a
    total one; ``offer_source`` says whether the prospect said so (``modality``: rent/buy,
    ``period``: a month or a total) or it is ``assumed``.
    """

    model_config = _FROZEN

    kind: PropertyKind
    city: City
    zone: str | None = None
    offer: Offer = "rent"
    offer_source: OfferSource = "assumed"
    size_m2: float | None = None
    size_min: float | None = None
    size_max: float | None = None
    budget: float | None = None
    budget_currency: str | None = None
    budget_home: float | None = None
    budget_ignored: Literal["currency"] | None = None
    extras: Mapping[str, Wanted] = Field(default_factory=dict)
    language: Language = "en"

    def with_offer(self, offer: Offer, source: OfferSource) -> Want:
        """A copy searching ``offer``."""
        return self.model_copy(update={"offer": offer, "offer_source": source})


class Unmatchable(BaseModel):
    """A brief that cannot be matched yet: ``missing`` names the fields it lacks."""

    model_config = _FROZEN

    missing: tuple[str, ...]


def want_of(
    brief: Brief, market: Market, *, modality: Modality | None = None
) -> Want | Unmatchable:
    """What ``brief`` asks (``modality`` is rent/buy said before any budget, if any).

    A brief needs a property type and a city; size and budget narrow the search when known.
    """
    kind = _value(brief, "property_type", PropertyType)
    city = _value(brief, "city", City)
    missing = tuple(k for k, v in (("property_type", kind), ("city", city)) if v is None)
    if kind is None or city is None:
        return Unmatchable(missing=missing)
    area = _value(brief, "size", Area)
    money = _value(brief, "budget", Money)
    zone = _value(brief, "zone", Scalar)
    offer, source = _offer(money, modality)
    budget = dict(_budget(money, market))
    return Want(
        kind=kind.value,
        city=city,
        zone=str(zone.value) if zone is not None and zone.kind == "text" else None,
        offer=offer,
        offer_source=source,
        size_m2=_target_m2(area),
        size_min=area.min_m2 if area else None,
        size_max=area.max_m2 if area else None,
        extras=_extras(brief),
        language=brief.language,
        **budget,
    )


def _target_m2(area: Area | None) -> float | None:
    """The size a search aims at: the middle of a range ("60 to 80 m²" aims at 70, so a
    listing of 68 m² is 3 % off, not 13 %), else the size said."""
    if area is None:
        return None
    if area.min_m2 is not None and area.max_m2 is not None:
        return (area.min_m2 + area.max_m2) / 2
    return area.m2


def _value(brief: Brief, key: str, cls: type[_T]) -> _T | None:
    slot = brief.get(key)
    if slot is None or slot.meta.status == "invalid" or not isinstance(slot.value, cls):
        return None
    return slot.value


def _offer(money: Money | None, modality: Modality | None) -> tuple[Offer, OfferSource]:
    said = (money.modality if money else None) or modality
    if said is not None:
        return ("sale" if said == "buy" else "rent"), "modality"
    period = money.period if money else None
    if period is not None:
        return ("rent" if period == "month" else "sale"), "period"
    return "rent", "assumed"


def _budget(money: Money | None, market: Market) -> Iterable[tuple[str, object]]:
    if money is None or money.amount is None or money.currency is None or money.amount <= 0:
        return
    yield "budget", money.amount
    yield "budget_currency", money.currency.upper()
    try:
        yield "budget_home", market.to_home(money.amount, money.currency)
    except UnknownCurrencyError:
        yield "budget_ignored", "currency"


def _extras(brief: Brief) -> dict[str, Wanted]:
    out: dict[str, Wanted] = {}
    for key in AMENITY_KEYS:
        scalar = _value(brief, key, Scalar)
        if scalar is None or scalar.kind == "text" or scalar.kind == "date":
            continue
        value = scalar.value
        if isinstance(value, bool | int | float):
            out[key] = value
    parking = _value(brief, "parking", Scalar)
    if "parking_spaces" not in out and parking is not None and parking.value is True:
        out["parking_spaces"] = 1
    return out


# ---- bounds and the database search --------------------------------------------------------


class Bounds(BaseModel):
    """What a listing must satisfy: the strict bounds, or one of them relaxed."""

    model_config = _FROZEN

    relax: Relax | None = None
    kinds: tuple[PropertyKind, ...]
    offer: Offer
    size_min: float | None = None
    size_max: float | None = None
    max_price_home: float | None = None
    radius_km: float = 0.0


def bounds(want: Want, policy: Policy, relax: Relax | None = None) -> Bounds:
    """The strict bounds of ``want``, or with ``relax`` loosened."""
    tolerance = policy.relaxed_size_tolerance if relax == "size" else policy.size_tolerance
    size_min = size_max = None
    if want.size_m2 is not None:
        size_min = want.size_min if want.size_min is not None else want.size_m2 * (1 - tolerance)
        size_max = want.size_max if want.size_max is not None else want.size_m2 * (1 + tolerance)
        if relax == "size":
            size_min = min(size_min, want.size_m2 * (1 - tolerance))
            size_max = max(size_max, want.size_m2 * (1 + tolerance))
    extra = policy.budget_tolerance + (policy.relaxed_budget if relax == "budget" else 0.0)
    ceiling = want.budget_home * (1 + extra) if want.budget_home is not None else None
    kinds: tuple[PropertyKind, ...] = (want.kind,)
    if relax == "type":
        kinds = tuple(k for k in policy.neighbours.get(want.kind, ()) if k != want.kind)
    return Bounds(
        relax=relax,
        kinds=kinds,
        offer=want.offer,
        size_min=size_min,
        size_max=size_max,
        max_price_home=ceiling,
        radius_km=policy.relaxed_near_km if relax == "nearby" else policy.near_km,
    )


def relaxable(want: Want, policy: Policy) -> tuple[Relax, ...]:
    """The relaxations that can change anything for ``want``."""
    out: list[Relax] = []
    if want.size_m2 is not None:
        out.append("size")
    if want.budget_home is not None:
        out.append("budget")
    if policy.relaxed_near_km > policy.near_km:
        out.append("nearby")
    if any(k != want.kind for k in policy.neighbours.get(want.kind, ())):
        out.append("type")
    return tuple(out)


class Search(BaseModel):
    """The database filter of one set of bounds (every condition served by an index).

    Listings in ``city``/``country`` are searched (unless ``same_city`` is false), and when
    ``radius_km`` > 0 those of other cities in the box around ``lat``/``lon`` too;
    ``max_price_norm`` caps the price in :data:`NORMALISED_CURRENCY` (with the policy's
    slack). Rows come nearest ``target_m2`` first, at most ``limit`` per part.
    """

    model_config = _FROZEN

    kinds: tuple[PropertyKind, ...]
    offer: Offer
    city: str
    country: str
    lat: float
    lon: float
    radius_km: float
    same_city: bool = True
    size_min: float | None
    size_max: float | None
    max_price_norm: float | None
    target_m2: float | None
    limit: int


def search_of(want: Want, limits: Bounds, market: Market, policy: Policy) -> Search:
    """The database search for ``limits``.

    Raises:
        UnknownCurrencyError: the market has no rate for :data:`NORMALISED_CURRENCY`.
    """
    ceiling = None
    if limits.max_price_home is not None:
        ceiling = market.convert(limits.max_price_home, market.home_currency, NORMALISED_CURRENCY)
        ceiling *= 1 + policy.slack
    return Search(
        kinds=limits.kinds,
        offer=limits.offer,
        city=want.city.value,
        country=want.city.country,
        lat=want.city.lat,
        lon=want.city.lon,
        radius_km=limits.radius_km,
        # Relaxing the place keeps every other bound: the city's part is the strict search's.
        same_city=limits.relax != "nearby",
        size_min=limits.size_min,
        size_max=limits.size_max,
        max_price_norm=ceiling,
        target_m2=want.size_m2,
        limit=policy.candidates,
    )


# ---- why a listing fits: facts -----------------------------------------------------------


class KindFact(BaseModel):
    """The listing's type; ``instead_of`` is the wanted type when they differ."""

    model_config = _FROZEN
    fact: Literal["kind"] = "kind"
    kind: PropertyKind
    instead_of: PropertyKind | None = None


class PlaceFact(BaseModel):
    """Where it is; ``distance_km`` from the wanted city when in another city."""

    model_config = _FROZEN
    fact: Literal["place"] = "place"
    city: str
    country: str
    zone: str | None = None
    wanted_city: str
    distance_km: float | None = None
    zone_matches: bool = False


class SizeFact(BaseModel):
    """Its size; ``delta`` is the share above (+) or below (−) the wanted size."""

    model_config = _FROZEN
    fact: Literal["size"] = "size"
    m2: float
    delta: float | None = None


class PriceFact(BaseModel):
    """Its price (per month for rent); ``in_budget_currency`` when the budget's currency
    differs; ``delta`` is the share over (+) or under (−) the budget."""

    model_config = _FROZEN
    fact: Literal["price"] = "price"
    price: float
    currency: str
    offer: Offer
    in_budget_currency: float | None = None
    budget_currency: str | None = None
    delta: float | None = None


class ExtraFact(BaseModel):
    """A wanted extra: what the listing has (``None``: not stated) against what was asked."""

    model_config = _FROZEN
    fact: Literal["extra"] = "extra"
    key: str
    have: Wanted | None
    want: Wanted
    met: bool


Fact = KindFact | PlaceFact | SizeFact | PriceFact | ExtraFact

# How much each part weighs in the score (they add up to 1).
_WEIGHTS = {"kind": 0.25, "place": 0.2, "size": 0.2, "price": 0.25, "extras": 0.1}
_NEIGHBOUR_KIND = 0.6
_OTHER_CITY = 0.7
_OTHER_ZONE = 0.85
_CHEAP = 0.7  # under this share of the budget a price scores lower (likely another class)


class Fit(BaseModel):
    """A listing that satisfies the bounds, its score (0–1) and why (``facts``: empty until
    :func:`explain` adds them)."""

    model_config = _FROZEN

    listing: Listing
    score: float
    distance_km: float
    price_home: float
    facts: tuple[Fact, ...]


def assess(listing: Listing, want: Want, limits: Bounds, market: Market) -> Fit | None:
    """How well ``listing`` fits ``want`` within ``limits`` (``None``: outside them).

    The exact check behind the database's coarse filter: type, offer, size range, the real
    distance and the price converted at the market's current rates.
    """
    if listing.property_type not in limits.kinds or listing.offer != limits.offer:
        return None
    if not _size_within(listing.size_m2, limits):
        return None
    same_city = (listing.city.value, listing.city.country) == (want.city.value, want.city.country)
    distance = haversine_km(want.city.lat, want.city.lon, listing.lat, listing.lon)
    if not same_city and distance > limits.radius_km:
        return None
    try:
        price_home = market.to_home(listing.price, listing.currency)
    except UnknownCurrencyError:
        return None
    if limits.max_price_home is not None and price_home > limits.max_price_home:
        return None
    parts = {
        "kind": 1.0 if listing.property_type == want.kind else _NEIGHBOUR_KIND,
        "place": _place_score(listing, want, same_city, distance, limits.radius_km),
        "size": _size_score(listing.size_m2, want),
        "price": _price_score(price_home, want),
        "extras": _extras_score(listing, want),
    }
    score = sum(_WEIGHTS[k] * v for k, v in parts.items())
    return Fit.model_construct(
        listing=listing,
        score=round(score, 6),
        distance_km=0.0 if same_city else distance,
        price_home=price_home,
        facts=(),
    )


def explain(fit: Fit, want: Want, market: Market) -> Fit:
    """``fit`` with the facts that explain it (left out of :func:`assess`, which scores
    hundreds of candidates, so that only the listings shown pay for their reasons)."""
    listing = fit.listing
    same_city = (listing.city.value, listing.city.country) == (want.city.value, want.city.country)
    facts = _facts(listing, want, market, same_city, fit.distance_km, fit.price_home)
    return fit.model_copy(update={"facts": facts})


def _size_within(size: float, limits: Bounds) -> bool:
    return (limits.size_min is None or size >= limits.size_min) and (
        limits.size_max is None or size <= limits.size_max
    )


def _place_score(
    listing: Listing, want: Want, same_city: bool, distance: float, radius: float
) -> float:
    if same_city:
        if want.zone is None:
            return 1.0
        return 1.0 if listing.zone and _same_words(listing.zone, want.zone) else _OTHER_ZONE
    if radius <= 0:
        return 0.0
    return max(0.0, _OTHER_CITY * (1 - distance / radius))


def _same_words(a: str, b: str) -> bool:
    return a.casefold().strip() == b.casefold().strip()


def _size_score(size: float, want: Want) -> float:
    if want.size_m2 is None:
        return 1.0
    gap = abs(size - want.size_m2) / want.size_m2
    return max(0.0, 1.0 - gap * 2)


def _price_score(price_home: float, want: Want) -> float:
    if want.budget_home is None:
        return 1.0
    ratio = price_home / want.budget_home
    if ratio > 1:
        return max(0.0, 1.0 - (ratio - 1) * 2)
    if ratio < _CHEAP:
        return max(0.3, 1.0 - (_CHEAP - ratio))
    return 1.0


def _extras_score(listing: Listing, want: Want) -> float:
    if not want.extras:
        return 1.0
    have = listing.amenities.stated()
    total = 0.0
    for key, asked in want.extras.items():
        total += _extra_share(have.get(key), asked)
    return total / len(want.extras)


def _extra_share(have: Wanted | None, asked: Wanted) -> float:
    if have is None:
        return 0.3
    if isinstance(asked, bool) or isinstance(have, bool):
        return 1.0 if bool(have) == bool(asked) else 0.0
    if asked <= 0:
        return 1.0
    return min(1.0, float(have) / float(asked))


def _met(have: Wanted | None, asked: Wanted) -> bool:
    return have is not None and _extra_share(have, asked) >= 1.0


def _facts(
    listing: Listing,
    want: Want,
    market: Market,
    same_city: bool,
    distance: float,
    price_home: float,
) -> tuple[Fact, ...]:
    facts: list[Fact] = [
        KindFact(
            kind=listing.property_type,
            instead_of=want.kind if listing.property_type != want.kind else None,
        ),
        PlaceFact(
            city=listing.city.value,
            country=listing.city.country,
            zone=listing.zone,
            wanted_city=want.city.value,
            distance_km=None if same_city else round(distance, 1),
            zone_matches=bool(
                same_city and want.zone and listing.zone and _same_words(listing.zone, want.zone)
            ),
        ),
        SizeFact(
            m2=listing.size_m2,
            delta=(listing.size_m2 - want.size_m2) / want.size_m2 if want.size_m2 else None,
        ),
        _price_fact(listing, want, market, price_home),
    ]
    have = listing.amenities.stated()
    for key, asked in want.extras.items():
        got = have.get(key)
        facts.append(ExtraFact(key=key, have=got, want=asked, met=_met(got, asked)))
    return tuple(facts)


def _price_fact(listing: Listing, want: Want, market: Market, price_home: float) -> PriceFact:
    converted = None
    if (
        want.budget_currency
        and want.budget_home is not None
        and want.budget_currency != listing.currency
    ):
        converted = market.convert(listing.price, listing.currency, want.budget_currency)
    delta = price_home / want.budget_home - 1 if want.budget_home else None
    return PriceFact(
        price=listing.price,
        currency=listing.currency,
        offer=listing.offer,
        in_budget_currency=converted,
        budget_currency=want.budget_currency if want.budget_home is not None else None,
        delta=delta,
    )


def rank(
    listings: Iterable[Listing],
    want: Want,
    limits: Bounds,
    market: Market,
    *,
    explained: int | None = None,
) -> list[Fit]:
    """The listings within ``limits``, best first (ties: nearest size, then id); the first
    ``explained`` of them (``None``: all) carry their facts (:func:`explain`)."""
    fits = [f for f in (assess(x, want, limits, market) for x in _unique(listings)) if f]
    target = want.size_m2 or 0.0
    fits.sort(key=lambda f: (-f.score, abs(f.listing.size_m2 - target), f.listing.id))
    shown = len(fits) if explained is None else min(explained, len(fits))
    fits[:shown] = [explain(f, want, market) for f in fits[:shown]]
    return fits


def _unique(listings: Iterable[Listing]) -> Iterable[Listing]:
    seen: set[str] = set()
    for listing in listings:
        if listing.id not in seen:
            seen.add(listing.id)
            yield listing


# ---- relaxations: what loosening one constraint would find --------------------------------


class CityCount(BaseModel):
    """Listings found in one other city, and how far it is."""

    model_config = _FROZEN
    city: str
    country: str
    count: int
    distance_km: float


class KindCount(BaseModel):
    """Listings found of one neighbouring type."""

    model_config = _FROZEN
    kind: PropertyKind
    count: int


class Relaxation(BaseModel):
    """What loosening one constraint found.

    ``count`` listings (``more``: the search was capped, there may be more). For ``size``,
    ``min_m2``/``max_m2`` span the sizes found; for ``budget``, ``max_price`` is the dearest
    found in the budget's currency; for ``nearby``, the cities; for ``type``, the kinds.
    """

    model_config = _FROZEN

    relax: Relax
    count: int
    more: bool = False
    wanted_kind: PropertyKind
    wanted_city: str
    offer: Offer
    size_m2: float | None = None
    min_m2: float | None = None
    max_m2: float | None = None
    max_price: float | None = None
    budget_currency: str | None = None
    cities: tuple[CityCount, ...] = ()
    kinds: tuple[KindCount, ...] = ()


def relaxation(
    relax: Relax, fits: Sequence[Fit], want: Want, market: Market, *, capped: bool = False
) -> Relaxation:
    """Summarise what the ``relax`` search found (``fits`` within its bounds)."""
    base = {
        "relax": relax,
        "count": len(fits),
        "more": capped,
        "wanted_kind": want.kind,
        "wanted_city": want.city.value,
        "offer": want.offer,
        "size_m2": want.size_m2,
    }
    if not fits:
        return Relaxation.model_validate(base)
    if relax == "size":
        sizes = [f.listing.size_m2 for f in fits]
        return Relaxation.model_validate({**base, "min_m2": min(sizes), "max_m2": max(sizes)})
    if relax == "budget" and want.budget_currency is not None:
        dearest = max(f.price_home for f in fits)
        price = market.convert(dearest, market.home_currency, want.budget_currency)
        return Relaxation.model_validate(
            {**base, "max_price": price, "budget_currency": want.budget_currency}
        )
    if relax == "nearby":
        return Relaxation.model_validate({**base, "cities": _cities(fits, want)})
    if relax == "type":
        counts: dict[PropertyKind, int] = {}
        for fit in fits:
            counts[fit.listing.property_type] = counts.get(fit.listing.property_type, 0) + 1
        kinds = tuple(
            KindCount(kind=k, count=n) for k, n in sorted(counts.items(), key=lambda i: -i[1])
        )
        return Relaxation.model_validate({**base, "kinds": kinds})
    return Relaxation.model_validate(base)


def _cities(fits: Sequence[Fit], want: Want) -> tuple[CityCount, ...]:
    found: dict[tuple[str, str], list[Fit]] = {}
    for fit in fits:
        city = fit.listing.city
        if (city.value, city.country) != (want.city.value, want.city.country):
            found.setdefault((city.value, city.country), []).append(fit)
    out = [
        CityCount(
            city=name,
            country=country,
            count=len(group),
            distance_km=round(
                haversine_km(
                    want.city.lat,
                    want.city.lon,
                    group[0].listing.city.lat,
                    group[0].listing.city.lon,
                ),
                0,
            ),
        )
        for (name, country), group in found.items()
    ]
    out.sort(key=lambda c: (-c.count, c.distance_km, c.city))
    return tuple(out)


def best_relaxation(found: Mapping[Relax, Sequence[Fit]]) -> Relax | None:
    """The relaxation to show listings from: the one whose best listing scores highest
    (ties: the order of :data:`RELAXATIONS`); ``None`` when none found anything."""
    best: tuple[float, int] | None = None
    chosen: Relax | None = None
    for relax in RELAXATIONS:
        fits = found.get(relax) or ()
        if not fits:
            continue
        key = (fits[0].score, -RELAXATIONS.index(relax))
        if best is None or key > best:
            best, chosen = key, relax
    return chosen


def log_ratio(a: float, b: float) -> float:
    """How far apart two positive amounts are, as ``|ln(a/b)|`` (0: equal)."""
    return abs(math.log(a / b))
