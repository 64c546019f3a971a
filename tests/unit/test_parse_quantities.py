"""Quantities: numbers, budgets, areas and numeric extras in es-MX and en-US messages."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from realty.domain.brief import Area, Money, Scalar
from realty.domain.turn import Candidate, ParseContext
from realty.parsing.numbers import find_numbers, parse_digits
from realty.parsing.quantities import QuantityFinder
from realty.parsing.text import Message
from realty.pipeline.parse import Parser


@pytest.fixture(scope="module")
def finder() -> QuantityFinder:
    return QuantityFinder()


def _find(
    finder: QuantityFinder,
    text: str,
    asked: Sequence[str] = (),
    claimed: Sequence[tuple[int, int]] = (),
) -> list[Candidate]:
    return finder.find(Message.of(text), ParseContext(asked=tuple(asked)), claimed)


def _only(cands: list[Candidate], key: str) -> Candidate:
    found = [c for c in cands if c.key == key]
    assert len(found) == 1, cands
    return found[0]


def _money_fields(money: Any) -> dict[str, Any]:
    assert isinstance(money, Money)
    return {
        "amount": money.amount,
        "currency": money.currency,
        "period": money.period,
        "min": money.min,
        "max": money.max,
        "modality": money.modality,
    }


def _money(
    amount: float | None = None,
    currency: str | None = None,
    period: str | None = None,
    low: float | None = None,
    high: float | None = None,
    modality: str | None = None,
) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": currency,
        "period": period,
        "min": low,
        "max": high,
        "modality": modality,
    }


# ---- numbers ----

NUMBER_CASES: list[tuple[str, list[float]]] = [
    ("20,000", [20000]),
    ("20.000", [20000]),
    ("1.5", [1.5]),
    ("1,5", [1.5]),
    ("1,500.50", [1500.5]),
    ("1.500,50", [1500.5]),
    ("1,000,000", [1000000]),
    ("20k", [20000]),
    ("20K", [20000]),
    ("1.5M", [1500000]),
    ("2MM", [2000000]),
    ("20 mil", [20000]),
    ("2 millones", [2000000]),
    ("1.5 millones", [1500000]),
    ("medio millón", [500000]),
    ("un millón", [1000000]),
    ("un millón y medio", [1500000]),
    ("4 millones y medio", [4500000]),
    ("2 and a half million", [2500000]),
    ("3 y medio millones", [3500000]),
    ("2 mil y media", [2500]),
    ("1/2 hectárea", [0.5]),
    ("3/4 de acre", [0.75]),
    ("veinte mil", [20000]),
    ("quince mil quinientos", [15500]),
    ("treinta y cinco mil", [35000]),
    ("veintidós mil", [22000]),
    ("twenty thousand", [20000]),
    ("two and a half million", [2500000]),
    ("half a million", [500000]),
    ("a hundred thousand", [100000]),
    ("one hundred and twenty", [120]),
    ("3 mdp", [3000000]),
    ("500+", [500]),
    ("20 grand", [20000]),
    ("-5000", [-5000]),
    ("15k-20k", [15000, 20000]),
    ("entre quince y veinte mil", [15, 20000]),
    ("#1 priority", []),
    ("3rd floor, 1er piso, 2do nivel", []),
    ("a las 5:30, 24/7, 10% y 3pm", []),
    ("una oficina en medio del centro", []),
    # Thousands followed by the units, with only a space between, are one amount.
    ("9 mil quinientos pesos", [9500]),
    ("2 mil 500 metros", [2500]),
    ("19 mil quinientos", [19500]),
    ("20 mil, 500 m2", [20000, 500]),
    ("3 thousand 200 dollars", [3200]),
    # Thousands grouped by spaces (plain, no-break or thin): groups of exactly three digits.
    ("2 000 000 pesos", [2000000]),
    ("20\u00a0000 USD", [20000]),
    ("1\u202f200 m²", [1200]),
    ("1 200,50 m2", [1200.5]),
    ("de 1 000 a 2 000 m2", [1000, 2000]),
    ("2 oficinas de 300 m2", [2, 300]),  # a count, then a size: not thirty groups
    ("12 30 1234", [12, 30, 1234]),  # groups of other lengths are separate numbers
]


@pytest.mark.parametrize(("text", "values"), NUMBER_CASES)
def test_find_numbers(text: str, values: list[float]) -> None:
    assert [n.value for n in find_numbers(Message.of(text))] == values


def test_number_spans_point_at_the_original_text() -> None:
    msg = Message.of("Presupuesto: 1.5 millones, o sea medio millón más")
    assert [(n.text, n.scale) for n in find_numbers(msg, "es")] == [
        ("1.5 millones", 1e6),
        ("medio millón", 1e6),
    ]


def test_space_grouped_thousands_keep_their_whole_span() -> None:
    (number,) = find_numbers(Message.of("tengo 20 000 USD al mes"))
    assert (number.value, number.text) == (20000, "20 000")


@pytest.mark.parametrize(
    ("text", "amount", "m2"),
    [
        ("Busco bodega de 1 200 m² con presupuesto de 2 000 000 pesos", 2_000_000, 1200),
        ("Office, 20\u00a0000 USD a month, 500 m²", 20_000, 500),
    ],
)
def test_space_grouped_budget_and_size_read_whole(
    finder: QuantityFinder, text: str, amount: float, m2: float
) -> None:
    cands = _find(finder, text)
    budget, size = _only(cands, "budget").value, _only(cands, "size").value
    assert isinstance(budget, Money)
    assert isinstance(size, Area)
    assert (budget.amount, size.m2) == (amount, m2)


def test_mdp_implies_pesos() -> None:
    (number,) = find_numbers(Message.of("3 mdp"))
    assert (number.currency, number.text) == ("MXN", "3 mdp")


@pytest.mark.parametrize(
    ("token", "value"),
    [("20,000", 20000.0), ("0.5", 0.5), ("12,50", 12.5), ("1.2.3", None), ("7", 7.0)],
)
def test_parse_digits(token: str, value: float | None) -> None:
    assert parse_digits(token) == value


# ---- money ----

MONEY_CASES: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    ("I can spend 20,000 USD for 500m²", (), _money(20000, "USD")),
    ("presupuesto 150 mil pesos al mes", (), _money(150000, "MXN", "month", modality="rent")),
    ("a budget of 50 euros", (), _money(50, "EUR")),
    ("$20,000", (), _money(20000)),
    ("entre 15 y 20 mil dólares", (), _money(20000, "USD", low=15000, high=20000)),
    (
        "2 millones de pesos para comprar",
        (),
        _money(2000000, "MXN", "total", modality="buy"),
    ),
    ("1.5M USD", (), _money(1500000, "USD")),
    ("veinte mil dólares mensuales", (), _money(20000, "USD", "month", modality="rent")),
    ("My budget is -5000", (), _money(-5000)),
    ("budget 15k-20k", (), _money(20000, low=15000, high=20000)),
    ("my budget is from 15,000 to 20,000", (), _money(20000, low=15000, high=20000)),
    ("presupuesto de 15 a 20 mil", (), _money(20000, low=15000, high=20000)),
    ("up to 20,000", (), _money(20000, high=20000)),
    ("hasta 20 mil pesos", (), _money(20000, "MXN", high=20000)),
    ("no more than 25,000 dollars a month", (), _money(25000, "USD", "month", None, 25000, "rent")),
    ("máximo 30 mil dólares", (), _money(30000, "USD", high=30000)),
    ("at least 20k usd al mes", (), _money(20000, "USD", "month", 20000, None, "rent")),
    ("mínimo 80 mil pesos", (), _money(80000, "MXN", low=80000)),
    ("desde 3 millones de pesos", (), _money(3000000, "MXN", low=3000000)),
    ("more than 10,000 dollars", (), _money(10000, "USD", low=10000)),
    ("3 mdp", (), _money(3000000, "MXN")),
    ("1,500.50 dólares", (), _money(1500.5, "USD")),
    ("20,000 dls", (), _money(20000, "USD")),
    ("20 mil dlls al mes", (), _money(20000, "USD", "month", modality="rent")),
    ("50k bucks", (), _money(50000, "USD")),
    ("US$ 12,000", (), _money(12000, "USD")),
    ("MXN 45,000", (), _money(45000, "MXN")),
    ("€30.000", (), _money(30000, "EUR")),
    ("45 mil M.N.", (), _money(45000, "MXN")),
    ("500 credits", (), _money(500, "CREDITS")),
    ("200 créditos", (), _money(200, "CREDITS")),
    ("$200,000 al año", (), _money(16666.67, None, "month", modality="rent")),
    ("120,000 USD per year", (), _money(10000, "USD", "month", modality="rent")),
    ("80 mil pesos anuales", (), _money(6666.67, "MXN", "month", modality="rent")),
    ("I can pay 20k per month", (), _money(20000, None, "month", modality="rent")),
    ("30k USD/mo", (), _money(30000, "USD", "month", modality="rent")),
    ("20,000 USD monthly", (), _money(20000, "USD", "month", modality="rent")),
    ("precio total 3 millones de pesos", (), _money(3000000, "MXN", "total")),
    ("5 millones de pesos en total", (), _money(5000000, "MXN", "total")),
    ("I want to buy, budget 2.5M USD", (), _money(2500000, "USD", "total", modality="buy")),
    (
        "two and a half million dollars to buy",
        (),
        _money(2500000, "USD", "total", modality="buy"),
    ),
    ("medio millón de pesos", (), _money(500000, "MXN")),
    ("quiero rentar, tengo 40 mil pesos", (), _money(40000, "MXN", modality="rent")),
    ("lease for 9,000 dollars", (), _money(9000, "USD", modality="rent")),
    ("mi presupuesto es de 20 mil, en dólares", (), _money(20000, "USD")),
    ("puedo gastar hasta 35 mil", (), _money(35000, high=35000)),
    ("la renta es de 45,000 + IVA", (), _money(45000, modality="rent")),
    ("20 mil", ("budget",), _money(20000)),
    ("from 15,000 to 20,000", ("budget",), _money(20000, low=15000, high=20000)),
]


@pytest.mark.parametrize(("text", "asked", "expected"), MONEY_CASES)
def test_budget(
    finder: QuantityFinder, text: str, asked: tuple[str, ...], expected: dict[str, Any]
) -> None:
    cand = _only(_find(finder, text, asked), "budget")
    assert cand.op == "set"
    assert cand.source == "parser"
    assert _money_fields(cand.value) == expected


@pytest.mark.parametrize(
    ("text", "original", "spanned", "hint", "confidence"),
    [
        ("$20,000", "$20,000", "$20,000", "$", 0.9),
        ("I can spend 20,000 USD for 500m²", "20,000 USD", "spend 20,000 USD", None, 1.0),
        ("entre 15 y 20 mil dólares", "entre 15 y 20 mil dólares", None, None, 1.0),
        ("budget is 20000", "20000", "budget is 20000", None, 0.85),
        (
            "presupuesto de 150 mil pesos",
            "150 mil pesos",
            "presupuesto de 150 mil pesos",
            None,
            1.0,
        ),
        ("cuesta $1.5 millones al año", "$1.5 millones al año", None, "$", 0.9),
    ],
)
def test_budget_original_span_hint_and_confidence(
    finder: QuantityFinder,
    text: str,
    original: str,
    spanned: str | None,
    hint: str | None,
    confidence: float,
) -> None:
    cand = _only(_find(finder, text), "budget")
    assert isinstance(cand.value, Money)
    assert cand.value.original == original
    # The span covers the amount and the words that introduce it ("budget is").
    assert text[cand.span[0] : cand.span[1]] == (spanned or original)
    assert cand.currency_hint == hint
    assert cand.confidence == confidence


def test_restated_budget_gives_both_in_order(finder: QuantityFinder) -> None:
    cands = _find(finder, "my budget is 500 / no wait 800")
    assert [c.value.amount for c in cands if isinstance(c.value, Money)] == [500, 800]


def test_corrected_budget_keeps_its_currency(finder: QuantityFinder) -> None:
    cands = _find(finder, "20 mil dólares, no, mejor 25 mil")
    assert [_money_fields(c.value)["amount"] for c in cands] == [20000, 25000]
    assert [_money_fields(c.value)["currency"] for c in cands] == ["USD", "USD"]


# ---- partial budget updates (no amount) ----

MERGE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("in pesos", _money(currency="MXN"), "pesos"),
    ("en dólares", _money(currency="USD"), "dólares"),
    ("USD", _money(currency="USD"), "USD"),
    ("en euros por favor", _money(currency="EUR"), "euros"),
    ("per month", _money(period="month"), "per month"),
    ("al mes", _money(period="month"), "al mes"),
    ("sería el precio total", _money(period="total"), "precio total"),
    ("I want to rent an office", _money(modality="rent"), "rent"),
    ("busco comprar una bodega", _money(modality="buy"), "comprar"),
    ("la queremos en arrendamiento", _money(modality="rent"), "arrendamiento"),
    ("looking to purchase", _money(modality="buy"), "purchase"),
]


@pytest.mark.parametrize(("text", "expected", "said"), MERGE_CASES)
def test_partial_budget_merges(
    finder: QuantityFinder, text: str, expected: dict[str, Any], said: str
) -> None:
    cand = _only(_find(finder, text), "budget")
    assert cand.op == "merge"
    assert _money_fields(cand.value) == expected
    assert text[cand.span[0] : cand.span[1]] == said


@pytest.mark.parametrize(
    "text",
    [
        "I need an office in Mexico City.",
        "el peso de la maquinaria es alto",
        "move in a month",
        "the total size matters most",
        "I rented before",
        "es muy rentable",
        "at 3 pm",
    ],
)
def test_no_budget_from_unrelated_words(finder: QuantityFinder, text: str) -> None:
    assert [c for c in _find(finder, text) if c.key == "budget"] == []


# ---- size ----

AREA_CASES: list[tuple[str, tuple[str, ...], Area]] = [
    ("I can spend 20,000 USD for 500m²", (), Area(m2=500, original="500m²")),
    ("500m2", (), Area(m2=500, original="500m2")),
    ("5,000 sq ft", (), Area(m2=464.52, original="5,000 sq ft")),
    ("10,000 sqft", (), Area(m2=929.03, original="10,000 sqft")),
    ("2,000 square feet", (), Area(m2=185.81, original="2,000 square feet")),
    ("1000 ft²", (), Area(m2=92.9, original="1000 ft²")),
    ("3 hectáreas", (), Area(m2=30000, original="3 hectáreas")),
    ("2 ha", (), Area(m2=20000, original="2 ha")),
    ("1 acre", (), Area(m2=4046.86, original="1 acre")),
    ("800 metros cuadrados", (), Area(m2=800, original="800 metros cuadrados")),
    ("300 mts2", (), Area(m2=300, original="300 mts2")),
    ("300 mt2", (), Area(m2=300, original="300 mt2")),
    ("250 mts", (), Area(m2=250, original="250 mts")),
    ("busco 400 metros", (), Area(m2=400, original="400 metros")),
    ("600 sqm", (), Area(m2=600, original="600 sqm")),
    ("600 sq m", (), Area(m2=600, original="600 sq m")),
    ("600 square meters", (), Area(m2=600, original="600 square meters")),
    ("1,200 m²", (), Area(m2=1200, original="1,200 m²")),
    ("500 pies cuadrados", (), Area(m2=46.45, original="500 pies cuadrados")),
    ("500-800 m2", (), Area(m2=500, min_m2=500, max_m2=800, original="500-800 m2")),
    (
        "entre 500 y 800 metros",
        (),
        Area(m2=500, min_m2=500, max_m2=800, original="entre 500 y 800 metros"),
    ),
    ("500 to 800 sqm", (), Area(m2=500, min_m2=500, max_m2=800, original="500 to 800 sqm")),
    ("I need 500+ m²", (), Area(m2=500, min_m2=500, original="500+ m²")),
    ("at least 500 m2", (), Area(m2=500, min_m2=500, original="at least 500 m2")),
    ("mínimo 500 m2", (), Area(m2=500, min_m2=500, original="mínimo 500 m2")),
    ("más de 500 m2", (), Area(m2=500, min_m2=500, original="más de 500 m2")),
    ("500 m2 o más", (), Area(m2=500, min_m2=500, original="500 m2 o más")),
    ("up to 800 m2", (), Area(m2=800, max_m2=800, original="up to 800 m2")),
    ("máximo 800", ("size",), Area(m2=800, max_m2=800, original="máximo 800")),
    ("500", ("size",), Area(m2=500, original="500")),
    ("5,000,000 m2", (), Area(m2=5000000, original="5,000,000 m2")),
    ("0 m2", (), Area(m2=0, original="0 m2")),
]


@pytest.mark.parametrize(("text", "asked", "expected"), AREA_CASES)
def test_size(finder: QuantityFinder, text: str, asked: tuple[str, ...], expected: Area) -> None:
    cand = _only(_find(finder, text, asked), "size")
    assert cand.value == expected
    assert cand.confidence == (0.7 if asked else 1.0)


@pytest.mark.parametrize(
    "text",
    ["10 metros de frente", "a 5 metros de distancia", "20 m lineales", "frente de 10 m wide"],
)
def test_lengths_are_not_areas(finder: QuantityFinder, text: str) -> None:
    assert [c for c in _find(finder, text) if c.key == "size"] == []


# ---- numeric extras ----

EXTRA_CASES: list[tuple[str, str, Scalar]] = [
    ("20 parking spaces", "parking_spaces", Scalar(kind="int", value=20)),
    ("parking for 20 cars", "parking_spaces", Scalar(kind="int", value=20)),
    ("20 cajones de estacionamiento", "parking_spaces", Scalar(kind="int", value=20)),
    ("20 lugares de estacionamiento", "parking_spaces", Scalar(kind="int", value=20)),
    ("3 bedrooms", "bedrooms", Scalar(kind="int", value=3)),
    ("3 recámaras", "bedrooms", Scalar(kind="int", value=3)),
    ("tres habitaciones", "bedrooms", Scalar(kind="int", value=3)),
    ("2 cuartos", "bedrooms", Scalar(kind="int", value=2)),
    ("I need 3 bed rooms", "bedrooms", Scalar(kind="int", value=3)),
    ("an apartment with 4 rooms", "bedrooms", Scalar(kind="int", value=4)),
    ("at least two bed rooms", "bedrooms", Scalar(kind="int", value=2)),
    ("2 baths", "bathrooms", Scalar(kind="int", value=2)),
    ("2 bathrooms", "bathrooms", Scalar(kind="int", value=2)),
    ("dos baños", "bathrooms", Scalar(kind="int", value=2)),
    ("3rd floor", "floor", Scalar(kind="int", value=3)),
    ("on floor 15", "floor", Scalar(kind="int", value=15)),
    ("floor 15 or higher", "floor", Scalar(kind="int", value=15)),
    ("piso 3", "floor", Scalar(kind="int", value=3)),
    ("tercer piso", "floor", Scalar(kind="int", value=3)),
    ("en el 5o piso", "floor", Scalar(kind="int", value=5)),
    ("ground floor", "floor", Scalar(kind="int", value=0)),
    ("planta baja", "floor", Scalar(kind="int", value=0)),
    ("8 m ceiling", "ceiling_height", Scalar(kind="float", value=8.0, unit="m")),
    ("ceiling height of 30 ft", "ceiling_height", Scalar(kind="float", value=9.14, unit="m")),
    ("altura libre de 10 metros", "ceiling_height", Scalar(kind="float", value=10.0, unit="m")),
    ("10 m de altura", "ceiling_height", Scalar(kind="float", value=10.0, unit="m")),
    ("techos de 4.5 m", "ceiling_height", Scalar(kind="float", value=4.5, unit="m")),
    ("4 loading docks", "loading_docks", Scalar(kind="int", value=4)),
    ("4 andenes", "loading_docks", Scalar(kind="int", value=4)),
    ("3-year lease", "lease_term_months", Scalar(kind="int", value=36)),
    ("contrato de 2 años", "lease_term_months", Scalar(kind="int", value=24)),
    ("18 months lease", "lease_term_months", Scalar(kind="int", value=18)),
    ("plazo de 36 meses", "lease_term_months", Scalar(kind="int", value=36)),
    ("contrato de un año", "lease_term_months", Scalar(kind="int", value=12)),
    ("for 50 people", "employees", Scalar(kind="int", value=50)),
    ("for 50 employees", "employees", Scalar(kind="int", value=50)),
    ("para 30 personas", "employees", Scalar(kind="int", value=30)),
    ("somos 30 empleados", "employees", Scalar(kind="int", value=30)),
]


@pytest.mark.parametrize(("text", "key", "expected"), EXTRA_CASES)
def test_numeric_extras(finder: QuantityFinder, text: str, key: str, expected: Scalar) -> None:
    cands = _find(finder, text, asked=("budget", "size"))
    assert _only(cands, key).value == expected
    # The number belongs to the extra, even when the bot asked for a budget and a size.
    assert [c.key for c in cands if c.key in {"size"}] == []
    assert [c for c in cands if c.key == "budget" and c.op == "set"] == []


def test_extras_and_core_fields_together(finder: QuantityFinder) -> None:
    text = (
        "Busco una bodega de 2,000 m2 con 4 andenes, altura libre de 10 m, "
        "para 30 personas y renta de 150 mil pesos al mes"
    )
    cands = _find(finder, text)
    assert [c.key for c in cands] == [
        "size",
        "loading_docks",
        "ceiling_height",
        "employees",
        "budget",
    ]
    assert _only(cands, "size").value == Area(m2=2000, original="2,000 m2")
    assert _money_fields(_only(cands, "budget").value) == _money(
        150000, "MXN", "month", modality="rent"
    )


def test_extra_range_takes_the_upper_end(finder: QuantityFinder) -> None:
    cands = _find(finder, "for 15 to 20 people", asked=("budget",))
    assert [(c.key, c.value) for c in cands] == [("employees", Scalar(kind="int", value=20))]


# ---- bare numbers and what was asked ----

ASKED_CASES: list[tuple[str, tuple[str, ...], list[tuple[str, float]]]] = [
    ("20000 and 500", ("budget", "size"), [("budget", 20000), ("size", 500)]),
    ("20 mil y 500", ("budget", "size"), [("budget", 20000), ("size", 500)]),
    ("500", ("size",), [("size", 500)]),
    ("quinientos", ("size",), [("size", 500)]),
    ("20 mil", ("budget",), [("budget", 20000)]),
    ("my budget is 20000 for 500", ("budget", "size"), [("budget", 20000), ("size", 500)]),
    ("$20,000 and 500", ("size", "budget"), [("budget", 20000), ("size", 500)]),
    ("20", ("parking_spaces",), [("parking_spaces", 20)]),
    ("20000", (), []),
    ("500", (), []),
    ("tengo 2 hijos", ("budget",), []),
    ("the second one", ("size",), []),
    # a bare single digit answers another question (rooms, floor), never the budget
    ("3", ("budget", "size"), []),
    # Asked both, bare figures answer in the order asked.
    ("unos 300", ("budget", "size"), [("budget", 300)]),
    ("20000 y 300", ("budget", "size"), [("budget", 20000), ("size", 300)]),
    ("3", ("budget",), []),
    ("5 mil", ("budget",), [("budget", 5000)]),
    ("50", ("budget",), [("budget", 50)]),
]


def _amount(cand: Candidate) -> float:
    value = cand.value
    if isinstance(value, Money):
        assert value.amount is not None
        return value.amount
    if isinstance(value, Area):
        return value.m2
    assert isinstance(value, Scalar)
    assert isinstance(value.value, int | float)
    return float(value.value)


@pytest.mark.parametrize(("text", "asked", "expected"), ASKED_CASES)
def test_bare_numbers_answer_what_was_asked(
    finder: QuantityFinder, text: str, asked: tuple[str, ...], expected: list[tuple[str, float]]
) -> None:
    cands = _find(finder, text, asked)
    assert [(c.key, _amount(c)) for c in cands] == expected


def test_bare_answers_are_less_certain(finder: QuantityFinder) -> None:
    cands = _find(finder, "20000 and 500", asked=("budget", "size"))
    assert [c.confidence for c in cands] == [0.7, 0.7]


# ---- what must not become money or size ----

NOT_QUANTITY_CASES: list[tuple[str, tuple[str, ...]]] = [
    ("#1 priority is parking", ("budget", "size")),
    ("my 1st priority is parking", ("budget",)),
    ("on floor 15", ("budget", "size")),
    ("for 50 people", ("budget", "size")),
    ("I need 3 bedrooms", ("budget", "size")),
    ("necesito 2 baños", ("budget",)),
    ("Necesito rentar 3 oficinas", ()),
    ("a la altura de Reforma 222", ()),
    ("call me at 5:30", ("budget",)),
    ("abierto 24/7", ("size",)),
]


@pytest.mark.parametrize(("text", "asked"), NOT_QUANTITY_CASES)
def test_numbers_that_are_not_budget_or_size(
    finder: QuantityFinder, text: str, asked: tuple[str, ...]
) -> None:
    cands = _find(finder, text, asked)
    assert [c for c in cands if c.key == "size" or (c.key == "budget" and c.op == "set")] == []


def test_claimed_spans_are_ignored(finder: QuantityFinder) -> None:
    text = "I want to move in March 2027 with 20,000 USD"
    start = text.index("March 2027")
    cands = _find(finder, text, asked=("size",), claimed=[(start, start + len("March 2027"))])
    assert [(c.key, _amount(c)) for c in cands] == [("budget", 20000)]


# ---- the canonical conversation ----


def test_canonical_two_turns(finder: QuantityFinder) -> None:
    assert [c for c in _find(finder, "I need an office in Mexico City.") if c.op == "set"] == []
    cands = _find(finder, "I can spend 20,000 USD for 500m².", asked=("budget", "size"))
    assert [c.key for c in cands] == ["budget", "size"]
    assert _money_fields(cands[0].value) == _money(20000, "USD")
    assert cands[1].value == Area(m2=500, original="500m²")
    assert [c.confidence for c in cands] == [1.0, 1.0]


# ---- robustness ----


def _random_text(seed: int, size: int) -> str:
    rnd = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz ÁÉñ²€$%#:/.,-+0123456789\n\t\x00\x07🙂\u200b"
    return "".join(rnd.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("text", ["", "🙂", "asldkfjaslkdfj", "   ", "\x00\x01\x02", "$", "-"])
def test_no_quantities_in_noise(finder: QuantityFinder, text: str) -> None:
    assert _find(finder, text, asked=("budget", "size")) == []


@pytest.mark.parametrize("seed", range(5))
def test_random_text_never_raises(finder: QuantityFinder, seed: int) -> None:
    text = _random_text(seed, 10_000)
    cands = _find(finder, text, asked=("budget", "size"))
    assert all(0 <= c.span[0] < c.span[1] <= len(text) for c in cands)
    assert [c.span for c in cands] == sorted(c.span for c in cands)


def test_number_word_soup_never_raises(finder: QuantityFinder) -> None:
    vocab = [
        "uno",
        "dos",
        "y",
        "medio",
        "mil",
        "millones",
        "a",
        "and",
        "half",
        "hundred",
        "thousand",
        "million",
        "veinte",
        "un",
        "una",
        "-",
        ",",
        "$",
        "k",
        "20k",
        "1.5",
        "1,5",
        "m2",
        "usd",
        "pesos",
        "entre",
        "between",
        "to",
        "hasta",
        "500+",
        "#3",
        "3rd",
    ]
    rnd = random.Random(7)
    for _ in range(300):
        text = " ".join(rnd.choice(vocab) for _ in range(rnd.randint(0, 20)))
        for cand in _find(finder, text, asked=("budget",)):
            assert cand.key in {"budget", "size", "floor"}


def test_a_yearly_word_without_an_amount_leaves_the_budget_alone(parser: Parser) -> None:
    """The brief keeps amounts per month: "al año" alone cannot turn an amount already
    there into a monthly one, and "al 11% anual" is a rate."""
    for text in ("al 11% anual", "al año", "yearly"):
        extraction = parser.parse(text, ParseContext(known=("budget",)))
        assert [c for c in extraction.candidates if c.key == "budget"] == [], text


@pytest.mark.parametrize(
    "text",
    [
        "¿cuánto pagaría con 20% de enganche a 10 años?",
        "somos 20 personas",
        "for 3 years",
        "en 2 meses",
        "an office on 2 floors",
    ],
)
def test_a_count_of_something_else_answers_no_asked_size_or_budget(
    parser: Parser, text: str
) -> None:
    ctx = ParseContext(asked=("budget", "size"), today="2026-11-22")
    keys = [c.key for c in parser.parse(text, ctx).candidates]
    assert "size" not in keys
    assert "budget" not in keys


@pytest.mark.parametrize(
    ("text", "m2"),
    [
        ("a lot of 50 x 40 meters", 2000),
        ("terreno de 50x40 m", 2000),
        ("un terreno de 50 por 40 metros", 2000),
        ("50m x 40m", 2000),
        ("100 by 50 feet", 464.52),
        ("un local de 8 m de frente por 20 de fondo", 160),
        ("about an acre", 4046.86),
        ("un terreno de una hectárea", 10000),
        ("half an acre", 2023.43),
        ("two floors of 500 m2 each", 1000),
        ("2 pisos de 500 m2", 1000),
        ("3 bodegas de 1,000 m2 cada una", 3000),
        # One space with several floors is that space's size.
        ("a 3 story building of 1,000 m2", 1000),
        ("una bodega de 500 m2", 500),
    ],
)
def test_sizes_written_as_a_product_are_the_total(parser: Parser, text: str, m2: float) -> None:
    sizes = [c.value for c in parser.parse(text, ParseContext()).candidates if c.key == "size"]
    assert [getattr(s, "m2", None) for s in sizes] == [m2]


@pytest.mark.parametrize("text", ["near a metro station", "a 10 m frontage", "un metro de frente"])
def test_a_length_or_a_metro_is_no_size(parser: Parser, text: str) -> None:
    assert "size" not in [c.key for c in parser.parse(text, ParseContext()).candidates]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("my budget is 20k but it could go up to 25k USD", 20_000, 25_000),
        ("50 mil pesos, pero podemos llegar hasta 60 mil", 50_000, 60_000),
        ("20k usd, can stretch to 25k", 20_000, 25_000),
    ],
)
def test_a_budget_and_how_far_it_stretches_is_a_range(
    parser: Parser, text: str, low: float, high: float
) -> None:
    (budget,) = [c.value for c in parser.parse(text, ParseContext()).candidates]
    assert isinstance(budget, Money)
    assert (budget.min, budget.max) == (low, high)


@pytest.mark.parametrize(
    ("text", "key", "low", "high"),
    [
        ("por ahí de 20 o 25 mil al mes", "budget", 20_000, 25_000),
        ("20 or 25k a month", "budget", 20_000, 25_000),
        ("unos 50 o 60 metros", "size", 50, 60),
        ("500 or 600 m2", "size", 500, 600),
    ],
)
def test_a_figure_or_another_is_a_range(
    parser: Parser, text: str, key: str, low: float, high: float
) -> None:
    (found,) = parser.parse(text, ParseContext()).candidates
    assert found.key == key
    bounds = (found.value.min, found.value.max) if isinstance(found.value, Money) else None
    if isinstance(found.value, Area):
        bounds = (found.value.min_m2, found.value.max_m2)
    assert bounds == (low, high)


def test_a_count_or_another_is_no_range(parser: Parser) -> None:
    found = parser.parse("2 o 3 oficinas", ParseContext()).candidates
    assert [c.key for c in found] == ["property_type"]


@pytest.mark.parametrize(
    ("text", "docks"),
    [
        ("y que tenga andén de carga", 1),
        ("with a loading dock", 1),
        ("bodega en Monterrey de 1000 m2 con andén", 1),
        ("con 2 andenes de carga", 2),  # counted: the number wins
        ("sin andén de carga", None),  # ruled out
        ("no loading dock needed", None),
        ("¿tiene andén?", None),  # asked about a place: nothing wanted yet
        ("does it have a loading dock?", None),
    ],
)
def test_a_countable_extra_named_with_no_number_is_one(
    parser: Parser, text: str, docks: int | None
) -> None:
    found = [
        c.value for c in parser.parse(text, ParseContext()).candidates if c.key == "loading_docks"
    ]
    assert found == ([Scalar(kind="int", value=docks)] if docks is not None else [])


@pytest.mark.parametrize(
    ("text", "key", "low", "high"),
    [
        ("at least 3,000 sq ft but no more than 4,000", "size", 278.71, 371.61),
        ("mínimo 300 m2 y máximo 400", "size", 300, 400),
        ("at least 20k and no more than 30k USD a month", "budget", 20_000, 30_000),
    ],
)
def test_a_lower_and_an_upper_bound_of_one_quantity_are_one_range(
    parser: Parser, text: str, key: str, low: float, high: float
) -> None:
    (found,) = parser.parse(text, ParseContext()).candidates
    assert found.key == key
    value = found.value
    bounds = (value.min_m2, value.max_m2) if isinstance(value, Area) else None
    if isinstance(value, Money):
        bounds = (value.min, value.max)
    assert bounds == (low, high)


def test_bounds_of_different_quantities_stay_apart(parser: Parser) -> None:
    found = parser.parse(
        "at least 3,000 sq ft but no more than 4,000 and my max is 15k", ParseContext()
    ).candidates
    assert [c.key for c in found] == ["size", "budget"]
    budget = found[1].value
    assert isinstance(budget, Money)
    assert (budget.amount, budget.max) == (15_000, 15_000)
