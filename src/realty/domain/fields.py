"""The field registry: which fields exist, their types and which are required.

Declared as data (``realty/data/fields.yaml`` by default) so a deployment can change the
required set without code changes. Loading the file is done by the caller (settings); this
module only validates the mapping it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from realty.domain.brief import CORE_FIELDS, Language
from realty.errors import ConfigurationError

FieldType = Literal[
    "money", "area", "property_type", "city", "int", "float", "bool", "date", "text"
]
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)


class Localized(BaseModel):
    """A text in both conversation languages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    en: str
    es: str

    def __call__(self, language: Language) -> str:
        return self.es if language == "es" else self.en


class FieldSpec(BaseModel):
    """One field of the brief."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FieldType
    required: bool = False
    label: Localized
    ask: Localized | None = None
    # Phrases (any language) that state a yes/no field ("solar panels", "paneles solares"): the
    # parser reads them, with negation ("sin paneles solares"), without any code.
    words: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _required_needs_question(self) -> FieldSpec:
        if self.required and self.ask is None:
            raise ValueError(f"required field {self.key!r} needs an 'ask' text in en and es")
        if self.words and self.type != "bool":
            raise ValueError(f"field {self.key!r}: 'words' are read for bool fields only")
        if any(not w.strip() for w in self.words):
            raise ValueError(f"field {self.key!r}: an empty phrase in 'words'")
        return self


class FieldRegistry(BaseModel):
    """All known fields, in declaration order (the order questions are asked in)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specs: tuple[FieldSpec, ...]

    @model_validator(mode="after")
    def _unique_and_core(self) -> FieldRegistry:
        keys = [s.key for s in self.specs]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"duplicate field keys: {sorted(dupes)}")
        absent = [k for k in CORE_FIELDS if k not in keys]
        if absent:
            raise ValueError(f"core fields must be declared: {absent}")
        return self

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Keys the conversation must collect, in declaration order."""
        return tuple(s.key for s in self.specs if s.required)

    def phrases(self) -> dict[str, tuple[str, ...]]:
        """The ``words`` of every field that has some (what the parser reads from data)."""
        return {s.key: s.words for s in self.specs if s.words}

    @cached_property
    def _by_key(self) -> dict[str, FieldSpec]:
        return {s.key: s for s in self.specs}

    def spec(self, key: str) -> FieldSpec | None:
        """The spec for ``key`` or ``None`` for an undeclared extra."""
        return self._by_key.get(key)

    def label(self, key: str, language: Language) -> str:
        """Human label for ``key``; undeclared keys are spelled out from snake_case."""
        spec = self.spec(key)
        return spec.label(language) if spec else key.replace("_", " ")

    def with_required(self, keys: Iterable[str]) -> FieldRegistry:
        """A copy where exactly ``keys`` are required."""
        wanted = tuple(keys)
        unknown = [k for k in wanted if self.spec(k) is None]
        if unknown:
            raise ConfigurationError(
                f"REALTY_REQUIRED_FIELDS names undeclared fields {unknown}; declare them in the "
                "fields file (REALTY_FIELDS_FILE) first"
            )
        try:
            specs = tuple(
                FieldSpec.model_validate({**s.model_dump(), "required": s.key in wanted})
                for s in self.specs
            )
        except ValidationError as exc:
            raise ConfigurationError(f"invalid required field set: {exc}") from exc
        return FieldRegistry(specs=specs)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FieldRegistry:
        """Validate the parsed YAML document ``{"fields": {key: {...}}}``."""
        fields = data.get("fields") if isinstance(data, Mapping) else None
        if not isinstance(fields, Mapping) or not fields:
            raise ConfigurationError("the fields file must contain a non-empty 'fields' mapping")
        try:
            specs = tuple(
                FieldSpec.model_validate({"key": key, **(body or {})})
                for key, body in fields.items()
            )
            return cls(specs=specs)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid fields file: {exc}") from exc
