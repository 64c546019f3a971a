"""The canonical brief JSON is a contract: its exact shape is asserted here."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from realty.domain.brief import (
    PROPERTY_KINDS,
    Area,
    Brief,
    City,
    Meta,
    Money,
    PropertyType,
    Scalar,
    Slot,
)

REQUIRED = ("property_type", "city", "budget", "size")


def _brief() -> Brief:
    return (
        Brief(language="es")
        .with_slot(
            "budget",
            Slot(
                value=Money(amount=20000.0, currency="USD", period="month", modality="rent"),
                meta=Meta(turn=2, span=(12, 22), confidence=0.95),
            ),
        )
        .with_slot("size", Slot(value=Area(m2=464.52, original="5,000 sq ft"), meta=Meta(turn=2)))
        .with_slot(
            "property_type",
            Slot(value=PropertyType(value="office", text="oficina"), meta=Meta(turn=1)),
        )
        .with_slot(
            "parking_spaces",
            Slot(value=Scalar(kind="int", value=20), meta=Meta(turn=1, source="llm")),
        )
    )


def test_canonical_json_shape() -> None:
    data = _brief().to_json(REQUIRED)
    assert list(data) == ["fields", "extras", "missing", "complete", "language"]
    assert data["fields"]["budget"] == {
        "amount": 20000,
        "currency": "USD",
        "period": "month",
        "min": None,
        "max": None,
        "modality": "rent",
        "original": None,
        "status": "valid",
        "confidence": 0.95,
        "source": "parser",
        "turn": 2,
        "span": [12, 22],
    }
    assert isinstance(data["fields"]["budget"]["amount"], int)  # 20000, not 20000.0
    assert data["fields"]["size"]["m2"] == 464.52
    assert data["fields"]["size"]["original"] == "5,000 sq ft"
    assert data["fields"]["property_type"]["value"] == "office"
    assert data["extras"] == {
        "parking_spaces": {
            "value": 20,
            "type": "int",
            "status": "valid",
            "confidence": 1.0,
            "source": "llm",
            "turn": 1,
            "span": None,
        }
    }
    assert data["missing"] == ["city"]
    assert data["complete"] is False
    assert data["language"] == "es"


def test_unknown_fields_are_absent_not_null() -> None:
    data = Brief().to_json(REQUIRED)
    assert data["fields"] == {}
    assert data["missing"] == list(REQUIRED)


def test_budget_without_currency_is_still_missing() -> None:
    brief = Brief().with_slot("budget", Slot(value=Money(amount=5.0)))
    assert brief.missing(["budget"]) == ["budget"]
    assert "budget" in brief.to_json(["budget"])["fields"]


def test_complete_when_every_required_field_is_usable() -> None:
    city = City(value="Mexico City", country="MX", lat=19.43, lon=-99.13)
    brief = _brief().with_slot("city", Slot(value=city))
    data = brief.to_json(REQUIRED)
    assert data["missing"] == []
    assert data["complete"] is True


def test_a_required_extra_moves_to_fields() -> None:
    brief = Brief().with_slot("move_in_date", Slot(value=Scalar(kind="date", value="2027-03-01")))
    assert "move_in_date" in brief.to_json(("move_in_date",))["fields"]
    assert "move_in_date" in brief.to_json(REQUIRED)["extras"]


def test_state_round_trips_through_json() -> None:
    brief = _brief()
    assert Brief.model_validate_json(brief.model_dump_json()) == brief


@pytest.mark.parametrize(
    "bad",
    [
        lambda: PropertyType(value="castle"),  # type: ignore[arg-type]
        lambda: Meta(confidence=1.5),
        lambda: Money(amount=1.0, period="weekly"),  # type: ignore[arg-type]
        lambda: Scalar(kind="colour", value="red"),  # type: ignore[arg-type]
    ],
)
def test_values_outside_the_contract_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        bad()  # type: ignore[operator]


def test_the_closed_list_of_property_kinds() -> None:
    assert PROPERTY_KINDS == (
        "office", "warehouse", "industrial", "retail", "land", "coworking", "medical",
        "hotel", "mixed_use", "apartment", "house", "other",
    )  # fmt: skip
