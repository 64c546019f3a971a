"""The extraction prompts: a fixed system message, a compact user message and the answer model.

Two styles (``REALTY_LLM_PROMPT``):

``narrow`` (default)
    The model is asked only about the words the parser could not explain (``unread``), with
    closed choices: a property kind (also for a business described instead of a type) and
    extras under the registry's keys (or ``other`` with a name). It never reports a budget, a
    size or a city: the parser reads numbers and places, and the model's readings of them were
    the ones grounding had to drop. Answers are a few tokens.
``full``
    The model reads the whole message into every field of :class:`LLMAnswer`.

The system message never changes between calls so a local model can reuse its prompt-prefix
cache; everything that varies (the message, the unread words, what the bot asked, what is
already known) goes in a one-line JSON user message. Either answer is parsed into
:class:`LLMAnswer`; a malformed answer gets exactly one re-ask that quotes the error back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from realty.domain.brief import PROPERTY_KINDS, Area, City, Money, PropertyKind, PropertyType, Slot
from realty.domain.state import ConversationState
from realty.llm.base import ChatMessage, LLMRequest

SYSTEM_PROMPT = (
    "Extract facts about a commercial real-estate search from the user's message. "
    "Use only what THIS message states; use null (or an empty list) for anything not stated. "
    "Never guess, infer or convert numbers, cities or currencies. "
    "budget_currency is an ISO code and only when the message names a currency. "
    "size_m2 is the total surface in square metres. "
    "extras are other stated requirements; evidence is copied verbatim from the message. "
    "Reply with JSON only."
)
NARROW_SYSTEM_PROMPT = (
    "A parser read a commercial real-estate message but could not explain some of its words, "
    "listed in 'unread'. Report only what those words state. "
    "property_type: the kind of property they ask for, or the premises a business they describe "
    "would rent (a dental practice: medical; a distribution centre: warehouse; a call centre: "
    "office; a bakery branch: retail); null when they name none. "
    "property_text: those words, copied verbatim. "
    "extras: requirements they state (an amenity, a feature, a condition); key: one of "
    "{keys} when one fits, else other with a short snake_case name; value: a number, true, or "
    "a few words; evidence: the words, copied verbatim. "
    "Never report a budget, a size or a city. Reply with JSON only."
)
SCHEMA_NAME = "realty_extraction"
Style = Literal["narrow", "full"]
# Long messages are cut: the model only needs the part a prospect could reasonably mean, and a
# short prompt keeps a local model within its time budget.
MAX_MESSAGE_CHARS = 1200
MAX_BAD_ANSWER_CHARS = 400
MAX_EXTRAS = 12
MAX_CLAIM_CHARS = 300
# Bounds written into the schema: a constrained decoder cannot ramble past them, so an answer
# always closes within the token budget (an unbounded string can loop until the budget ends,
# leaving truncated JSON, a re-ask and a timeout). Looser validators above still cut, not fail.
SCHEMA_MAX_EXTRAS = 6
SCHEMA_MAX_STRING_CHARS = 80
_MAX_ERRORS_QUOTED = 3

ExtraType = Literal["int", "float", "bool", "date", "text"]

_LOOSE = ConfigDict(frozen=True, extra="ignore")


def known_kind(raw: Any) -> Any:
    """Accept any casing; an unlisted kind is an ``other`` (its words are grounded later)."""
    if not isinstance(raw, str):
        return raw
    kind = raw.strip().lower().replace(" ", "_").replace("-", "_")
    return kind if kind in PROPERTY_KINDS else "other"


class ExtraClaim(BaseModel):
    """One volunteered fact as the model reported it (not yet grounded)."""

    model_config = _LOOSE

    key: str
    value: bool | int | float | str
    type: ExtraType
    evidence: str

    @field_validator("key", "evidence", mode="before")
    @classmethod
    def _bounded(cls, raw: Any) -> Any:
        """Cut over-long strings: grounding only needs their start."""
        return raw[:MAX_CLAIM_CHARS] if isinstance(raw, str) else raw


class LLMAnswer(BaseModel):
    """The model's structured answer (not yet grounded in the user's text)."""

    model_config = _LOOSE

    property_type: PropertyKind | None = None
    property_text: str | None = None
    city: str | None = None
    budget_amount: float | None = None
    budget_currency: str | None = None
    budget_period: Literal["month", "total"] | None = None
    modality: Literal["rent", "buy"] | None = None
    size_m2: float | None = None
    extras: list[ExtraClaim] = Field(default_factory=list)

    @field_validator("extras", mode="before")
    @classmethod
    def _few_extras(cls, raw: Any) -> Any:
        """Keep the first extras only; a model that lists dozens is rambling."""
        return raw[:MAX_EXTRAS] if isinstance(raw, list) else raw

    @field_validator("property_type", mode="before")
    @classmethod
    def _known_kind(cls, raw: Any) -> Any:
        return known_kind(raw)

    @field_validator("budget_period", "modality", "budget_currency", mode="before")
    @classmethod
    def _trimmed(cls, raw: Any) -> Any:
        """Small models vary the case of closed values; an empty string means not stated."""
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        return text or None


class NarrowExtra(BaseModel):
    """One requirement in the unread words (narrow prompt)."""

    model_config = _LOOSE

    key: str
    name: str | None = None
    value: bool | int | float | str
    evidence: str


class NarrowAnswer(BaseModel):
    """The narrow prompt's answer: a kind and extras, nothing numeric or geographic."""

    model_config = _LOOSE

    property_type: PropertyKind | None = None
    property_text: str | None = None
    extras: list[NarrowExtra] = Field(default_factory=list)

    @field_validator("property_type", mode="before")
    @classmethod
    def _known_kind(cls, raw: Any) -> Any:
        return known_kind(raw)

    def widened(self) -> LLMAnswer:
        """The same answer as an :class:`LLMAnswer` (the grounder's input)."""
        extras = []
        for extra in self.extras[:MAX_EXTRAS]:
            # A listed key stands (the grounder drops it when the evidence does not name it);
            # the model's own name is used only with ``other``. Letting the name win over a
            # listed key that did not fit kept some wishes ("rooftop terrace" chosen as
            # top_priority) but filled briefs with clause fragments on the messy sets
            # ("con_lugar_para_estacionarse", "no_hay_fecha_de_entrada"): measured worse.
            key = (extra.name or extra.evidence) if extra.key == OTHER_KEY else extra.key
            value = extra.value  # a quoted "true" is read as yes by the grounder
            extras.append(
                ExtraClaim(key=key, value=value, type=_type_of(value), evidence=extra.evidence)
            )
        return LLMAnswer(
            property_type=self.property_type, property_text=self.property_text, extras=extras
        )


OTHER_KEY = "other"


def _type_of(value: bool | int | float | str) -> ExtraType:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "text"


# Schema keywords that only cost prompt tokens, or that OpenAI's strict mode rejects.
_DROPPED_KEYWORDS = ("title", "description", "default")


def _tighten(node: Any) -> None:
    """Close every object with all its properties required (nullable); bound free strings.

    Both OpenAI's strict mode and llama.cpp's grammar need every key listed; defaults are kept
    in the Pydantic model so a lenient answer still parses. Every free-text string gets a
    ``maxLength`` (closed enums need none).
    """
    if isinstance(node, dict):
        for keyword in _DROPPED_KEYWORDS:
            if not isinstance(node.get(keyword), dict):  # a property may be named so
                node.pop(keyword, None)
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        if node.get("type") == "string" and "enum" not in node:
            node["maxLength"] = SCHEMA_MAX_STRING_CHARS
        for child in node.values():
            _tighten(child)
    elif isinstance(node, list):
        for child in node:
            _tighten(child)


def answer_schema() -> dict[str, Any]:
    """The JSON schema of the full prompt (built from :class:`LLMAnswer`)."""
    schema = LLMAnswer.model_json_schema()
    _tighten(schema)
    schema["properties"]["extras"]["maxItems"] = SCHEMA_MAX_EXTRAS
    return schema


def narrow_schema(keys: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of the narrow prompt: extras' keys closed to ``keys`` and ``other``."""
    schema = NarrowAnswer.model_json_schema()
    _tighten(schema)
    schema["properties"]["extras"]["maxItems"] = SCHEMA_MAX_EXTRAS
    extra = schema["$defs"]["NarrowExtra"]
    extra["properties"]["key"] = {"type": "string", "enum": [*keys, OTHER_KEY]}
    return schema


def _short_value(slot: Slot) -> str | float | bool | int:
    """A few words for one known value, enough for the model to read follow-ups in context."""
    value = slot.value
    if isinstance(value, Money):
        parts = [f"{value.amount:g}" if value.amount is not None else "?"]
        parts += [p for p in (value.currency, value.period and f"/{value.period}") if p]
        return " ".join(parts)
    if isinstance(value, Area):
        return f"{value.m2:g} m2"
    if isinstance(value, PropertyType | City):
        return value.value
    return value.value


def compact_brief(state: ConversationState) -> dict[str, str | float | bool | int]:
    """The brief so far as ``key → short value`` (valid values only)."""
    return {
        key: _short_value(slot)
        for key, slot in state.brief.slots.items()
        if slot.meta.status != "invalid"
    }


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        quoted = [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in error.errors()[:_MAX_ERRORS_QUOTED]
        ]
        return "; ".join(quoted)
    return str(error)[:200]


class PromptBuilder:
    """Builds extraction requests and parses their answers."""

    def __init__(
        self, *, style: Style = "full", extra_keys: Sequence[str] = (), max_tokens: int = 256
    ) -> None:
        """Build the schema once; it is identical for every request.

        Args:
            style: ``narrow`` (the unread words only, closed choices) or ``full``.
            extra_keys: The registry's extras, offered as closed choices (narrow).
            max_tokens: Completion budget per call (a full answer needs about 120 tokens).
        """
        self._style = style
        if style == "narrow":
            self._schema = narrow_schema(extra_keys)
            system = NARROW_SYSTEM_PROMPT.format(keys=", ".join(extra_keys) or "none")
        else:
            self._schema = answer_schema()
            system = SYSTEM_PROMPT
        self._system = ChatMessage(role="system", content=system)
        self._max_tokens = max_tokens

    @property
    def style(self) -> Style:
        """Which prompt this builder writes."""
        return self._style

    @property
    def schema(self) -> dict[str, Any]:
        """A copy of the JSON schema requests carry."""
        return json.loads(json.dumps(self._schema))  # type: ignore[no-any-return]

    def request(
        self, text: str, state: ConversationState, unread: Sequence[str] = ()
    ) -> LLMRequest:
        """The first request for ``text`` in the conversation ``state``.

        ``unread``: the phrases the parser could not explain (the narrow prompt's question).
        """
        payload: dict[str, Any] = {"message": text[:MAX_MESSAGE_CHARS]}
        if self._style == "narrow":
            payload["unread"] = list(unread)
        else:
            payload["asked"] = list(state.asked)
            payload["known"] = compact_brief(state)
        user = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return self._build((self._system, ChatMessage(role="user", content=user)))

    def reask(self, request: LLMRequest, bad_answer: str, error: Exception) -> LLMRequest:
        """``request`` followed by the unusable answer and what was wrong with it."""
        follow_up = (
            f"That answer was invalid ({_error_text(error)}). "
            "Reply again with one JSON object that matches the schema, nothing else."
        )
        return self._build(
            (
                *request.messages,
                ChatMessage(role="assistant", content=bad_answer[:MAX_BAD_ANSWER_CHARS]),
                ChatMessage(role="user", content=follow_up),
            )
        )

    def parse(self, answer: str) -> LLMAnswer:
        """Parse the model's text.

        Raises:
            ValidationError: The text is not JSON or does not match the answer model.
        """
        if self._style == "narrow":
            return NarrowAnswer.model_validate_json(_strip_fences(answer)).widened()
        return LLMAnswer.model_validate_json(_strip_fences(answer))

    def _build(self, messages: tuple[ChatMessage, ...]) -> LLMRequest:
        return LLMRequest(
            messages=messages,
            json_schema=self._schema,
            schema_name=SCHEMA_NAME,
            max_tokens=self._max_tokens,
            temperature=0.0,
        )


def _strip_fences(answer: str) -> str:
    """Models without constrained decoding wrap JSON in a code fence; keep only the object."""
    text = answer.strip()
    if text.startswith("```"):
        start, end = text.find("{"), text.rfind("}")
        if start != -1 and end > start:
            return text[start : end + 1]
    return text
