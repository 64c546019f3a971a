"""The edit stage: direct brief edits (a form) turned into candidates, like chat input.

A field may be given as a structured value (``{"amount": 20000, "currency": "USD"}``) or as
words the parser reads as if the prospect had answered that field's question
(``"20 mil dólares al mes"``); ``null`` removes it. The candidates (source ``user_edit``) then
go through the same validation and conversation policy as a chat message, so a form cannot
store anything a message could not. Problems are returned, not raised: the service refuses
the whole edit when there is any.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from realty.domain.brief import (
    CORE_FIELDS,
    MAX_SAFE_INTEGER,
    PROPERTY_KINDS,
    Area,
    Language,
    Money,
    PropertyType,
    Scalar,
    Value,
)
from realty.domain.fields import FieldRegistry
from realty.domain.turn import Candidate, Extraction, ParseContext
from realty.pipeline.parse import Parser

MAX_EDIT_TEXT = 200
MAX_EXTRAS = 50
_NO_SPAN = (0, 0)

_Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_EDIT_TEXT)
]
ExtraKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _safe_integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(f"integers must be within ±{MAX_SAFE_INTEGER:,} (2^53 - 1)")
    return value


_Safe = BeforeValidator(_safe_integer)
_Number = Annotated[float, _Safe, Field(allow_inf_nan=False)]
ExtraValue = Annotated[bool | int | float | _Text | None, _Safe]
Problem = tuple[str, str]

_FORM = ConfigDict(frozen=True, extra="forbid")


class BudgetEdit(BaseModel):
    """A budget as a form sends it."""

    model_config = _FORM

    amount: _Number = Field(description="What the prospect can spend.")
    currency: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$")] = Field(
        description="ISO 4217 code, e.g. MXN, USD, EUR."
    )
    period: Literal["month", "total"] | None = None
    modality: Literal["rent", "buy"] | None = None
    min: _Number | None = None
    max: _Number | None = None


class SizeEdit(BaseModel):
    """A total size in square metres as a form sends it."""

    model_config = _FORM

    m2: _Number = Field(description="Total size in m².")
    min_m2: _Number | None = None
    max_m2: _Number | None = None


class BriefPatch(BaseModel):
    """Direct edits to a brief; only the members present change it, ``null`` removes."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "budget": {"amount": 20000, "currency": "USD", "period": "month"},
                    "size": {"m2": 500},
                    "property_type": "office",
                    "city": "Mexico City",
                    "extras": {"parking_spaces": 10, "pets_allowed": None},
                },
                {"budget": "20 mil dólares al mes", "size": "5,000 sq ft"},
            ]
        },
    )

    budget: BudgetEdit | _Text | None = None
    size: SizeEdit | _Text | None = None
    property_type: _Text | None = Field(
        default=None, description="A kind (office, warehouse, …) or the prospect's words."
    )
    city: _Text | None = None
    extras: dict[ExtraKey, ExtraValue] = Field(default_factory=dict, max_length=MAX_EXTRAS)
    language: Language | None = Field(
        default=None,
        description="Switch the conversation to this language (a language switch); the "
        "reply asks for what is still missing, or repeats the summary, in it.",
    )


class BriefEditor:
    """Builds the candidates of a :class:`BriefPatch`."""

    def __init__(self, registry: FieldRegistry, parser: Parser) -> None:
        self._registry = registry
        self._parser = parser

    def extraction(self, patch: BriefPatch, ctx: ParseContext) -> tuple[Extraction, list[Problem]]:
        """The candidates ``patch`` states and the problems that keep it from applying."""
        candidates: list[Candidate] = []
        problems: list[Problem] = []
        for key in CORE_FIELDS:
            if key not in patch.model_fields_set:
                continue
            raw = getattr(patch, key)
            if raw is None:
                candidates.append(_remove(key))
                continue
            value = self._core(key, raw, ctx)
            if isinstance(value, str):
                problems.append((key, value))
            else:
                candidates.append(_set(key, value))
        for key, raw in patch.extras.items():
            if raw is None:
                candidates.append(_remove(key))
                continue
            extra = self._extra(key, raw)
            if isinstance(extra, str):
                problems.append((f"extras.{key}", extra))
            else:
                candidates.append(_set(key, extra))
        if patch.language is None:
            return Extraction(candidates=tuple(candidates)), problems
        switched = Extraction(
            candidates=tuple(candidates),
            signals=frozenset({"switch_language"}),
            language=patch.language,
            language_confidence=1.0,
        )
        return switched, problems

    def _core(self, key: str, raw: Any, ctx: ParseContext) -> Value | str:
        """The value of a core field, or a problem."""
        if isinstance(raw, BudgetEdit):
            return Money(**raw.model_dump())
        if isinstance(raw, SizeEdit):
            return Area(**raw.model_dump())
        text = str(raw)
        if key == "city":
            city = self._parser.cities.gazetteer.resolve(text)
            if city is not None:
                return city
            options = ", ".join(self._parser.cities.gazetteer.suggest(text))
            hint = f"; did you mean {options}?" if options else ""
            return f"unknown city {text!r}{hint}"
        if key == "property_type" and text.lower() in PROPERTY_KINDS and text.lower() != "other":
            return PropertyType.model_validate({"value": text.lower()})
        parsed = self._read(key, text, ctx)
        if parsed is not None:
            return parsed
        if key == "property_type":
            # As in chat, an unknown kind is kept in the prospect's words and confirmed.
            return PropertyType(value="other", text=text)
        label = self._label(key)
        return f"could not read a {label} from {text!r}"

    def _read(self, key: str, text: str, ctx: ParseContext) -> Value | None:
        """Parse ``text`` as the answer to the question for ``key``."""
        asked = ctx.model_copy(update={"asked": (key,), "options": ()})
        for cand in self._parser.parse(text, asked).candidates:
            if cand.key == key and cand.value is not None and cand.op != "remove":
                return cand.value
        return None

    def _extra(self, key: str, raw: bool | int | float | str) -> Value | str:
        """A typed extra, following the registry's type when the key is known."""
        if key in CORE_FIELDS:
            return f"{key} is a field of the brief, not an extra"
        spec = self._registry.spec(key)
        wanted = spec.type if spec is not None else _inferred_kind(raw)
        match wanted:
            case "bool" if isinstance(raw, bool):
                return Scalar(kind="bool", value=raw)
            case "int" if isinstance(raw, int) and not isinstance(raw, bool):
                return Scalar(kind="int", value=raw)
            case "float" if isinstance(raw, int | float) and not isinstance(raw, bool):
                if not math.isfinite(raw):
                    return "must be a finite number"
                return Scalar(kind="float", value=float(raw))
            case "date" if isinstance(raw, str):
                try:
                    return Scalar(kind="date", value=dt.date.fromisoformat(raw).isoformat())
                except ValueError:
                    return f"expects an ISO date (YYYY-MM-DD), got {raw!r}"
            case "text" if isinstance(raw, str):
                return Scalar(kind="text", value=raw)
        return f"expects {_A_KIND.get(wanted, wanted)}, got {_json_type(raw)}"

    def _label(self, key: str) -> str:
        spec = self._registry.spec(key)
        return spec.label.en if spec is not None else key


_A_KIND = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "date": "an ISO date (YYYY-MM-DD)",
    "text": "text",
}


def _inferred_kind(raw: bool | int | float | str) -> str:
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, int):
        return "int"
    if isinstance(raw, float):
        return "float"
    try:
        dt.date.fromisoformat(raw)
    except ValueError:
        return "text"
    return "date"


def _json_type(raw: bool | int | float | str) -> str:
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float):
        return "a number"
    return "text"


def _set(key: str, value: Value) -> Candidate:
    return Candidate(key=key, value=value, span=_NO_SPAN, confidence=1.0, source="user_edit")


def _remove(key: str) -> Candidate:
    return Candidate(key=key, op="remove", span=_NO_SPAN, confidence=1.0, source="user_edit")
