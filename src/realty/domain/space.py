"""How much office space a number of people needs: the space guide's figures per person
(``data/kb/how-much-space.*.md``: 8 to 10 m² each in an open plan, 12 to 15 m² with private
offices and meeting rooms, corridors, reception and restrooms included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from realty.domain.brief import Brief, PropertyType, Scalar

OPEN_PLAN_M2: Final = (8, 10)
PRIVATE_OFFICES_M2: Final = (12, 15)
# The kinds sized per person (a warehouse is sized by what it stores, a shop by its trade).
PER_PERSON_KINDS: Final = frozenset({"office", "coworking"})


@dataclass(frozen=True, slots=True)
class SpaceEstimate:
    """The m² ``people`` need: in an open plan, and with private offices."""

    people: int
    open_plan: tuple[int, int]
    private_offices: tuple[int, int]


def office_space(people: int) -> SpaceEstimate:
    """The space guide's figures for ``people`` people."""
    return SpaceEstimate(
        people=people,
        open_plan=(OPEN_PLAN_M2[0] * people, OPEN_PLAN_M2[1] * people),
        private_offices=(PRIVATE_OFFICES_M2[0] * people, PRIVATE_OFFICES_M2[1] * people),
    )


def estimate_for(brief: Brief) -> SpaceEstimate | None:
    """The estimate for the people the brief names, when its kind (if any) is sized per
    person; ``None`` otherwise."""
    people = brief.get("employees")
    if people is None or not isinstance(people.value, Scalar):
        return None
    count = people.value.value
    if isinstance(count, bool) or not isinstance(count, int | float) or count < 1:
        return None
    slot = brief.get("property_type")
    kind = slot.value if slot is not None and isinstance(slot.value, PropertyType) else None
    if kind is not None and kind.value not in PER_PERSON_KINDS:
        return None
    return office_space(int(count))
