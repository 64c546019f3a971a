"""The describe stage: a brief in words, for the screens that show it (sidebar, widget chips).

Interfaces must not format values themselves (they would keep a second copy of the reply
vocabulary), so the API sends, next to the canonical brief, a :class:`BriefDisplay`: every
value in words in the conversation's language, its label, where it came from and its status,
what is still missing, progress, and the summary once the brief is complete. It is built from
the same templates as the replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from realty.domain.brief import (
    CORE_FIELDS,
    Area,
    Brief,
    City,
    Language,
    Meta,
    Money,
    PropertyType,
    Scalar,
    Slot,
    Source,
    Status,
)
from realty.domain.fields import FieldRegistry
from realty.pipeline.respond import Responder

_OUT = ConfigDict(frozen=True, extra="forbid")

# The value class of each typed field, by the field registry's type name.
_VALUE_TYPES: Mapping[str, type[Money | Area | PropertyType | City]] = {
    "money": Money,
    "area": Area,
    "property_type": PropertyType,
    "city": City,
}
_META_KEYS = frozenset(Meta.model_fields)


class ValueView(BaseModel):
    """One value of the brief as a person reads it."""

    model_config = _OUT

    key: str
    label: str
    text: str
    source: Source
    status: Status
    required: bool


class MissingView(BaseModel):
    """A required field still to collect."""

    model_config = _OUT

    key: str
    label: str


class BriefDisplay(BaseModel):
    """A brief in words, in its conversation's language."""

    model_config = _OUT

    language: Language
    required: int
    filled: int
    complete: bool
    fields: list[ValueView]
    extras: list[ValueView]
    missing: list[MissingView]
    summary: str | None


class Describer:
    """Writes briefs in words with the reply templates.

    Args:
        registry: The field registry (labels, which fields are required, field types).
    """

    def __init__(self, registry: FieldRegistry) -> None:
        self._registry = registry
        self._responder = Responder(registry)
        self._required = registry.required

    def describe(self, brief: Brief) -> BriefDisplay:
        """``brief`` in words, in ``brief.language``."""
        language = brief.language
        order = {spec.key: i for i, spec in enumerate(self._registry.specs)}
        in_fields = set(CORE_FIELDS) | set(self._required)
        keys = sorted(brief.slots, key=lambda k: (order.get(k, len(order)), k))
        missing = brief.missing(self._required)
        views = {key: self._view(key, brief.slots[key], language) for key in keys}
        return BriefDisplay(
            language=language,
            required=len(self._required),
            filled=len(self._required) - len(missing),
            complete=not missing,
            fields=[v for k, v in views.items() if k in in_fields],
            extras=[v for k, v in views.items() if k not in in_fields],
            missing=[MissingView(key=k, label=self._registry.label(k, language)) for k in missing],
            summary=self._responder.summary_items(brief, language) if not missing else None,
        )

    def describe_json(self, brief: Mapping[str, Any]) -> BriefDisplay:
        """A canonical brief JSON (as stored with every turn) in words."""
        return self.describe(self.brief_of(brief))

    def brief_of(self, data: Mapping[str, Any]) -> Brief:
        """The brief a canonical JSON document describes (values it cannot read are skipped).

        Args:
            data: ``{"fields": {...}, "extras": {...}, "language": ...}`` as
                :meth:`Brief.to_json` writes it.
        """
        slots: dict[str, Slot] = {}
        for section in ("fields", "extras"):
            items = data.get(section) or {}
            for key, item in items.items():
                slot = self._slot(key, item)
                if slot is not None:
                    slots[key] = slot
        language = "es" if data.get("language") == "es" else "en"
        return Brief(slots=slots, language=language)

    def _slot(self, key: str, item: Mapping[str, Any]) -> Slot | None:
        spec = self._registry.spec(key)
        kind = item.get("type") or (spec.type if spec else None)
        if kind is None:
            return None
        meta = {k: v for k, v in item.items() if k in _META_KEYS}
        attrs = {k: v for k, v in item.items() if k not in _META_KEYS and k != "type"}
        try:
            cls = _VALUE_TYPES.get(kind)
            value = (
                cls.model_validate(attrs) if cls else Scalar.model_validate({**attrs, "kind": kind})
            )
            return Slot(value=value, meta=Meta.model_validate(meta))
        except ValidationError:
            return None

    def _view(self, key: str, slot: Slot, language: Language) -> ValueView:
        return ValueView(
            key=key,
            label=self._registry.label(key, language),
            text=self._responder.value_text(slot, language, short=True),
            source=slot.meta.source,
            status=slot.meta.status,
            required=key in self._required,
        )
