"""Validation: every rejection reason and the values that pass, in a table."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from realty.domain.brief import Area, City, Money, PropertyType, Scalar, Value
from realty.domain.fields import FieldRegistry
from realty.domain.turn import Candidate, CandidateOp, Extraction, UnknownCity
from realty.domain.validate import validate

TODAY = "2026-03-15"


def _registry() -> FieldRegistry:
    text = resources.files("realty.data").joinpath("fields.yaml").read_text("utf-8")
    return FieldRegistry.from_mapping(yaml.safe_load(text))


REGISTRY = _registry()
CDMX = City(value="Mexico City", country="MX", lat=19.43, lon=-99.13)


def _cand(key: str, value: Value | None, op: CandidateOp = "set") -> Candidate:
    return Candidate(key=key, value=value, op=op, span=(0, 1))


PASSING: list[tuple[str, Candidate]] = [
    ("budget", _cand("budget", Money(amount=20_000, currency="USD"))),
    ("budget range", _cand("budget", Money(amount=20_000, min=15_000, max=20_000))),
    ("budget equal bounds", _cand("budget", Money(amount=5, min=5, max=5))),
    ("currency-only merge", _cand("budget", Money(currency="MXN"), "merge")),
    ("modality-only merge", _cand("budget", Money(modality="rent"), "merge")),
    ("period-only merge", _cand("budget", Money(period="month"), "merge")),
    ("remove without value", _cand("parking", None, "remove")),
    ("remove with value", _cand("parking", Scalar(kind="bool", value=True), "remove")),
    ("size", _cand("size", Area(m2=500))),
    ("smallest size", _cand("size", Area(m2=1))),
    ("largest size", _cand("size", Area(m2=1_000_000))),
    ("size range", _cand("size", Area(m2=500, min_m2=400, max_m2=500))),
    ("property type", _cand("property_type", PropertyType(value="office"))),
    ("other property type", _cand("property_type", PropertyType(value="other", text="silo"))),
    ("city", _cand("city", CDMX)),
    ("zero parking spaces", _cand("parking_spaces", Scalar(kind="int", value=0))),
    ("parking spaces", _cand("parking_spaces", Scalar(kind="int", value=3))),
    ("date today", _cand("move_in_date", Scalar(kind="date", value=TODAY))),
    ("future date", _cand("move_in_date", Scalar(kind="date", value="2026-09-01"))),
    ("bool", _cand("pets_allowed", Scalar(kind="bool", value=False))),
    ("text", _cand("zone", Scalar(kind="text", value="Polanco"))),
    ("int for a float field", _cand("ceiling_height", Scalar(kind="int", value=8))),
    ("float", _cand("ceiling_height", Scalar(kind="float", value=7.5, unit="m"))),
    ("undeclared extra", _cand("rooftop", Scalar(kind="bool", value=True))),
    ("undeclared money extra", _cand("deposit", Money(amount=1_000, currency="USD"))),
]


@pytest.mark.parametrize(("name", "candidate"), PASSING, ids=[p[0] for p in PASSING])
def test_valid_candidates_are_accepted(name: str, candidate: Candidate) -> None:
    update = validate(Extraction(candidates=(candidate,)), "text", REGISTRY, TODAY)
    assert update.accepted == (candidate,)
    assert update.rejected == ()


FAILING: list[tuple[str, Candidate, str]] = [
    ("zero budget", _cand("budget", Money(amount=0, currency="USD")), "non_positive_amount"),
    ("negative budget", _cand("budget", Money(amount=-5_000)), "non_positive_amount"),
    ("negative minimum", _cand("budget", Money(amount=10, min=-1, max=10)), "non_positive_amount"),
    ("nan budget", _cand("budget", Money(amount=float("nan"))), "non_positive_amount"),
    ("negative merge", _cand("budget", Money(amount=-3), "merge"), "non_positive_amount"),
    (
        "absurd budget",
        _cand("budget", Money(amount=2.8e277, currency="USD")),
        "amount_out_of_range",
    ),
    ("absurd maximum", _cand("budget", Money(amount=5, min=5, max=1e13)), "amount_out_of_range"),
    ("negative extra money", _cand("deposit", Money(amount=-3)), "non_positive_amount"),
    ("inverted budget", _cand("budget", Money(amount=2, min=3, max=2)), "range_inverted"),
    ("size below 1", _cand("size", Area(m2=0.5)), "size_out_of_range"),
    ("size zero", _cand("size", Area(m2=0)), "size_out_of_range"),
    ("size above a million", _cand("size", Area(m2=2_000_000)), "size_out_of_range"),
    ("range bound out", _cand("size", Area(m2=10, min_m2=0, max_m2=10)), "size_out_of_range"),
    ("inverted size", _cand("size", Area(m2=400, min_m2=500, max_m2=400)), "range_inverted"),
    ("negative count", _cand("parking_spaces", Scalar(kind="int", value=-2)), "negative_count"),
    (
        "negative undeclared count",
        _cand("meeting_rooms", Scalar(kind="int", value=-1)),
        "negative_count",
    ),
    ("past date", _cand("move_in_date", Scalar(kind="date", value="2026-03-14")), "date_in_past"),
    (
        "garbled date",
        _cand("move_in_date", Scalar(kind="date", value="soon")),
        "unknown_field_type",
    ),
    ("area as budget", _cand("budget", Area(m2=500)), "unknown_field_type"),
    ("money as size", _cand("size", Money(amount=500, currency="USD")), "unknown_field_type"),
    ("city as type", _cand("property_type", CDMX), "unknown_field_type"),
    (
        "text count",
        _cand("parking_spaces", Scalar(kind="text", value="some")),
        "unknown_field_type",
    ),
    ("float count", _cand("parking_spaces", Scalar(kind="float", value=2.5)), "unknown_field_type"),
    ("bool as int", _cand("floor", Scalar(kind="int", value=True)), "unknown_field_type"),
    ("str in int scalar", _cand("floor", Scalar(kind="int", value="3")), "unknown_field_type"),
    ("set without value", _cand("budget", None), "unknown_field_type"),
    ("merge without value", _cand("size", None, "merge"), "unknown_field_type"),
]


@pytest.mark.parametrize(("name", "candidate", "reason"), FAILING, ids=[f[0] for f in FAILING])
def test_invalid_candidates_are_rejected_with_reason(
    name: str, candidate: Candidate, reason: str
) -> None:
    update = validate(Extraction(candidates=(candidate,)), "text", REGISTRY, TODAY)
    assert update.accepted == ()
    assert len(update.rejected) == 1
    rejection = update.rejected[0]
    assert rejection.reason == reason
    assert rejection.candidate == candidate
    assert rejection.detail


def test_split_keeps_order_and_copies_everything_else() -> None:
    first = _cand("budget", Money(amount=500, currency="USD"))
    bad = _cand("budget", Money(amount=-1))
    second = _cand("size", Area(m2=300))
    unknown = UnknownCity(text="Springfieldia", span=(3, 16), suggestions=("Springfield",))
    extraction = Extraction(
        candidates=(first, bad, second),
        signals=frozenset({"correction", "greeting"}),
        language="es",
        language_confidence=0.93,
        unknown_cities=(unknown,),
        choice=2,
    )
    update = validate(extraction, "hola, 500 USD, no, -1… 300 m2", REGISTRY, TODAY)
    assert update.text == "hola, 500 USD, no, -1… 300 m2"
    assert update.accepted == (first, second)
    assert [r.candidate for r in update.rejected] == [bad]
    assert update.signals == frozenset({"correction", "greeting"})
    assert update.language == "es"
    assert update.language_confidence == 0.93
    assert update.unknown_cities == (unknown,)
    assert update.choice == 2


def test_unusable_today_rejects_no_date() -> None:
    candidate = _cand("move_in_date", Scalar(kind="date", value="2001-01-01"))
    update = validate(Extraction(candidates=(candidate,)), "", REGISTRY, "not a date")
    assert update.accepted == (candidate,)
