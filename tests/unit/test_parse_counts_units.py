"""Counts named before their number, lease terms a few words from the lease noun, floors
after a place preposition, hyphenated units and the international acre."""

from __future__ import annotations

import pytest

from realty.domain.brief import Area, Value
from realty.domain.turn import ParseContext
from realty.pipeline.parse import Parser

CTX = ParseContext(today="2026-11-22")
# The welcome asks for the four required fields: place words must still not become cities.
ASKED = ParseContext(today="2026-11-22", asked=("property_type", "city", "budget", "size"))


def _values(parser: Parser, text: str, ctx: ParseContext = CTX) -> dict[str, Value | None]:
    return {c.key: c.value for c in parser.parse(text, ctx).candidates if c.op != "merge"}


COUNT_CASES = [
    ("Buenas, tenemos una empresa de software, somos 30", {"employees": 30}),
    ("my accounting firm is moving; 12 of us", {"employees": 12}),
    ("a small office for a team of 7", {"employees": 7}),
    ("bodega con loading docks, mínimo 2, y clear height de 8 m", {"loading_docks": 2}),
    ("necesitamos andenes: 3", {"loading_docks": 3}),
    ("bodega con 4 rampas y 8.5 m de altura", {"loading_docks": 4, "ceiling_height": 8.5}),
    ("Oye, el lease tiene que ser de 3 years mínimo", {"lease_term_months": 36}),
    ("nave industrial, lease de 5 años", {"lease_term_months": 60}),
    ("15 dock doors and a 32-foot clear height", {"loading_docks": 15, "ceiling_height": 9.75}),
]


@pytest.mark.parametrize(("text", "extras"), COUNT_CASES)
def test_counts_and_terms_are_extras_not_budget(
    parser: Parser, text: str, extras: dict[str, float]
) -> None:
    values = _values(parser, text)
    assert "budget" not in values
    assert "size" not in values
    assert {k: getattr(values.get(k), "value", None) for k in extras} == extras


@pytest.mark.parametrize("text", ["bodega con parking, 3,000 m2", "somos 3 socios y 200 m2"])
def test_a_noun_before_a_size_is_not_a_count(parser: Parser, text: str) -> None:
    size = _values(parser, text)["size"]
    assert isinstance(size, Area)
    assert size.m2 in (3000, 200)


@pytest.mark.parametrize(
    ("text", "floor"),
    [
        ("Oficina en Monterrey en el piso 3", 3),
        ("y que sea en el quinto piso", 5),
        ("en el piso 12 de una torre", 12),
    ],
)
def test_a_floor_after_a_preposition_is_not_a_place(parser: Parser, text: str, floor: int) -> None:
    extraction = parser.parse(text, ASKED)
    values = {c.key: c.value for c in extraction.candidates}
    assert getattr(values.get("floor"), "value", None) == floor
    cities = [getattr(c.value, "value", None) for c in extraction.candidates if c.key == "city"]
    assert set(cities) <= {"Monterrey"}
    assert all("piso" not in u.text.lower() for u in extraction.unknown_cities)
    assert all(getattr(c.value, "value", None) != "Quito" for c in extraction.candidates)


@pytest.mark.parametrize(
    ("text", "m2"),
    [
        ("I'm after a 2,500-square-foot office", 232.26),
        ("a 2 acre lot", 8093.71),
        ("a 5-acre parcel", 20234.28),
    ],
)
def test_hyphenated_units_and_the_international_acre(parser: Parser, text: str, m2: float) -> None:
    size = _values(parser, text)["size"]
    assert isinstance(size, Area)
    assert size.m2 == m2


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Vamos a abrir un gimnasio", "retail"),
        ("I've been running a yoga studio out of my garage", "retail"),
        ("we're a mid-size 3PL", "warehouse"),
        ("Mi hermana es nutrióloga", "medical"),
        ("Tenemos una ferretería y queremos una segunda", "retail"),
        ("un espacio para una escuela de idiomas", "office"),
        ("we run a language school", "office"),
        ("Es para almacenar mercancía de mi tienda en línea", "warehouse"),
        ("we run an online store", "warehouse"),
    ],
)
def test_more_businesses_propose_a_type(parser: Parser, text: str, kind: str) -> None:
    value = _values(parser, text)["property_type"]
    assert (getattr(value, "value", None), getattr(value, "proposed", None)) == (kind, True)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Me urge un depto en Pachuca", "apartment"), ("a 5-acre parcel", "land")],
)
def test_type_abbreviations(parser: Parser, text: str, kind: str) -> None:
    assert getattr(_values(parser, text)["property_type"], "value", None) == kind


@pytest.mark.parametrize(
    ("text", "city", "zone"),
    [
        ("Nave en Gómez Palacio de 4,000 m2", "Torreón", "Gómez Palacio"),
        ("Local en Chapalita, Guadalajara", "Guadalajara", "Chapalita"),
        ("Depa en Mitras, Monterrey", "Monterrey", "Mitras"),
        ("Office in Ybor City, Tampa", "Tampa", "Ybor City"),
    ],
)
def test_new_zones_give_their_metro_city(parser: Parser, text: str, city: str, zone: str) -> None:
    values = _values(parser, text)
    assert getattr(values["city"], "value", None) == city
    assert getattr(values["zone"], "value", None) == zone
