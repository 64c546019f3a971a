"""Reading simulation requests from chat messages, and the replies written for them."""

from __future__ import annotations

from typing import Any

import pytest

from realty.domain.brief import Brief, Money, Scalar, Slot
from realty.domain.finance import Amount, Percent, RentMonths
from realty.pipeline.simulation import (
    InvalidInputs,
    LeaseRequest,
    MissingInputs,
    PurchaseRequest,
    SimulationReader,
    read_simulation,
)
from realty.pipeline.simulation_reply import SimulationReplier, format_money

BUYING = Brief(
    slots={
        "budget": Slot(
            value=Money(amount=4_500_000, currency="MXN", period="total", modality="buy")
        )
    },
    language="es",
)
RENTING = Brief(
    slots={
        "budget": Slot(value=Money(amount=45_000, currency="MXN", period="month", modality="rent")),
        "lease_term_months": Slot(value=Scalar(kind="int", value=36)),
    },
    language="en",
)
EMPTY = Brief(language="en")

PURCHASES: list[tuple[str, Brief, dict[str, Any]]] = [
    (
        "¿cuánto pagaría al mes si doy 20% de enganche a 10 años al 11%?",
        BUYING,
        {"price": 4_500_000, "down_payment": Percent(20), "term_months": 120, "annual_rate": 11},
    ),
    (
        "what would the monthly payment be with 30% down over 15 years at 11%?",
        BUYING,
        {"price": 4_500_000, "down_payment": Percent(30), "term_months": 180, "annual_rate": 11},
    ),
    (
        "price 2.5M USD, 500k down, 20 years, rate 7.5%",
        EMPTY,
        {
            "price": 2_500_000,
            "down_payment": Amount(500_000),
            "term_months": 240,
            "currency": "USD",
        },
    ),
    (
        "mensualidad de un crédito por 3 mdp con veinte por ciento de enganche a 15 años, tasa de "
        "10.5",
        EMPTY,
        {"price": 3_000_000, "down_payment": Percent(20), "annual_rate": 10.5, "currency": "MXN"},
    ),
    (
        "hipoteca a 240 meses con un enganche de 1 millón, tasa 9.8%",
        BUYING,
        {"down_payment": Amount(1_000_000), "term_months": 240, "annual_rate": 9.8},
    ),
]


@pytest.mark.parametrize(("text", "brief", "expected"), PURCHASES)
def test_purchase_requests(text: str, brief: Brief, expected: dict[str, Any]) -> None:
    outcome = read_simulation(text, brief)
    assert isinstance(outcome, PurchaseRequest), outcome
    for name, value in expected.items():
        assert getattr(outcome.inputs, name) == value, name


LEASES: list[tuple[str, Brief, dict[str, Any]]] = [
    (
        "how much to move in if the rent is 45k and they ask two months of deposit?",
        EMPTY,
        {"monthly_rent": 45_000, "deposit_months": 2, "term_months": 12},
    ),
    (
        "cuánto necesito para entrar si la renta es de 30 mil más IVA, 2 meses de depósito y la "
        "comisión es un mes",
        EMPTY,
        {
            "monthly_rent": 30_000,
            "deposit_months": 2,
            "vat_percent": 16,
            "broker_fee": RentMonths(1),
        },
    ),
    (
        "what would the deposit and move-in cost be?",
        RENTING,
        {"monthly_rent": 45_000, "term_months": 36, "deposit_months": 1},
    ),
    (
        "rent 80,000 USD a month for 5 years, 3 months deposit, maintenance 8,000 and a 4% "
        "annual increase",
        EMPTY,
        {
            "monthly_rent": 80_000,
            "term_months": 60,
            "deposit_months": 3,
            "monthly_maintenance": 8_000,
            "annual_increase": 4,
            "currency": "USD",
        },
    ),
    # "a month" right after an amount is its rate: the term is the default year, not a month.
    (
        "what would 20k a month cost me in the first year?",
        EMPTY,
        {"monthly_rent": 20_000, "term_months": 12},
    ),
    (
        "500m2, 20k USD a month. How much would I pay to move in?",
        EMPTY,
        {"monthly_rent": 20_000, "term_months": 12, "currency": "USD"},
    ),
    (
        "¿cuánto me costaría entrar con 30 mil al mes, un año?",
        EMPTY,
        {"monthly_rent": 30_000, "term_months": 12},
    ),
]


@pytest.mark.parametrize(("text", "brief", "expected"), LEASES)
def test_lease_requests(text: str, brief: Brief, expected: dict[str, Any]) -> None:
    outcome = read_simulation(text, brief)
    assert isinstance(outcome, LeaseRequest), outcome
    for name, value in expected.items():
        assert getattr(outcome.inputs, name) == value, name


@pytest.mark.parametrize(
    ("text", "brief", "kind", "missing"),
    [
        ("¿cuánto pagaría al mes si doy 20% de enganche a 10 años?", BUYING, "purchase",
         ("annual_rate",)),
        ("what would the monthly payment be?", EMPTY, "purchase",
         ("price", "down_payment", "term_months", "annual_rate")),
        ("how much is the deposit?", EMPTY, "lease", ("monthly_rent",)),
        ("how much would it cost me?", EMPTY, None, ("kind",)),
    ],
)  # fmt: skip
def test_missing_inputs_are_named(
    text: str, brief: Brief, kind: str | None, missing: tuple[str, ...]
) -> None:
    assert read_simulation(text, brief) == MissingInputs(kind, missing)  # type: ignore[arg-type]


def test_missing_inputs_come_with_questions_in_both_languages() -> None:
    missing = MissingInputs("purchase", ("down_payment", "annual_rate"))
    assert missing.questions("es") == (
        "¿Cuánto darías de enganche (porcentaje o monto)?",
        "¿Qué tasa de interés anual te ofrecen?",
    )
    assert missing.questions("en")[1] == "What annual interest rate are you offered?"


def test_a_budget_for_renting_is_not_a_price() -> None:
    outcome = read_simulation("monthly payment with 20% down over 10 years at 9%?", RENTING)
    assert outcome == MissingInputs("purchase", ("price",))


def test_the_configured_default_rate_is_used_and_reported_as_assumed() -> None:
    reader = SimulationReader(default_rate=10.5)
    outcome = reader.read("¿cuánto pagaría al mes si doy 20% de enganche a 10 años?", BUYING)
    assert isinstance(outcome, PurchaseRequest)
    assert outcome.inputs.annual_rate == 10.5
    assert outcome.assumed == ("annual_rate",)
    reply = SimulationReplier().reply(outcome, "es")
    assert "Supuse una tasa anual de 10.5%" in reply


def test_out_of_range_values_are_data_with_messages() -> None:
    outcome = read_simulation("con 20% de enganche a 60 años al 10%", BUYING)
    assert isinstance(outcome, InvalidInputs)
    assert outcome.messages("es") == ("El plazo debe ser de 1 a 40 años (12 a 480 meses).",)


def test_purchase_reply_states_the_figures_formatted() -> None:
    """4,500,000 with 20 % down leaves 3,600,000 at 11 % over 120 months: r = 0.0091667,
    1.0091667^120 = 2.986, M = 3,600,000 · 0.0091667 · 2.986 / 1.986 = 49,590.00."""
    outcome = read_simulation(
        "¿cuánto pagaría al mes si doy 20% de enganche a 10 años al 11%?", BUYING
    )
    reply = SimulationReplier().reply(outcome, "es")
    assert "la mensualidad sería de $49,590 MXN" in reply
    assert "financiarías $3,600,000 MXN" in reply
    assert reply.endswith(
        "Es una estimación; el banco o el arrendador confirman las cifras reales."
    )


def test_lease_reply_lists_the_move_in_lines_and_assumptions() -> None:
    outcome = read_simulation(
        "how much to move in if the rent is 45k and they ask two months of deposit?", EMPTY
    )
    reply = SimulationReplier().reply(outcome, "en")
    assert (
        "moving in would cost $135,000 MXN: deposit $90,000 MXN, rent in advance $45,000 MXN"
        in reply
    )
    assert "(before VAT)" in reply
    assert "I assumed a lease of 1 year, 1 month of rent in advance and amounts in MXN" in reply


def test_missing_and_invalid_replies_are_the_questions_and_problems() -> None:
    replier = SimulationReplier()
    assert replier.reply(MissingInputs("lease", ("monthly_rent",)), "es") == (
        "¿Cuánto es la renta mensual?"
    )
    # Asked for just now: what the questions are for comes first.
    opening = MissingInputs("purchase", ("down_payment", "term_months"))
    assert replier.reply(opening, "en", first=True) == (
        "Happy to simulate the loan. How much would you put down (a percentage or an amount)? "
        "Over how many years?"
    )
    assert replier.reply(MissingInputs(None, ("kind",)), "en", first=True) == (
        "Would you like to simulate a purchase with a loan or the cost of a lease?"
    )
    invalid = read_simulation("with 20% down over 50 years at 9%", BUYING)
    assert replier.reply(invalid, "en") == "The term must be 1 to 40 years (12 to 480 months)."


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1_234_567.891, "MXN", "$1,234,567.89 MXN"),
        (1_500, "USD", "$1,500 USD"),
        (1_500.5, "EUR", "€1,500.50 EUR"),
        (20, "CREDITS", "20 CREDITS"),
    ],
)
def test_money_formatting(value: float, currency: str, text: str) -> None:
    assert format_money(value, currency) == text
