"""The brief: what a prospect wants, as typed values with provenance.

Pure domain code: no I/O. A brief maps field keys to :class:`Slot` objects (a typed value plus
its :class:`Meta`). Which keys are reported under ``fields`` and which under ``extras`` is
decided by the field registry (required and core fields go to ``fields``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "es"]
Status = Literal["valid", "invalid", "unconfirmed"]
Source = Literal["parser", "llm", "user_edit"]
Period = Literal["month", "total"]
Modality = Literal["rent", "buy"]
PropertyKind = Literal[
    "office",
    "warehouse",
    "industrial",
    "retail",
    "land",
    "coworking",
    "medical",
    "hotel",
    "mixed_use",
    "apartment",
    "house",
    "other",
]
PROPERTY_KINDS: tuple[PropertyKind, ...] = get_args(PropertyKind)
LANGUAGES: tuple[Language, ...] = get_args(Language)

CORE_FIELDS: tuple[str, ...] = ("budget", "size", "property_type", "city")
# The brief's fields a broker reaches the prospect by, preferred first (parsing/contact.py):
# how to reach someone, not what they are looking for.
CONTACT_KEYS: tuple[str, ...] = ("phone", "email")
# How to reach the prospect and when to show them a place: arrangements around the search,
# which a brief already summarised is not summarised again for.
ARRANGEMENT_KEYS: tuple[str, ...] = (*CONTACT_KEYS, "visit_date")

_FROZEN = ConfigDict(frozen=True, extra="forbid")
# Integers a JavaScript client holds exactly (and every store and JSON encoder accepts).
MAX_SAFE_INTEGER = 2**53 - 1


class Meta(BaseModel):
    """Provenance and trust of one value."""

    model_config = _FROZEN

    status: Status = "valid"
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    source: Source = "parser"
    turn: int = Field(default=0, ge=0)
    span: tuple[int, int] | None = None


class Money(BaseModel):
    """An amount of money, possibly a range, per month or in total.

    ``amount`` is the figure the prospect can spend (the upper bound of a range). A partial
    value (for example only ``currency``) is used to update an existing budget.
    """

    model_config = _FROZEN

    kind: Literal["money"] = "money"
    amount: float | None = None
    currency: str | None = None
    period: Period | None = None
    min: float | None = None
    max: float | None = None
    modality: Modality | None = None
    original: str | None = None

    def is_complete(self) -> bool:
        """A budget is usable once it has an amount and a currency."""
        return self.amount is not None and self.currency is not None


class Area(BaseModel):
    """A surface in square metres; ``original`` keeps what the prospect wrote."""

    model_config = _FROZEN

    kind: Literal["area"] = "area"
    m2: float
    min_m2: float | None = None
    max_m2: float | None = None
    original: str | None = None

    def is_complete(self) -> bool:
        """An area is always complete once it exists."""
        return True


class PropertyType(BaseModel):
    """One of the closed list of property kinds; ``text`` keeps the words used.

    ``proposed`` marks a kind inferred from a business the prospect described ("a dental
    practice" → medical) rather than named: it stays unconfirmed until the prospect agrees.
    """

    model_config = _FROZEN

    kind: Literal["property_type"] = "property_type"
    value: PropertyKind
    text: str | None = None
    proposed: bool = False

    def is_complete(self) -> bool:
        """A named property type is complete; a proposed one waits for the prospect's yes."""
        return not self.proposed


class City(BaseModel):
    """A city from the gazetteer, by its canonical name."""

    model_config = _FROZEN

    kind: Literal["city"] = "city"
    value: str
    country: str
    lat: float
    lon: float
    admin1: str | None = None

    def is_complete(self) -> bool:
        """A resolved city is always complete."""
        return True


class Scalar(BaseModel):
    """A typed scalar: int, float, bool, date (ISO ``YYYY-MM-DD``) or text."""

    model_config = _FROZEN

    kind: Literal["int", "float", "bool", "date", "text"]
    value: int | float | bool | str
    unit: str | None = None

    def is_complete(self) -> bool:
        """A scalar is always complete once it exists."""
        return True


Value = Annotated[Money | Area | PropertyType | City | Scalar, Field(discriminator="kind")]


# What only records the prospect's wording: "warehouses" and "bodega" name the same kind,
# "500 m2" and "500 square meters" the same size.
_WORDING: Final[set[str]] = {"text", "original"}


def same_meaning(a: Value, b: Value) -> bool:
    """Whether two values say the same, however they were worded. A kind outside the list
    ("other") is what its words say, so they count for it."""
    if isinstance(a, PropertyType) and a.value == "other":
        return a == b
    return a.model_dump(exclude=_WORDING) == b.model_dump(exclude=_WORDING)


class Slot(BaseModel):
    """A value in the brief together with where it came from."""

    model_config = _FROZEN

    value: Value
    meta: Meta = Meta()


def _plain(number: Any) -> Any:
    """Render integral floats as ints so the JSON reads ``20000`` rather than ``20000.0``.

    Past 2^53 a float stays a float: the int would not be exact in a JSON client, and past
    2^64 the JSON encoder refuses it (a budget of 1e20 was a 500).
    """
    if isinstance(number, float) and number.is_integer() and abs(number) <= MAX_SAFE_INTEGER:
        return int(number)
    return number


def slot_json(slot: Slot, *, with_type: bool) -> dict[str, Any]:
    """Canonical JSON object for one slot: value attributes, then meta."""
    data = slot.value.model_dump(mode="json")
    kind = data.pop("kind")
    if isinstance(slot.value, Scalar):
        if data.get("unit") is None:
            data.pop("unit", None)
    elif isinstance(slot.value, PropertyType | City) and data.get("text", "") is None:
        data.pop("text", None)
    out: dict[str, Any] = {k: _plain(v) for k, v in data.items()}
    if with_type:
        out["type"] = kind
    meta = slot.meta.model_dump(mode="json")
    meta["span"] = list(slot.meta.span) if slot.meta.span is not None else None
    out.update(meta)
    return out


class Brief(BaseModel):
    """The structured brief. Immutable: every change returns a new brief."""

    model_config = _FROZEN

    slots: dict[str, Slot] = Field(default_factory=dict)
    language: Language = "en"

    def get(self, key: str) -> Slot | None:
        """The slot for ``key`` or ``None`` when not known yet."""
        return self.slots.get(key)

    def with_slot(self, key: str, slot: Slot) -> Brief:
        """A copy with ``key`` set to ``slot``."""
        return self.model_copy(update={"slots": {**self.slots, key: slot}})

    def without(self, key: str) -> Brief:
        """A copy with ``key`` removed (no-op when absent)."""
        return self.model_copy(update={"slots": {k: v for k, v in self.slots.items() if k != key}})

    def with_language(self, language: Language) -> Brief:
        """A copy in another conversation language."""
        return self.model_copy(update={"language": language})

    def missing(self, required: Iterable[str]) -> list[str]:
        """Required keys that are absent or not yet usable, in the registry's order."""
        out = []
        for key in required:
            slot = self.slots.get(key)
            if slot is None or slot.meta.status == "invalid" or not slot.value.is_complete():
                out.append(key)
        return out

    def to_json(self, required: Iterable[str]) -> dict[str, Any]:
        """The canonical JSON contract (see README, "The brief")."""
        required = tuple(required)
        in_fields = set(CORE_FIELDS) | set(required)
        fields = {k: slot_json(s, with_type=False) for k, s in self.slots.items() if k in in_fields}
        extras = {
            k: slot_json(s, with_type=True) for k, s in self.slots.items() if k not in in_fields
        }
        missing = self.missing(required)
        return {
            "fields": fields,
            "extras": extras,
            "missing": missing,
            "complete": not missing,
            "language": self.language,
        }

    @classmethod
    def from_slots(cls, slots: Mapping[str, Slot], language: Language = "en") -> Brief:
        """Build a brief from a mapping of slots."""
        return cls(slots=dict(slots), language=language)
