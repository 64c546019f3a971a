"""Matching, relaxation and the market check, with worked numbers (pure domain + wording)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from realty.catalog.wording import MatchWords, figure, load_policy, percent
from realty.domain.brief import (
    Area,
    Brief,
    City,
    Money,
    PropertyKind,
    PropertyType,
    Scalar,
    Slot,
    Value,
)
from realty.domain.geo import bounding_box, haversine_km
from realty.domain.listing import Amenities, Listing, Offer
from realty.domain.market import Market, UnknownCurrencyError
from realty.domain.market_check import (
    PriceBenchmark,
    check_budget,
    check_market,
    likely_offer,
    offer_question,
)
from realty.domain.matching import (
    Fit,
    Relax,
    Search,
    Unmatchable,
    Want,
    best_relaxation,
    bounds,
    rank,
    relaxable,
    relaxation,
    search_of,
    want_of,
)
from realty.services.matching import MatchService
from realty.settings import Settings
from realty.store.listings import MemoryCatalog

MARKET = Market("MX", {"USD": 18.0, "EUR": 19.5}, dt.date(2026, 11, 30))
POLICY = load_policy()
CDMX = City(value="Mexico City", country="MX", lat=19.42847, lon=-99.12766, admin1="CDMX")
TOLUCA = City(value="Toluca", country="MX", lat=19.28786, lon=-99.65324)
PUEBLA = City(value="Puebla", country="MX", lat=19.03793, lon=-98.20346)
WORDS = MatchWords.load(Settings().field_registry())


def brief(*, language: str = "en", **slots: Value) -> Brief:
    return Brief(slots={k: Slot(value=v) for k, v in slots.items()}, language=language)  # type: ignore[arg-type]


def office_brief(**extra: Value) -> Brief:
    slots: dict[str, Value] = {
        "property_type": PropertyType(value="office"),
        "city": CDMX,
        "size": Area(m2=500),
        "budget": Money(amount=20000, currency="USD", period="month"),
    }
    return brief(**{**slots, **extra})


def listing(
    n: int,
    *,
    kind: PropertyKind = "office",
    city: City = CDMX,
    zone: str | None = None,
    m2: float = 500,
    price: float = 300_000,
    currency: str = "MXN",
    offer: Offer = "rent",
    **amenities: Any,
) -> Listing:
    return Listing(
        id=f"L{n}",
        property_type=kind,
        city=city,
        zone=zone,
        lat=city.lat,
        lon=city.lon,
        size_m2=m2,
        price=price,
        currency=currency,
        offer=offer,
        amenities=Amenities(**amenities),
    )


def want(b: Brief | None = None) -> Want:
    found = want_of(b or office_brief(), MARKET)
    assert isinstance(found, Want)
    return found


@pytest.mark.parametrize(
    ("area", "target", "limits"),
    [
        (Area(m2=60, min_m2=60, max_m2=80), 70, (60, 80)),  # "60 to 80 m²": the middle
        (Area(m2=300, min_m2=300), 300, (300, None)),  # "at least 300 m²"
        (Area(m2=500), 500, (None, None)),
    ],
)
def test_a_search_aims_at_the_middle_of_a_size_range(
    area: Area, target: float, limits: tuple[float | None, float | None]
) -> None:
    found = want(office_brief(size=area))
    assert found.size_m2 == target
    assert (found.size_min, found.size_max) == limits


# ---- the market ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        (1, "USD", "MXN", 18.0),
        (18, "MXN", "USD", 1.0),
        (1, "EUR", "USD", 19.5 / 18.0),
        (100, "mxn", "MXN", 100),
    ],
)
def test_market_converts_through_the_home_currency(
    amount: float, source: str, target: str, expected: float
) -> None:
    assert MARKET.convert(amount, source, target) == pytest.approx(expected)


def test_a_currency_without_a_rate_is_a_typed_error() -> None:
    with pytest.raises(UnknownCurrencyError, match="CREDITS"):
        MARKET.to_home(10, "CREDITS")


def test_settings_build_the_market_of_the_home_country() -> None:
    assert Settings().market().home_currency == "MXN"
    us = Settings(home_country="US").market()
    assert us.home_currency == "USD"
    assert us.convert(18, "MXN", "USD") == pytest.approx(1.0)
    custom = Settings(exchange_rates={"USD": 17.0}, exchange_rates_date="2027-01-05").market()
    assert custom.to_home(1, "USD") == 17.0
    assert custom.rates_date == dt.date(2027, 1, 5)


@pytest.mark.parametrize(
    "values",
    [{"exchange_rates": {"EUR": 20.0}}, {"exchange_rates": {"USD": -1}}, {"home_country": "ES"}],
)
def test_settings_refuse_a_market_they_cannot_build(values: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="REALTY_HOME_COUNTRY / REALTY_EXCHANGE_RATES"):
        Settings(**values)


def test_haversine_and_its_bounding_box() -> None:
    km = haversine_km(CDMX.lat, CDMX.lon, TOLUCA.lat, TOLUCA.lon)
    assert 55 < km < 58
    lat_min, lat_max, lon_min, lon_max = bounding_box(CDMX.lat, CDMX.lon, 60)
    assert lat_min < TOLUCA.lat < lat_max
    assert lon_min < TOLUCA.lon < lon_max
    lat_min, lat_max, lon_min, lon_max = bounding_box(CDMX.lat, CDMX.lon, 50)
    assert not lon_min < TOLUCA.lon < lon_max


# ---- what a brief asks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "modality", "offer", "source"),
    [
        (Money(amount=20000, currency="USD", period="month"), None, "rent", "period"),
        (Money(amount=9_000_000, currency="MXN", period="total"), None, "sale", "period"),
        (Money(amount=9_000_000, currency="MXN", modality="buy"), None, "sale", "modality"),
        (
            Money(amount=90_000, currency="MXN", period="total", modality="rent"),
            None,
            "rent",
            "modality",
        ),
        (Money(amount=90_000, currency="MXN"), "buy", "sale", "modality"),
        (Money(amount=90_000, currency="MXN"), None, "rent", "assumed"),
    ],
)
def test_the_offer_follows_what_the_prospect_said(
    money: Money, modality: Any, offer: str, source: str
) -> None:
    b = brief(property_type=PropertyType(value="office"), city=CDMX, budget=money)
    found = want_of(b, MARKET, modality=modality)
    assert isinstance(found, Want)
    assert (found.offer, found.offer_source) == (offer, source)


def test_want_converts_the_budget_and_keeps_extras_and_zone() -> None:
    found = want(
        office_brief(
            parking_spaces=Scalar(kind="int", value=6),
            zone=Scalar(kind="text", value="Polanco"),
            pets_allowed=Scalar(kind="bool", value=True),
        )
    )
    assert found.budget_home == 360_000
    assert found.zone == "Polanco"
    assert found.extras == {"parking_spaces": 6, "pets_allowed": True}


def test_a_brief_without_type_or_city_cannot_be_matched() -> None:
    assert want_of(brief(city=CDMX), MARKET) == Unmatchable(missing=("property_type",))


def test_a_budget_in_an_unknown_currency_is_ignored_not_fatal() -> None:
    b = brief(
        property_type=PropertyType(value="office"),
        city=CDMX,
        budget=Money(amount=10, currency="CREDITS"),
    )
    found = want(b)
    assert (found.budget_home, found.budget_ignored) == (None, "currency")
    assert bounds(found, POLICY).max_price_home is None


# ---- bounds, the database search and the exact check --------------------------------------


def test_strict_bounds_and_the_search_they_become() -> None:
    limits = bounds(want(), POLICY)
    assert (limits.size_min, limits.size_max) == pytest.approx((400, 600))
    assert limits.max_price_home == pytest.approx(360_000 * 1.05)
    search = search_of(want(), limits, MARKET, POLICY)
    # The ceiling in dollars with the slack for listings written at older rates.
    assert search.max_price_norm == pytest.approx(20_000 * 1.05 * 1.10)
    assert (search.city, search.country, search.radius_km) == ("Mexico City", "MX", 40)


@pytest.mark.parametrize(
    ("item", "fits"),
    [
        (listing(1), True),
        (listing(2, m2=399), False),  # 20 % below 500 is 400
        (listing(3, m2=600), True),
        (listing(4, price=378_000), True),  # exactly budget + 5 %
        (listing(5, price=378_100), False),
        (listing(6, price=21_000, currency="USD"), True),  # 378,000 MXN
        (listing(7, offer="sale", price=300_000), False),
        (listing(8, kind="coworking"), False),
        (listing(9, city=TOLUCA), False),  # 56 km: outside the 40 km of the strict search
        (listing(10, price=10, currency="GBP"), False),
    ],
)
def test_assess_checks_every_bound_exactly(item: Listing, fits: bool) -> None:
    assert bool(rank([item], want(), bounds(want(), POLICY), MARKET)) is fits


def test_rank_puts_the_wanted_zone_and_extras_first() -> None:
    wanted = want(
        office_brief(
            zone=Scalar(kind="text", value="Polanco"), parking_spaces=Scalar(kind="int", value=6)
        )
    )
    items = [
        listing(1, zone="Santa Fe", parking_spaces=10),
        listing(2, zone="Polanco", parking_spaces=5),
        listing(3, zone="Polanco", parking_spaces=8),
    ]
    ranked = rank(items, wanted, bounds(wanted, POLICY), MARKET)
    assert [f.listing.id for f in ranked] == ["L3", "L2", "L1"]


def test_reasons_in_both_languages() -> None:
    wanted = want(
        office_brief(
            zone=Scalar(kind="text", value="Polanco"), parking_spaces=Scalar(kind="int", value=6)
        )
    )
    item = listing(1, zone="Polanco", m2=480, price=18_500, currency="USD", parking_spaces=6)
    [fit] = rank([item], wanted, bounds(wanted, POLICY), MARKET)
    assert WORDS.summary(fit, "en") == (
        "office in Polanco, Mexico City · 480 m² (−4%) · 18,500 USD/month, "
        "7% under your budget · 6 parking spaces"
    )
    assert WORDS.summary(fit, "es") == (
        "oficina en Polanco, Ciudad de México · 480 m² (−4%) · 18,500 USD al mes, "
        "7% debajo de tu presupuesto · 6 cajones de estacionamiento"
    )


def test_a_price_in_another_currency_is_shown_converted_too() -> None:
    [fit] = rank([listing(1, price=340_000)], want(), bounds(want(), POLICY), MARKET)
    assert WORDS.reasons(fit, "en")[2] == "340,000 MXN/month (≈ 18,900 USD), 6% under your budget"


# ---- relaxations --------------------------------------------------------------------------


def _found(items: list[Listing], wanted: Want) -> dict[Relax, list[Fit]]:
    return {
        r: rank(items, wanted, bounds(wanted, POLICY, r), MARKET) for r in relaxable(wanted, POLICY)
    }


def test_nothing_strict_then_one_relaxation_at_a_time() -> None:
    wanted = want()
    items = [
        listing(1, m2=330),  # only with the size relaxed (−34 %)
        listing(2, m2=350),
        listing(3, price=400_000),  # only with the budget relaxed (+11 %)
        listing(4, city=TOLUCA),  # only nearby (57 km)
        listing(5, city=PUEBLA),  # 106 km, nearby too
        listing(6, kind="coworking"),  # a neighbouring type
    ]
    assert rank(items, wanted, bounds(wanted, POLICY), MARKET) == []
    found = _found(items, wanted)
    summaries = {r: relaxation(r, fits, wanted, MARKET) for r, fits in found.items()}
    assert {r: s.count for r, s in summaries.items()} == {
        "size": 2,
        "budget": 1,
        "nearby": 2,
        "type": 1,
    }
    texts = {r: WORDS.relaxation(s, POLICY, "en") for r, s in summaries.items()}
    assert texts["size"] == "2 offices if you go down to 330 m²"
    assert texts["budget"] == "1 office if you go up to 22,200 USD a month"
    assert (
        texts["nearby"]
        == "1 in Toluca, 57 km from Mexico City; 1 in Puebla, 106 km from Mexico City"
    )
    assert texts["type"] == "1 coworking space instead of offices"
    es = WORDS.relaxation(summaries["size"], POLICY, "es")
    assert es == "2 oficinas si aceptas desde 330 m²"
    # The budget relaxation's listing fits best (right size, right city, right type).
    assert best_relaxation(found) == "budget"


def test_relaxed_size_upwards_names_the_largest_needed() -> None:
    wanted = want()
    fits = rank([listing(1, m2=690)], wanted, bounds(wanted, POLICY, "size"), MARKET)
    text = WORDS.relaxation(relaxation("size", fits, wanted, MARKET), POLICY, "en")
    assert text == "1 office if you go up to 690 m²"


def test_no_relaxation_finding_anything_says_so() -> None:
    assert best_relaxation({"size": [], "budget": []}) is None
    assert WORDS.relaxations([], POLICY, "es") == (
        "Por ahora nada del catálogo coincide, ni relajando un requisito."
    )


# ---- the market check ---------------------------------------------------------------------


def bench(median: float, offer: Offer = "rent", count: int = 40) -> PriceBenchmark:
    return PriceBenchmark(
        city="Mexico City",
        country="MX",
        kind="office",
        offer=offer,
        median_m2=median,
        count=count,
        currency="MXN",
    )


@pytest.mark.parametrize(
    ("amount", "verdict"),
    [(20_000, "high"), (11_000, "in_line"), (6_000, "low"), (6_700, "in_line")],
)
def test_budget_against_the_median_times_size(amount: float, verdict: str) -> None:
    b = office_brief(budget=Money(amount=amount, currency="USD", period="month"))
    checked = check_budget(want(b), bench(400), POLICY)
    assert not isinstance(checked, str)
    assert checked.verdict == verdict
    assert checked.expected == 200_000
    assert checked.implied_m2 == pytest.approx(amount * 18 / 500)


def test_the_market_check_in_words_with_worked_numbers() -> None:
    checked = check_market(want(), bench(400), bench(50_000, "sale"), POLICY, "MXN")
    assert checked.budget is not None
    assert checked.budget.ratio == pytest.approx(1.8)  # 360,000 / (400 × 500)
    assert checked.question is None
    assert WORDS.market(checked, want(), "en") == (
        "20,000 USD a month for 500 m² of office in Mexico City is about 40 USD/m² a month; "
        "the median there is 22, so it is well above what that size usually costs "
        "(about 11,100 USD a month)."
    )
    assert WORDS.market(checked, want(), "es") == (
        "20,000 USD al mes por 500 m² de oficina en Ciudad de México son unos 40 USD/m² al "
        "mes; la mediana ahí es 22, así que está muy por encima de lo que suele costar esa "
        "superficie (unos 11,100 USD al mes)."
    )
    # A budget in the home currency is quoted in it.
    pesos = want(office_brief(budget=Money(amount=360_000, currency="MXN", period="month")))
    checked = check_market(pesos, bench(400), bench(50_000, "sale"), POLICY, "MXN")
    assert WORDS.market(checked, pesos, "en").startswith(
        "360,000 MXN a month for 500 m² of office in Mexico City is about 720 MXN/m² a month; "
        "the median there is 400,"
    )


def test_too_few_listings_make_no_median() -> None:
    assert check_budget(want(), bench(400, count=4), POLICY) == "no_data"


def test_an_amount_that_only_makes_sense_as_a_purchase_gets_a_question() -> None:
    b = office_brief(budget=Money(amount=25_000_000, currency="MXN"))
    unsaid = want(b)
    assert unsaid.offer_source == "assumed"
    assert likely_offer(unsaid, bench(400), bench(50_000, "sale")) == "sale"
    question = offer_question(unsaid, bench(400), bench(50_000, "sale"), POLICY, "MXN")
    assert question is not None
    assert (question.reason, question.likely) == ("unsaid", "sale")
    assert WORDS.question(question, "en") == (
        "Do you want to rent or to buy? For 500 m² of office in Mexico City, 25,000,000 MXN "
        "reads as a purchase price: rents there run about 200,000 MXN a month and purchases "
        "about 25,000,000 MXN."
    )


def test_the_rent_or_buy_question_quotes_the_market_in_the_amounts_currency() -> None:
    dollars = want(office_brief(budget=Money(amount=20_000, currency="USD")))  # 18 MXN per USD
    question = offer_question(dollars, bench(400), bench(50_000, "sale"), POLICY, "MXN")
    assert question is not None
    assert question.rate == pytest.approx(18)
    assert WORDS.question(question, "en") == (
        "Do you want to rent or to buy? For 500 m² of office in Mexico City, 20,000 USD "
        "reads as a monthly rent: rents there run about 11,100 USD a month and purchases "
        "about 1,390,000 USD."
    )


def test_a_monthly_amount_far_above_any_rent_is_questioned() -> None:
    b = office_brief(budget=Money(amount=20_000_000, currency="MXN", period="month"))
    question = offer_question(want(b), bench(400), bench(50_000, "sale"), POLICY, "MXN")
    assert question is not None
    assert (question.reason, question.said, question.likely) == ("implausible", "rent", "sale")
    assert WORDS.question(question, "es").startswith(
        "Mencionaste una renta mensual, pero para 500 m² de oficina en Ciudad de México, "
        "20,000,000 MXN parece un precio de compra"
    )


def test_a_plausible_rent_is_not_questioned() -> None:
    assert offer_question(want(), bench(400), bench(50_000, "sale"), POLICY, "MXN") is None


@pytest.mark.parametrize(
    ("value", "text"), [(720.4, "720"), (18_523, "18,500"), (4.54, "4.5"), (2_413_000, "2,410,000")]
)
def test_approximate_figures(value: float, text: str) -> None:
    assert figure(value) == text


def test_percent_uses_a_true_minus() -> None:
    assert (percent(-0.04), percent(0.12), percent(0.001)) == ("−4%", "+12%", "0%")


# ---- reuse: the catalog read once per search while it is fresh ------------------------------


class CountingCatalog(MemoryCatalog):
    """A memory catalog that counts the searches and median reads it serves."""

    def __init__(self, items: list[Listing]) -> None:
        super().__init__(MARKET, items)
        self.searches = 0
        self.medians = 0

    async def search(self, search: Search) -> list[Listing]:
        self.searches += 1
        return await super().search(search)

    async def median_m2(
        self, kind: PropertyKind, offer: Offer, city: str, country: str
    ) -> tuple[float, int] | None:
        self.medians += 1
        return await super().median_m2(kind, offer, city, country)


def _service(catalog: CountingCatalog, now: list[float], **options: Any) -> MatchService:
    registry = Settings().field_registry()
    return MatchService(catalog, MARKET, registry, clock=lambda: now[0], **options)


def test_a_search_is_read_again_only_once_its_rows_are_stale() -> None:
    catalog = CountingCatalog([listing(1), listing(2, m2=520)])
    now = [0.0]
    service = _service(catalog, now, search_ttl_s=60.0)
    first = asyncio.run(service.matches(office_brief(), limit=3))
    assert [m.listing.id for m in first.listings] == ["L1", "L2"]
    reads = catalog.searches
    assert reads >= 1

    now[0] = 59.0
    catalog._items["L3"] = listing(3, m2=500)  # written by another process meanwhile
    assert asyncio.run(service.matches(office_brief(), limit=3)) == first
    assert catalog.searches == reads

    now[0] = 60.0
    fresh = asyncio.run(service.matches(office_brief(), limit=3))
    assert catalog.searches == 2 * reads
    assert {m.listing.id for m in fresh.listings} == {"L1", "L2", "L3"}


def test_another_brief_on_the_same_search_reuses_the_rows_but_is_ranked_for_itself() -> None:
    catalog = CountingCatalog([listing(1, parking_spaces=2), listing(2, parking_spaces=12)])
    service = _service(catalog, [0.0])
    plain = asyncio.run(service.matches(office_brief(), limit=3))
    reads = catalog.searches
    parking = office_brief(parking_spaces=Scalar(kind="int", value=10))
    wanting = asyncio.run(service.matches(parking, limit=3))
    assert catalog.searches == reads  # the same rows: the extras are ranked, not searched
    assert wanting.listings[0].listing.id == "L2"
    assert wanting != plain


def test_only_the_most_recent_searches_are_kept() -> None:
    catalog = CountingCatalog([listing(n, m2=100 * n) for n in range(1, 5)])
    service = _service(catalog, [0.0], searches_kept=2)
    sizes = [100, 200, 300]
    for m2 in sizes:
        asyncio.run(service.matches(office_brief(size=Area(m2=m2)), limit=1))
    reads = catalog.searches
    asyncio.run(service.matches(office_brief(size=Area(m2=300)), limit=1))
    assert catalog.searches == reads  # held
    asyncio.run(service.matches(office_brief(size=Area(m2=100)), limit=1))
    assert catalog.searches > reads  # dropped, read again


def test_medians_are_read_once_per_city_type_and_offer_while_fresh() -> None:
    catalog = CountingCatalog([listing(n) for n in range(1, 6)])
    now = [0.0]
    service = _service(catalog, now, median_ttl_s=300.0, search_ttl_s=1.0)
    asyncio.run(service.matches(office_brief(), limit=3))
    assert catalog.medians == 2  # rent and sale
    now[0] = 100.0  # the search is stale, the medians are not
    asyncio.run(service.matches(office_brief(), limit=3))
    assert catalog.medians == 2
    now[0] = 300.0
    asyncio.run(service.matches(office_brief(), limit=3))
    assert catalog.medians == 4


def test_one_listing_is_worded_as_one() -> None:
    service = _service(CountingCatalog([listing(1)]), [0.0])
    found = asyncio.run(service.matches(office_brief(), limit=3))
    assert len(found.listings) == 1
    text = found.chat_text("es")
    assert text.startswith("Este inmueble coincide con tu búsqueda:\n1. ")
    assert "Responde 1 para verlo a detalle." in text
    assert found.chat_text("en", preview=True).startswith("With what I know so far, this listing")
    two = _service(CountingCatalog([listing(1), listing(2, m2=520)]), [0.0])
    assert (
        asyncio.run(two.matches(office_brief(), limit=3))
        .chat_text("en")
        .startswith("These 2 listings fit your brief:")
    )


def test_the_cheapest_largest_and_smallest_of_a_list_shown() -> None:
    items = [
        listing(1, m2=500, price=300_000),
        listing(2, m2=650, price=15_000, currency="USD"),  # the most in pesos, the largest
        listing(3, m2=420, price=250_000),
    ]
    service = _service(CountingCatalog(items), [0.0])
    shown = ["L1", "L2", "L3"]
    cheapest = asyncio.run(service.superlative(shown, "cheapest", "en"))
    assert cheapest == (3, "The cheapest is number 3:")
    assert asyncio.run(service.superlative(shown, "largest", "es")) == (
        2,
        "La opción más grande es la número 2:",
    )
    assert asyncio.run(service.superlative(shown, "smallest", "en")) == (
        3,
        "The smallest is number 3:",
    )
    # Listings gone from the catalog are left out; none left, nothing to say.
    assert asyncio.run(service.superlative(["gone", "L1"], "cheapest", "en")) == (
        2,
        "The cheapest is number 2:",
    )
    assert asyncio.run(service.superlative(["gone"], "cheapest", "en")) is None
