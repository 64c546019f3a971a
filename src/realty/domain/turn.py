"""What one user message says, as data: candidates, signals and open questions.

The parser (and later the LLM extractor) produce a :class:`Extraction`; the validator turns it
into a :class:`TurnUpdate` that :func:`realty.domain.machine.advance` consumes. Pure data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import Language, Source, Value

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Signal = Literal[
    "greeting",  # hola, hi, good morning
    "affirm",  # yes, sí, correct, that's right
    "deny",  # no, nope, that's wrong
    "dont_know",  # no sé todavía, not sure yet
    "start_over",  # start over, empezar de nuevo
    "thanks",  # gracias, thank you
    "help",  # what can you do?, ayuda
    "question",  # the message asks something (ends with ? or starts with a question word)
    "correction",  # actually, no wait, mejor, en realidad
    "off_topic",  # words, but nothing about property search
    "gibberish",  # no recognisable words at all
    "switch_language",  # an explicit request to switch language (a form's language switch)
]

# How a candidate applies to the brief:
#   set     replace the value (the latest valid value wins)
#   merge   fill the non-null attributes into the existing value (e.g. only a currency or a
#           period for an existing budget); creates the value when absent
#   remove  the prospect withdrew it ("forget the parking", "ya no necesito estacionamiento")
CandidateOp = Literal["set", "merge", "remove"]


class Candidate(BaseModel):
    """One value the message appears to state for one field or extra."""

    model_config = _FROZEN

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    value: Value | None = None
    op: CandidateOp = "set"
    span: tuple[int, int]
    confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    source: Source = "parser"
    currency_hint: str | None = None  # the raw currency mark when it was ambiguous ("$")


# Where the cities offered for an unknown place come from: the names closest to a misspelt
# one (``typo``), several cities the prospect named as a choice ("Guadalajara o Monterrey":
# ``named``), or the cities of a region named instead of a city ("el Bajío": ``region``).
OptionsFrom = Literal["typo", "named", "region"]


class UnknownCity(BaseModel):
    """A place that sets no city yet, with the known cities to offer (``options_from``)."""

    model_config = _FROZEN

    text: str
    span: tuple[int, int]
    suggestions: tuple[str, ...] = ()
    options_from: OptionsFrom = "typo"


class Extraction(BaseModel):
    """Everything a message says, before validation.

    ``coverage`` is the fraction of the message's word characters explained by candidates and
    signals (1.0 = fully explained); the LLM stage uses it to decide whether it is needed.
    """

    model_config = _FROZEN

    candidates: tuple[Candidate, ...] = ()
    signals: frozenset[Signal] = frozenset()
    language: Language | None = None
    language_confidence: float = 0.0
    unknown_cities: tuple[UnknownCity, ...] = ()
    # The required fields a "don't know" names ("no sé el presupuesto"); empty: what was asked.
    unknown_about: frozenset[str] = frozenset()
    # The required fields the message says are wrong or asks to change ("the size is wrong").
    to_change: frozenset[str] = frozenset()
    coverage: float = 1.0
    # Answer to a pending choice the bot offered (index into its options), e.g. "the second one".
    choice: int | None = None


RejectReason = Literal[
    "non_positive_amount",  # budget <= 0
    "amount_out_of_range",  # budget above MAX_AMOUNT
    "range_inverted",  # min > max
    "size_out_of_range",  # outside 1 .. 1,000,000 m²
    "negative_count",  # a count below zero
    "date_in_past",
    "unknown_field_type",
    "brief_full",  # past REALTY_MAX_EXTRAS extras or REALTY_MAX_BRIEF_BYTES
]


class Rejection(BaseModel):
    """A candidate that failed validation; the old value (if any) is kept."""

    model_config = _FROZEN

    candidate: Candidate
    reason: RejectReason
    detail: str = ""


class TurnUpdate(BaseModel):
    """The validated content of one user message: the input of ``advance``."""

    model_config = _FROZEN

    text: str
    accepted: tuple[Candidate, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    signals: frozenset[Signal] = frozenset()
    language: Language | None = None
    language_confidence: float = 0.0
    unknown_cities: tuple[UnknownCity, ...] = ()
    unknown_about: frozenset[str] = frozenset()
    to_change: frozenset[str] = frozenset()
    choice: int | None = None


class ParseContext(BaseModel):
    """What the parser may know about the conversation so far (no I/O, no clock).

    ``asked`` is what the bot asked for last (bare answers such as "500" or "no sé" refer to
    it); ``options`` are the choices the bot last offered (city suggestions, currencies), so
    "the second one" or "pesos" can be resolved; ``today`` anchors relative dates; ``known``
    are the fields the brief already holds (a new date "instead" changes the visit already set).
    """

    model_config = _FROZEN

    language: Language | None = None
    asked: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    known: tuple[str, ...] = ()
    today: str = "2026-01-01"  # ISO date; the service passes the real date
    home_country: str = "MX"
