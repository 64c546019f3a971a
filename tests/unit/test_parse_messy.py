"""Messy prospect messages: Mexican CRE vocabulary, glued numbers, per-m² prices, amenities,
neighbourhoods, other units, corrections and businesses described instead of a type."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from realty.domain.brief import Area, Money, PropertyType, Value
from realty.domain.turn import ParseContext
from realty.parsing.places import CityFinder, Gazetteer, load_zones
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService

CTX = ParseContext(today="2026-11-22")


def _values(parser: Parser, text: str, ctx: ParseContext = CTX) -> dict[str, Value | None]:
    """The last value the parser read for each key."""
    return {c.key: c.value for c in parser.parse(text, ctx).candidates if c.op != "merge"}


def _chat(service: ConversationService, language: str, *texts: str) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        start = await service.start(language)  # type: ignore[arg-type]
        brief: dict[str, Any] = {}
        for text in texts:
            out = await service.handle_turn(start.conversation_id, text, access=start.access)
            brief = out.brief
        return brief

    return asyncio.run(run())


# ---- businesses described instead of a property type ----

BUSINESS_CASES = [
    ("Tengo una panadería y quiero abrir otra sucursal", "retail"),
    ("We run a dental practice and want a second location", "medical"),
    ("Vamos a montar un centro de distribución", "warehouse"),
    ("We're a call center with 120 agents", "office"),
    ("Somos un bufete de abogados de 15 personas", "office"),
    ("Tengo una fábrica de muebles", "industrial"),
    ("our e-commerce brand needs a fulfillment operation", "warehouse"),
    ("a small hardware store", "retail"),
    ("quiero poner una nevería", "retail"),
    ("we own two dry cleaners", "retail"),
    ("I'm opening a bike repair shop", "retail"),
    ("abrimos una sala de degustación", "retail"),
    ("we run a chiropractic practice", "medical"),
    ("soy ortodoncista y abro mi propia práctica", "medical"),
    ("somos una consultora de recursos humanos", "office"),
    ("a small graphic design studio", "office"),
    ("tenemos una empacadora de aguacate", "industrial"),
]


@pytest.mark.parametrize(("text", "kind"), BUSINESS_CASES)
def test_business_proposes_a_type(parser: Parser, text: str, kind: str) -> None:
    value = _values(parser, text)["property_type"]
    assert isinstance(value, PropertyType)
    assert (value.value, value.proposed) == (kind, True)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Tengo una panadería y busco un local comercial", "retail"),
        ("We run a dental practice and need a medical office", "medical"),
        ("Local en Puebla de 70 m2", "retail"),
        ("Busco local en Tijuana", "retail"),
        ("una bodeguita chica en Monterrey", "warehouse"),
        ("single family home for rent in Houston", "house"),
        ("lookin for an ofice in monterey", "office"),
    ],
)
def test_a_named_type_is_never_proposed(parser: Parser, text: str, kind: str) -> None:
    value = _values(parser, text)["property_type"]
    assert isinstance(value, PropertyType)
    assert (value.value, value.proposed) == (kind, False)


@pytest.mark.parametrize("text", ["vivo en la planta baja", "un local business partner"])
def test_ordinary_words_are_not_businesses(parser: Parser, text: str) -> None:
    assert "property_type" not in _values(parser, text)


def test_proposed_type_is_confirmed_before_the_brief_completes(
    make_service: Callable[..., ConversationService],
) -> None:
    service = make_service()
    first = "Quiero poner una farmacia en Tijuana, 50 m2, renta hasta 2,500 dlls al mes"
    brief = _chat(service, "es", first)
    assert brief["fields"]["property_type"]["status"] == "unconfirmed"
    assert brief["complete"] is False
    brief = _chat(make_service(), "es", first, "sí")
    assert (brief["fields"]["property_type"]["value"], brief["complete"]) == ("retail", True)
    assert brief["fields"]["property_type"]["status"] == "valid"
    brief = _chat(make_service(), "es", first, "no, es una bodega")
    assert brief["fields"]["property_type"]["value"] == "warehouse"
    assert brief["fields"]["property_type"]["status"] == "valid"


# ---- neighbourhoods, submarkets and metro municipalities ----

ZONE_CASES = [
    ("Warehouse in Apodaca, 5,000 m2", "Monterrey", "Apodaca"),
    ("Oficina en San Pedro, 250 m2", "Monterrey", "San Pedro Garza García"),
    ("consultorio en Zapopan", "Guadalajara", "Zapopan"),
    ("bodega en Tlaquepaque", "Guadalajara", "Tlaquepaque"),
    ("depa en la Condesa", "Mexico City", "Condesa"),
    ("We're looking at Interlomas for our new office", "Mexico City", "Interlomas"),
    ("Terreno en Juriquilla", "Santiago de Querétaro", "Juriquilla"),
    ("nave en Metepec", "Toluca", "Metepec"),
    ("local en Angelópolis", "Puebla", "Angelópolis"),
    ("office in Buckhead", "Atlanta", "Buckhead"),
    # The colonia, not Rome (Georgia or Italy); with the city named beside it too.
    ("necesito un local pa una cafeteria en la roma", "Mexico City", "Roma Norte"),
    ("oficina en la Roma, CDMX", "Mexico City", "Roma Norte"),
]


@pytest.mark.parametrize(("text", "city", "zone"), ZONE_CASES)
def test_zone_gives_its_metro_city(parser: Parser, text: str, city: str, zone: str) -> None:
    values = _values(parser, text)
    assert getattr(values["city"], "value", None) == city
    assert getattr(values["zone"], "value", None) == zone


def test_a_zone_keeps_the_city_named_with_it(parser: Parser) -> None:
    text = "en Puebla, por la zona de Angelópolis"
    ctx = ParseContext(asked=("city",), today="2026-11-22")
    values = _values(parser, text, ctx)
    assert getattr(values["city"], "value", None) == "Puebla"
    assert getattr(values["zone"], "value", None) == "Angelópolis"


@pytest.mark.parametrize("text", ["una nave en el Bajío", "oficinas en la zona norte"])
def test_a_region_is_neither_city_nor_zone(parser: Parser, text: str) -> None:
    values = _values(parser, text)
    assert "city" not in values
    assert "zone" not in values


def test_every_zone_city_is_in_the_gazetteer() -> None:
    zones = load_zones()
    assert len(zones) > 150
    CityFinder(Gazetteer.load())  # raises when a zone's city is unknown


# ---- prices per m² ----

PRICE_CASES = [
    # text, price per m² (amount, currency, period), budget amount or None
    ("Nave de 8,000 m2, pagamos máximo 4.5 USD por m2 al mes", (4.5, "USD", "month"), 36000),
    (
        "industrial, 10,000 m², 4.20 dollars per square metre per month",
        (4.2, "USD", "month"),
        42000,
    ),
    ("Dallas, 50,000 sf at $0.85/sf/month", (9.15, None, "month"), 42500),
    # "psf": the link and the unit in one word.
    ("Chicago, 40k sf, $1.20 psf/month", (12.92, None, "month"), 48000),
    ("Phoenix, 2,500 SF, $28 PSF per year NNN", (25.08, None, "month"), 5833.33),
    # A lease rate per sq ft with no period is quoted per year; a purchase price is a total.
    ("Class A office, 10k RSF, Midtown Manhattan, up to $80 psf", (71.8, None, "month"), 66666.67),
    ("buy a warehouse, 20,000 sf at $90 psf", (968.75, None, "total"), 1_800_000),
    # A price per sq ft for a size in m²: the total as prices are said, not to the cent.
    ("5000 sqm warehouse in Tijuana. Budget: USD 0.55/sqft/month.", (5.92, "USD", "month"), 29600),
    ("Terreno para compra, 5,000 m2, a 1,800 pesos el metro", (1800, "MXN", "total"), 9_000_000),
    ("Oficina, 300 m2, a 28 dólares el metro mensual", (28, "USD", "month"), 8400),
    ("warehouse in Tijuana around 5.10 USD/m2/month?", (5.1, "USD", "month"), None),
    ("pago 300 pesos el m2 de renta al mes", (300, "MXN", "month"), None),
]


@pytest.mark.parametrize(("text", "price", "budget"), PRICE_CASES)
def test_price_per_m2(
    parser: Parser, text: str, price: tuple[float, str | None, str], budget: float | None
) -> None:
    values = _values(parser, text)
    rate = values["price_per_m2"]
    assert isinstance(rate, Money)
    assert rate.amount == pytest.approx(price[0])
    assert (rate.currency, rate.period) == price[1:]
    total = values.get("budget")
    assert (total.amount if isinstance(total, Money) else None) == budget


def test_price_per_m2_and_a_later_size_give_the_budget(
    make_service: Callable[..., ConversationService],
) -> None:
    brief = _chat(make_service(), "en", "Any warehouse in Tijuana around 5.10 USD/m2/month?")
    assert "budget" not in brief["fields"]
    assert brief["extras"]["price_per_m2"]["amount"] == 5.1
    brief = _chat(
        make_service(),
        "en",
        "Any warehouse in Tijuana around 5.10 USD/m2/month?",
        "we'd need 3,000 m2",
    )
    budget = brief["fields"]["budget"]
    assert (budget["amount"], budget["currency"], budget["period"]) == (15300, "USD", "month")
    # Per square foot, in two messages: the total is the figure said, not the product of the
    # rounded per-m² price and the rounded m² (9,996.36).
    brief = _chat(
        make_service(),
        "en",
        "I need a warehouse in Laredo, 10,000 sqft",
        "budget is 1 dollar per square foot per month",
    )
    assert brief["fields"]["budget"]["amount"] == 10_000


# ---- glued and spelled-out numbers, Mexican vocabulary ----

AMOUNT_CASES = [
    ("oficina de 500m2, 20mil dolares al mes", 500, (20000, "USD")),
    ("bodega 1200m2 Guadalajara usd12k mensual", 1200, (12000, "USD")),
    ("Local en Puebla de 90m², $35,000mxn/mes", 90, (35000, "MXN")),
    ("terreno de 1,500 m2, 1.5mdp", 1500, (1_500_000, "MXN")),
    (
        "oficina de doscientos cincuenta metros cuadrados, cuarenta y cinco mil pesos al mes",
        250,
        (45000, "MXN"),
    ),
    ("bodega de 600 mts2 en Tijuana. Pago hasta 6 mil dlls mensuales", 600, (6000, "USD")),
    ("Small office in Dallas, 1,600 rsf, $3,500 a month", 148.64, (3500, None)),
]


@pytest.mark.parametrize(("text", "m2", "money"), AMOUNT_CASES)
def test_glued_and_spelled_amounts(
    parser: Parser, text: str, m2: float, money: tuple[float, str | None]
) -> None:
    ctx = ParseContext(asked=("property_type", "city", "budget", "size"), today="2026-11-22")
    values = _values(parser, text, ctx)
    size, budget = values["size"], values["budget"]
    assert isinstance(size, Area)
    assert isinstance(budget, Money)
    assert size.m2 == pytest.approx(m2)
    assert (budget.amount, budget.currency) == money


def test_pago_is_not_a_city(parser: Parser) -> None:
    values = _values(parser, "Se busca bodega en Tijuana. Pago hasta 6 mil dlls")
    assert getattr(values["city"], "value", None) == "Tijuana"


@pytest.mark.parametrize("text", ["precio de venta máximo 6 MDP", "tengo 15 MDP para comprarlo"])
def test_sale_words_make_a_total(parser: Parser, text: str) -> None:
    budget = _values(parser, text)["budget"]
    assert isinstance(budget, Money)
    assert (budget.modality, budget.period) == ("buy", "total")


# ---- numbers with other units are extras, never a budget or a size ----

UNIT_CASES = [
    ("necesito 300 kVA y 12 m de altura", {"power_kva": 300, "ceiling_height": 12.0}),
    ("Nave con 500 KVA y 8 andenes", {"power_kva": 500, "loading_docks": 8}),
    ("24' clear, 2 dock-high doors", {"ceiling_height": 7.32, "loading_docks": 2}),
    ("we're a call center with 120 agents", {"employees": 120}),
    ("a coworking spot for 6 folks", {"employees": 6}),
    ("we'd sign for 2 years", {"lease_term_months": 24}),
    ("El contrato lo firmaríamos a 5 años.", {"lease_term_months": 60}),
]


@pytest.mark.parametrize(("text", "extras"), UNIT_CASES)
def test_other_units_are_extras(parser: Parser, text: str, extras: dict[str, float]) -> None:
    values = _values(parser, text)
    assert "budget" not in values
    assert "size" not in values
    assert {k: getattr(values.get(k), "value", None) for k in extras} == extras


@pytest.mark.parametrize("text", ["Oficina amueblada con clima", "bodega climatizada"])
def test_clima_is_air_conditioning(parser: Parser, text: str) -> None:
    assert getattr(_values(parser, text).get("air_conditioning"), "value", None) is True


# ---- corrections ----

CORRECTION_CASES = [
    ("me confundí, son 25 mil", ("budget", "size"), "budget", 25000),
    ("make that 8,000", ("budget", "size"), "budget", 8000),
    ("sorry, quise decir 28 mil", ("budget",), "budget", 28000),
    ("perdón, 150", ("budget", "size"), "size", 150),
    ("y corrijo: son 11 mil, no 9", ("budget",), "budget", 11000),
    ("and actually 250 m2, not 200", ("budget", "size"), "size", 250),
]


@pytest.mark.parametrize(("text", "known", "key", "amount"), CORRECTION_CASES)
def test_corrections_restate_a_known_value(
    parser: Parser, text: str, known: tuple[str, ...], key: str, amount: float
) -> None:
    values = _values(parser, text, ParseContext(known=known, today="2026-11-22"))
    value = values[key]
    assert (value.amount if isinstance(value, Money) else getattr(value, "m2", None)) == amount
    assert len([k for k in values if k in {"budget", "size"}]) == 1


def test_a_correction_without_a_known_value_sets_nothing(parser: Parser) -> None:
    assert "budget" not in _values(parser, "perdón, 150")


def test_a_type_ruled_out_is_not_taken(parser: Parser) -> None:
    value = _values(parser, "ah no, perdón, es un local, no bodega")["property_type"]
    assert getattr(value, "value", None) == "retail"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("we're looking for land in Tulum for a hotel project", "land"),
        ("busco un local para restaurante en Cancún", "retail"),
        ("un terreno para una bodega en Mérida", "land"),
        # Said as a change of mind, the later kind is still the wish.
        ("I wanted an office but now I'm looking for a warehouse", "warehouse"),
        ("una oficina, no, mejor para una bodega", "warehouse"),
    ],
)
def test_a_kind_named_as_the_use_of_another_is_not_the_property(
    parser: Parser, text: str, kind: str
) -> None:
    value = _values(parser, text)["property_type"]
    assert getattr(value, "value", None) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # A kind after "with" is a feature of the place.
        ("una nave de 3 mil metros en Apodaca, con 2 andenes y oficinas", "industrial"),
        ("warehouse with offices in Monterrey", "warehouse"),
        ("oficina con bodega en Guadalajara", "office"),
        ("I need a warehouse. Actually an office with parking", "office"),
        # A count stands in for the determiner an ambiguous word needs.
        ("buscamos 5 locales en Monterrey de 150 m2 cada uno", "retail"),
        ("busco dos locales en Puebla", "retail"),
    ],
)
def test_the_kind_is_the_place_not_a_feature_and_a_count_names_it(
    parser: Parser, text: str, kind: str
) -> None:
    value = _values(parser, text)["property_type"]
    assert getattr(value, "value", None) == kind


def test_a_dont_know_around_a_figure_given_is_a_hedge(parser: Parser) -> None:
    ctx = ParseContext(asked=("budget", "size"), today="2026-11-22")
    found = parser.parse("no sé, unos 300?", ctx)
    assert "dont_know" not in found.signals
    assert [(c.key, getattr(c.value, "amount", None)) for c in found.candidates] == [
        ("budget", 300)
    ]
    # Without a figure it still defers.
    assert "dont_know" in parser.parse("no sé todavía", ctx).signals


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("olvida el presupuesto anterior, son 10 mil", 10_000),
        ("remove parking and my budget is 18k", 18_000),
    ],
)
def test_a_withdrawal_followed_by_a_new_value_replaces_it(
    parser: Parser, text: str, amount: float
) -> None:
    found = parser.parse(text, ParseContext()).candidates
    budgets = [c for c in found if c.key == "budget"]
    assert [(c.op, getattr(c.value, "amount", None)) for c in budgets] == [("set", amount)]
    # A value said before the withdrawal is withdrawn.
    later = parser.parse("my budget is 18k. no, forget the budget", ParseContext()).candidates
    assert [c.op for c in later if c.key == "budget"][-1] == "remove"
