"""Grounding: model values reach the brief only when the prospect wrote them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from realty.domain.brief import Area, City, Money, PropertyType, Scalar
from realty.domain.turn import Candidate
from realty.parsing.places import Gazetteer
from realty.pipeline.ground import Grounder, registry_key, snake_key
from realty.pipeline.prompt import LLMAnswer


@pytest.fixture(scope="module")
def grounder() -> Grounder:
    return Grounder(Gazetteer.load().resolve)


def summary(cand: Candidate) -> tuple[str, Any]:
    """A candidate as (key, readable value) so expected results read like the brief."""
    value = cand.value
    if isinstance(value, Money):
        return cand.key, (value.amount, value.currency, value.period, value.modality)
    if isinstance(value, Area):
        return cand.key, value.m2
    if isinstance(value, PropertyType):
        return cand.key, (value.value, value.text)
    if isinstance(value, City):
        return cand.key, (value.value, value.country)
    assert isinstance(value, Scalar)
    return cand.key, value.value


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    answer: dict[str, Any]
    kept: dict[str, Any]
    dropped: set[str] = field(default_factory=set)


def extra(key: str, value: Any, type_: str, evidence: str) -> dict[str, Any]:
    return {"key": key, "value": value, "type": type_, "evidence": evidence}


CASES = [
    # ---- invented values never pass ----
    Case(
        "budget nobody wrote",
        "I need an office in Monterrey",
        {"budget_amount": 20000, "budget_currency": "USD", "property_type": "office"},
        {"property_type": ("office", "office")},
        {"budget"},
    ),
    Case(
        "currency from the city name",
        "Busco oficina en Monterrey por 50 mil al mes",
        {"budget_amount": 50000, "budget_currency": "MXN", "budget_period": "month"},
        {"budget": (50000, None, "month", None)},
        {"budget"},
    ),
    Case(
        "city not in the text",
        "I need an office for 20,000 USD",
        {"city": "Mexico City", "budget_amount": 20000, "budget_currency": "USD"},
        {"budget": (20000, "USD", None, None)},
        {"city"},
    ),
    Case(
        "type not in the text",
        "I need 500 m2 in Monterrey",
        {"property_type": "office", "size_m2": 500},
        {"size": 500},
        {"property_type"},
    ),
    Case(
        "type worded as another kind",
        "Busco una bodega en León",
        {"property_type": "office", "property_text": "bodega"},
        {},
        {"property_type"},
    ),
    Case(
        "extra without evidence",
        "an office with a big terrace",
        {"extras": [extra("rooftop_garden", True, "bool", "rooftop garden")]},
        {},
        {"rooftop_garden"},
    ),
    Case(
        "number not in the evidence",
        "Busco local con 3 cajones de estacionamiento",
        {"extras": [extra("parking", 5, "int", "3 cajones de estacionamiento")]},
        {},
        {"parking_spaces"},
    ),
    Case(
        "size nobody wrote",
        "Quiero una bodega grande en Querétaro",
        {"size_m2": 1000, "property_type": "warehouse", "property_text": "bodega"},
        {"property_type": ("warehouse", "bodega")},
        {"size"},
    ),
    Case(
        "period and modality not stated",
        "My budget is 30,000 USD",
        {
            "budget_amount": 30000,
            "budget_currency": "USD",
            "budget_period": "month",
            "modality": "buy",
        },
        {"budget": (30000, "USD", None, None)},
        {"budget"},
    ),
    Case(
        "a city name hidden inside a word",
        "We need good climate control",
        {"city": "Lima"},
        {},
        {"city"},
    ),
    Case(
        "a core field reported as an extra",
        "presupuesto 80 mil pesos",
        {"extras": [extra("budget", 80000, "int", "80 mil pesos")]},
        {},
        {"budget"},
    ),
    Case(
        "an invented place that is not a city",
        "an office in Springfieldia",
        {"city": "Springfieldia", "property_type": "office"},
        {"property_type": ("office", "office")},
        {"city"},
    ),
    Case(
        "a height is not a size",
        "a warehouse with 8 m clear height",
        {"size_m2": 8, "property_type": "warehouse"},
        {"property_type": ("warehouse", "warehouse")},
        {"size"},
    ),
    Case(
        "a number without a unit is not a size",
        "an office for 12 people",
        {"size_m2": 12},
        {},
        {"size"},
    ),
    Case(
        "a count is not money",
        "I need 3 bedrooms in Austin",
        {"budget_amount": 3, "city": "Austin"},
        {"city": ("Austin", "US")},
        {"budget"},
    ),
    # ---- grounded values pass, with their words ----
    Case(
        "money said with a money word but no currency",
        "mi presupuesto es de 80 mil al mes",
        {"budget_amount": 80000, "budget_period": "month"},
        {"budget": (80000, None, "month", None)},
    ),
    Case(
        "a description in the model's words becomes the prospect's",
        "Busco un local en Puebla cerca de una estación del metro",
        {
            "extras": [
                extra(
                    "metro_station",
                    "Puebla metro station",
                    "text",
                    "cerca de una estación del metro",
                )
            ]
        },
        {"metro_station": "cerca de una estación del metro"},
    ),
    Case(
        "a yes reported as text is a yes",
        "with a rooftop terrace",
        {"extras": [extra("rooftop_terrace", "yes", "text", "rooftop terrace")]},
        {"rooftop_terrace": True},
    ),
    Case(
        "volunteered facts with evidence (en)",
        "we also need it close to the metro and with a big terrace",
        {
            "extras": [
                extra("Near metro", True, "bool", "close to the metro"),
                extra("terrace", "big", "text", "a big terrace"),
            ]
        },
        {"near_metro": True, "terrace": "big"},
    ),
    Case(
        "volunteered facts with evidence (es)",
        "necesitamos que esté cerca del metro y con una terraza grande",
        {
            "extras": [
                extra("cerca_metro", True, "bool", "cerca del metro"),
                extra("terraza", "grande", "text", "una terraza grande"),
            ]
        },
        {"cerca_metro": True, "terraza": "grande"},
    ),
    Case(
        "a full Spanish message",
        "Busco un salón de eventos en Puebla, 80 mil pesos al mes, 300 metros",
        {
            "property_type": "other",
            "property_text": "salón de eventos",
            "city": "Puebla",
            "budget_amount": 80000,
            "budget_currency": "MXN",
            "budget_period": "month",
            "modality": "rent",
            "size_m2": 300,
        },
        {
            "property_type": ("other", "salón de eventos"),
            "city": ("Puebla", "MX"),
            "budget": (80000, "MXN", "month", None),
            "size": 300,
        },
        {"budget"},  # "rent" is not stated
    ),
    Case(
        "registry synonyms (es)",
        "Necesito 4 cajones de estacionamiento y que acepten mascotas",
        {
            "extras": [
                extra("parking", 4, "int", "4 cajones de estacionamiento"),
                extra("pets", True, "bool", "acepten mascotas"),
            ]
        },
        {"parking_spaces": 4, "pets_allowed": True},
    ),
    Case(
        "spelled and scaled numbers (en)",
        "a warehouse of 1.5k m2 for twenty thousand dollars a month to rent",
        {
            "property_type": "warehouse",
            "size_m2": 1500,
            "budget_amount": 20000,
            "budget_currency": "usd",
            "budget_period": "month",
            "modality": "rent",
        },
        {
            "property_type": ("warehouse", "warehouse"),
            "size": 1500,
            "budget": (20000, "USD", "month", "rent"),
        },
    ),
    Case(
        "a bare dollar sign is a hint, not a currency",
        "up to $30,000 per month",
        {"budget_amount": 30000, "budget_currency": "USD", "budget_period": "month"},
        {"budget": (30000, None, "month", None)},
        {"budget"},
    ),
    Case(
        "a misspelt city the gazetteer knows",
        "an office in Monterey please",
        {"city": "Monterrey", "property_type": "office"},
        {"city": ("Monterrey", "MX"), "property_type": ("office", "office")},
    ),
    Case(
        "evidence with a small typo",
        "must have a loading dock for trucks",
        {"extras": [extra("truck_dock", True, "bool", "a loading dok for trucks")]},
        {"truck_dock": True},
    ),
    Case(
        "a date extra with evidence",
        "we move in on 2027-03-01",
        {"extras": [extra("move in", "2027-03-01", "date", "move in on 2027-03-01")]},
        {"move_in_date": "2027-03-01"},
    ),
    Case(
        "a question about a listing states no requirement",
        "That sounds great! By the way, does the apartment come furnished?",
        {"extras": [extra("furnished", True, "bool", "does the apartment come furnished")]},
        {},
        {"furnished"},
    ),
    Case(
        "a question about a listing, in Spanish",
        "¿El local tiene estacionamiento?",
        {"extras": [extra("parking", True, "bool", "tiene estacionamiento")]},
        {},
        {"parking"},
    ),
    Case(
        "evidence with a lead-in before the question",
        "Two questions: is there a garage and laundry machines?",
        {"extras": [extra("garage", True, "bool", "Two questions: is there a garage")]},
        {},
        {"garage"},
    ),
    Case(
        "a requirement stated before a question",
        "I need parking. Is it near the metro?",
        {"extras": [extra("parking", True, "bool", "I need parking")]},
        {"parking": True},
    ),
    Case(
        "a request for listings worded as a question is a requirement",
        "Do you have offices with parking?",
        {"extras": [extra("parking", True, "bool", "with parking")]},
        {"parking": True},
    ),
    Case(
        "a date off by one from what was written",
        "No, I prefer on 8th of March.",
        {"extras": [extra("visit date", "2019-03-09", "date", "8th of March")]},
        {},
        {"visit_date"},
    ),
    Case(
        "a date worked out from relative words is a guess",
        "Yeah, can you set that up for the 11th of this month.",
        {"extras": [extra("visit date", "2019-03-11", "date", "the 11th of this month")]},
        {},
        {"visit_date"},
    ),
    Case(
        "a date written with its month name, in Spanish",
        "Quiero mudarme el 3 de marzo",
        {"extras": [extra("move in", "2027-03-03", "date", "el 3 de marzo")]},
        {"move_in_date": "2027-03-03"},
    ),
    Case(
        "a value of the wrong type",
        "with 3 elevators",
        {"extras": [extra("elevators", "three-ish", "int", "3 elevators")]},
        {},
        {"elevators"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_only_written_values_are_kept(grounder: Grounder, case: Case) -> None:
    kept, dropped = grounder.ground_answer(case.text, LLMAnswer.model_validate(case.answer))
    assert dict(summary(c) for c in kept) == case.kept
    assert {d.key for d in dropped} == case.dropped
    for cand in kept:
        assert cand.source == "llm"
        assert cand.confidence <= 0.8
        assert 0 <= cand.span[0] < cand.span[1] <= len(case.text)


SPAN_CASES = [
    (
        "Busco un salón de eventos en Puebla",
        {"city": "Puebla", "property_type": "salón de eventos"},
    ),
    ("we also need it close to the metro", {"near_metro": "close to the metro"}),
]


@pytest.mark.parametrize(("text", "expected"), SPAN_CASES)
def test_spans_point_at_the_words(grounder: Grounder, text: str, expected: dict[str, str]) -> None:
    answer = LLMAnswer.model_validate(
        {
            "city": "Puebla" if "Puebla" in text else None,
            "property_type": "other" if "salón" in text else None,
            "property_text": "salon de eventos" if "salón" in text else None,
            "extras": [extra("near_metro", True, "bool", "close to the metro")]
            if "metro" in text
            else [],
        }
    )
    kept, _ = grounder.ground_answer(text, answer)
    assert {c.key: text[c.span[0] : c.span[1]] for c in kept} == expected


def test_amount_without_budget_number_merges_the_stated_parts(grounder: Grounder) -> None:
    answer = LLMAnswer.model_validate({"budget_amount": 9000, "budget_currency": "EUR"})
    kept, dropped = grounder.ground_answer("mejor en euros", answer)
    assert [(c.key, c.op, c.value) for c in kept] == [
        ("budget", "merge", Money(currency="EUR")),
    ]
    assert [d.reason for d in dropped] == ["amount 9000 not written in the message"]


GROUND_CASES = [
    ("city", Scalar(kind="text", value="Guadalajara"), "oficina en Guadalajara", True),
    ("city", Scalar(kind="text", value="Guadalajara"), "oficina en Zapopan", False),
    ("size", Area(m2=250), "unos 250 m2", True),
    ("size", Area(m2=250), "unos 205 m2", False),
    ("floor", Scalar(kind="int", value=3), "third floor", False),  # no span: no evidence
]


@pytest.mark.parametrize(("key", "value", "text", "kept"), GROUND_CASES)
def test_ground_candidates(grounder: Grounder, key: str, value: Any, text: str, kept: bool) -> None:
    claim = Candidate(key=key, value=value, span=(0, 0), source="llm", confidence=0.9)
    grounded, dropped = grounder.ground(text, [claim])
    assert (len(grounded), len(dropped)) == ((1, 0) if kept else (0, 1))
    if kept:
        assert grounded[0].confidence == 0.8


KEY_CASES = [
    ("Parking spots", True, False, "parking_spaces"),
    ("parking", False, True, "parking"),
    ("parking", True, False, "parking_spaces"),
    ("Pets", False, True, "pets_allowed"),
    ("Move-in", False, False, "move_in_date"),
    ("Áreas verdes", False, True, "areas_verdes"),
    ("3rd floor", True, False, ""),
    ("🙂", False, True, ""),
]


@pytest.mark.parametrize(("raw", "numeric", "boolean", "expected"), KEY_CASES)
def test_registry_key(raw: str, numeric: bool, boolean: bool, expected: str) -> None:
    assert registry_key(raw, numeric=numeric, boolean=boolean) == expected


def test_snake_key_is_bounded() -> None:
    assert snake_key("x" * 100) == "x" * 40


ODD_TEXTS = ["", "🙂🙂", "\x00\x07", "a" * 10_000, "$$$ € € 1e999"]


@pytest.mark.parametrize("text", ODD_TEXTS, ids=range(len(ODD_TEXTS)))
def test_never_raises_on_odd_text(grounder: Grounder, text: str) -> None:
    answer = LLMAnswer.model_validate(
        {
            "city": "Mexico City",
            "budget_amount": 1,
            "budget_currency": "EUR",
            "size_m2": 2,
            "property_type": "office",
            "extras": [extra("x", 1, "int", text[:50] or "x")],
        }
    )
    kept, _ = grounder.ground_answer(text, answer)
    assert all(c.key != "city" for c in kept)
