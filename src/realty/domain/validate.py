"""Validation: split a message's candidates into accepted values and rejections.

Pure domain code. A rejected value is data (a :class:`~realty.domain.turn.Rejection` with a
reason), never an exception: the conversation policy keeps the previous value and the reply
explains why.
"""

from __future__ import annotations

import math
from datetime import date

from realty.domain.brief import Area, Money, Scalar, Value
from realty.domain.fields import FieldRegistry, FieldType
from realty.domain.turn import Candidate, Extraction, Rejection, RejectReason, TurnUpdate

MIN_SIZE_M2 = 1.0
MAX_SIZE_M2 = 1_000_000.0
# Larger than any real estate budget in any currency the product quotes; a bound keeps
# absurd figures ("1e277") out of briefs, replies and leads.
MAX_AMOUNT = 1e12

# Which value kinds a declared field type accepts. An int is a valid float (a ceiling of "8"
# is 8.0 m), the reverse is not (half a parking space is not a count).
_ACCEPTED_KINDS: dict[FieldType, frozenset[str]] = {
    "money": frozenset({"money"}),
    "area": frozenset({"area"}),
    "property_type": frozenset({"property_type"}),
    "city": frozenset({"city"}),
    "int": frozenset({"int"}),
    "float": frozenset({"float", "int"}),
    "bool": frozenset({"bool"}),
    "date": frozenset({"date"}),
    "text": frozenset({"text"}),
}

# The Python types a scalar of each kind may carry (bool is an int subclass, hence the care).
_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "date": (str,),
    "text": (str,),
}

_Problem = tuple[RejectReason, str]


def validate(extraction: Extraction, text: str, registry: FieldRegistry, today: str) -> TurnUpdate:
    """Check every candidate of ``extraction`` and build the update ``advance`` consumes.

    Args:
        extraction: What the parser (or the LLM extractor) found in the message.
        text: The original message.
        registry: The field registry, which declares the type of each known key.
        today: The current date as ISO ``YYYY-MM-DD``; dates before it are rejected.

    Returns:
        The accepted candidates (in their original order), the rejections, and the
        message's signals, language, unknown cities and choice copied unchanged.
    """
    accepted: list[Candidate] = []
    rejected: list[Rejection] = []
    for candidate in extraction.candidates:
        problem = check(candidate, registry, today)
        if problem is None:
            accepted.append(candidate)
        else:
            reason, detail = problem
            rejected.append(Rejection(candidate=candidate, reason=reason, detail=detail))
    return TurnUpdate(
        text=text,
        accepted=tuple(accepted),
        rejected=tuple(rejected),
        signals=extraction.signals,
        language=extraction.language,
        language_confidence=extraction.language_confidence,
        unknown_cities=extraction.unknown_cities,
        unknown_about=extraction.unknown_about,
        to_change=extraction.to_change,
        choice=extraction.choice,
    )


def check(candidate: Candidate, registry: FieldRegistry, today: str) -> _Problem | None:
    """The reason ``candidate`` cannot enter the brief, or ``None`` when it can.

    Args:
        candidate: One value found in a message.
        registry: The field registry.
        today: The current date as ISO ``YYYY-MM-DD``.

    Returns:
        ``(reason, detail)`` for an invalid candidate, otherwise ``None``.
    """
    value = candidate.value
    if value is None:
        # Withdrawing a field needs no value; setting one does.
        if candidate.op == "remove":
            return None
        return "unknown_field_type", f"no value given for {candidate.key!r}"
    type_problem = _type_problem(candidate.key, value, registry)
    if type_problem is not None:
        return type_problem
    return _value_problem(value, today)


def _type_problem(key: str, value: Value, registry: FieldRegistry) -> _Problem | None:
    spec = registry.spec(key)
    if spec is not None and value.kind not in _ACCEPTED_KINDS[spec.type]:
        return "unknown_field_type", f"{key!r} expects {spec.type}, got {value.kind}"
    if isinstance(value, Scalar) and not _scalar_consistent(value):
        return "unknown_field_type", f"{value.kind} scalar holds {type(value.value).__name__}"
    return None


def _scalar_consistent(value: Scalar) -> bool:
    raw = value.value
    if value.kind != "bool" and isinstance(raw, bool):
        return False
    if isinstance(raw, float) and not math.isfinite(raw):
        return False
    return isinstance(raw, _SCALAR_TYPES[value.kind])


def _value_problem(value: Value, today: str) -> _Problem | None:
    if isinstance(value, Money):
        return _money_problem(value)
    if isinstance(value, Area):
        return _area_problem(value)
    if isinstance(value, Scalar):
        return _scalar_problem(value, today)
    # Property types and cities come from closed lists and have no range to check.
    return None


def _money_problem(money: Money) -> _Problem | None:
    figures = [x for x in (money.amount, money.min, money.max) if x is not None]
    # NaN compares false with everything, so it is caught explicitly with infinities.
    if any(not math.isfinite(x) or x <= 0 for x in figures):
        return "non_positive_amount", f"amounts must be positive: {figures}"
    if any(x > MAX_AMOUNT for x in figures):
        return "amount_out_of_range", f"amounts must be at most {MAX_AMOUNT:,.0f}: {figures}"
    if money.min is not None and money.max is not None and money.min > money.max:
        return "range_inverted", f"minimum {money.min} is above maximum {money.max}"
    return None


def _area_problem(area: Area) -> _Problem | None:
    figures = [x for x in (area.m2, area.min_m2, area.max_m2) if x is not None]
    if any(not (MIN_SIZE_M2 <= x <= MAX_SIZE_M2) for x in figures):
        return "size_out_of_range", f"sizes must be within 1..1,000,000 m²: {figures}"
    if area.min_m2 is not None and area.max_m2 is not None and area.min_m2 > area.max_m2:
        return "range_inverted", f"minimum {area.min_m2} m² is above maximum {area.max_m2} m²"
    return None


def _scalar_problem(value: Scalar, today: str) -> _Problem | None:
    raw = value.value
    if value.kind == "int" and isinstance(raw, int) and raw < 0:
        return "negative_count", f"a count cannot be negative: {raw}"
    if value.kind == "date" and isinstance(raw, str):
        return _date_problem(raw, today)
    return None


def _date_problem(raw: str, today: str) -> _Problem | None:
    try:
        when = date.fromisoformat(raw)
    except ValueError:
        return "unknown_field_type", f"not an ISO date: {raw!r}"
    try:
        now = date.fromisoformat(today)
    except ValueError:
        # Without a usable reference date nothing can be called past.
        return None
    if when < now:
        return "date_in_past", f"{raw} is before {today}"
    return None
