"""The describe stage: a brief in words, and a stored brief JSON read back into a brief."""

from __future__ import annotations

import pytest

from realty.domain.brief import Area, Brief, City, Meta, Money, PropertyType, Scalar, Slot
from realty.pipeline.describe import Describer
from realty.settings import Settings

REGISTRY = Settings(llm_provider="none").field_registry()
MEXICO_CITY = City(value="Mexico City", country="MX", lat=19.43, lon=-99.13, admin1="CDMX")


def slot(value: object, **meta: object) -> Slot:
    return Slot.model_validate({"value": value, "meta": Meta.model_validate(meta)})


@pytest.mark.parametrize(
    ("money", "language", "text"),
    [
        (Money(amount=20000, currency="USD"), "en", "20,000 USD"),
        (
            Money(amount=20000, currency="USD", period="month", modality="rent"),
            "en",
            "20,000 USD / month, rent",
        ),
        (
            Money(amount=3_000_000, currency="MXN", period="total", modality="buy"),
            "es",
            "$3,000,000 MXN total, compra",
        ),
        (Money(amount=150000, currency="MXN", period="month"), "es", "$150,000 MXN / mes"),
        (Money(min=10000, max=20000, amount=20000, currency="USD"), "en", "10,000–20,000 USD"),
        (Money(amount=5000), "en", "5,000"),
    ],
)
def test_a_budget_reads_compactly(money: Money, language: str, text: str) -> None:
    brief = Brief(slots={"budget": slot(money)}, language=language)  # type: ignore[arg-type]
    (view,) = Describer(REGISTRY).describe(brief).fields
    assert view.text == text


def test_a_partial_brief_lists_values_missing_fields_and_progress() -> None:
    brief = Brief(
        slots={
            "city": slot(MEXICO_CITY),
            "property_type": slot(PropertyType(value="office", text="oficina")),
            "parking_spaces": slot(Scalar(kind="int", value=10), source="llm"),
        },
        language="es",
    )
    shown = Describer(REGISTRY).describe(brief)
    assert (shown.language, shown.filled, shown.required, shown.complete) == ("es", 2, 4, False)
    # The registry's order, labels in the conversation's language.
    assert [(v.key, v.label, v.text) for v in shown.fields] == [
        ("property_type", "tipo de inmueble", "oficina"),
        ("city", "ciudad", "Ciudad de México"),
    ]
    assert [(v.key, v.label, v.text, v.source, v.required) for v in shown.extras] == [
        ("parking_spaces", "cajones de estacionamiento", "10", "llm", False)
    ]
    assert [(m.key, m.label) for m in shown.missing] == [
        ("budget", "presupuesto"),
        ("size", "superficie total"),
    ]
    assert shown.summary is None


def test_a_complete_brief_has_its_summary_and_marks_assumed_values() -> None:
    brief = Brief(
        slots={
            "property_type": slot(PropertyType(value="office")),
            "city": slot(MEXICO_CITY),
            "budget": slot(Money(amount=20000, currency="MXN"), status="unconfirmed"),
            "size": slot(Area(m2=500, original="500m²")),
        }
    )
    shown = Describer(REGISTRY).describe(brief)
    assert shown.complete
    assert shown.filled == shown.required == 4
    assert shown.missing == []
    assert shown.summary == "office in Mexico City, budget 20,000 MXN (I assumed MXN), 500 m²"
    budget = next(v for v in shown.fields if v.key == "budget")
    assert budget.status == "unconfirmed"


@pytest.mark.parametrize(
    "slots",
    [
        {},
        {"budget": slot(Money(amount=20000, currency="USD", period="month", min=1, max=20000))},
        {"size": slot(Area(m2=464.5152, original="5,000 sq ft"), source="user_edit", turn=3)},
        {"property_type": slot(PropertyType(value="other", text="cancha de pádel"))},
        {"city": slot(MEXICO_CITY, span=(10, 14), confidence=0.7)},
        {
            "move_in_date": slot(Scalar(kind="date", value="2027-02-01")),
            "pets_allowed": slot(Scalar(kind="bool", value=False)),
            "ceiling_height": slot(Scalar(kind="float", value=9.5, unit="m")),
            "zone": slot(Scalar(kind="text", value="Polanco")),
            "dock_budget": slot(Money(amount=5, currency="USD")),
            "yard": slot(Area(m2=200)),
        },
    ],
)
def test_a_stored_brief_json_reads_back_into_the_same_brief(slots: dict[str, Slot]) -> None:
    """What is stored with every entry (the canonical JSON) describes the same brief."""
    brief = Brief(slots=slots, language="es")
    describer = Describer(REGISTRY)
    assert describer.brief_of(brief.to_json(REGISTRY.required)) == brief
    required = REGISTRY.with_required(["budget", "move_in_date"])
    as_required = Describer(required)
    assert as_required.brief_of(brief.to_json(required.required)) == brief


def test_unreadable_values_in_a_stored_brief_are_skipped() -> None:
    data = {
        "fields": {"budget": {"amount": "lots"}, "city": {"value": "X"}},
        "extras": {"mystery": {"value": 1}, "weird": {"type": "nope", "value": 1}},
        "language": "xx",
    }
    assert Describer(REGISTRY).brief_of(data) == Brief(language="en")
