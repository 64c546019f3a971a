"""Grounding: nothing the prospect did not write reaches the brief.

A language model may invent a budget nobody gave, a currency "because the city is in Mexico",
or a city the prospect never named. Every value it reports is checked against the message
itself: numbers must be numbers the prospect wrote, a currency must be named, a city must be
written and known to the gazetteer, a property type must be worded, and a volunteered fact
needs verbatim evidence. What fails is dropped and reported as a :class:`DroppedValue`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rapidfuzz import fuzz

from realty.domain.brief import (
    CORE_FIELDS,
    Area,
    City,
    Modality,
    Money,
    Period,
    PropertyKind,
    PropertyType,
    Scalar,
)
from realty.domain.turn import Candidate, CandidateOp
from realty.parsing.facts import writes_date
from realty.parsing.kinds import kind_words
from realty.parsing.lexicon import Lexicon, lexicon
from realty.parsing.numbers import find_numbers, scale_words
from realty.parsing.questions import asked_about
from realty.parsing.text import Message, fold
from realty.pipeline.prompt import ExtraClaim, LLMAnswer

Span = tuple[int, int]
NO_SPAN: Span = (0, 0)  # a claim whose words were not found in the message

logger = logging.getLogger("realty.llm")
_T = TypeVar("_T", bound=str)

# Grounded values are never as trustworthy as the parser's own readings.
CONFIDENCE = 0.8
EXTRA_CONFIDENCE = 0.75
CITY_MIN_SCORE = 85
EVIDENCE_MIN_SCORE = 90
_MIN_EVIDENCE_CHARS = 2
_MAX_KEY_CHARS = 40

# ---- vocabularies (folded: lower case, no accents) ----
# The words come from the parser's vocabulary (``data/vocabulary.yaml``): one vocabulary for
# reading a message and for checking a model's claim. The stems below only let a claim rest on
# an inflection or a typo the parser does not list ("arrendadora", "oficinitas").

_DOLLAR_SIGN = "$"


@dataclass(frozen=True, slots=True)
class _Words:
    """Folded words that state something: whole words, or any word with one of the prefixes."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def matches(self, word: str) -> bool:
        return word in self.exact or word.startswith(self.prefixes)

    def plus(self, words: Iterable[str]) -> _Words:
        return _Words(self.exact | frozenset(words), self.prefixes)


def _words(*exact: str, prefixes: tuple[str, ...] = ()) -> _Words:
    return _Words(frozenset(exact), prefixes)


_TOKEN = re.compile(r"[a-z0-9]+")
# Function words inside the vocabulary's phrases that state nothing on their own.
_FUNCTION_WORDS = frozenset(
    {"al", "por", "x", "per", "a", "each", "every", "en", "in", "de", "of", "one", "off", "is"}
    | {"es", "to", "up", "p", "m", "pm", "free", "minima", "minimo", "el", "la", "los", "las"}
)


def _tokens(phrases: Iterable[str]) -> frozenset[str]:
    """The words of ``phrases`` that are not function words or digits ("al mes" → "mes")."""
    return frozenset(
        w
        for phrase in phrases
        for w in _TOKEN.findall(phrase)
        if w not in _FUNCTION_WORDS and not w.isdigit()
    )


def _singles(phrases: Iterable[str]) -> frozenset[str]:
    """The one-word phrases ("comprar", not "precio de venta")."""
    return frozenset(p for p in phrases if " " not in p)


_PERIOD_STEMS: dict[Period, _Words] = {
    "month": _words("meses", "mensualidad", prefixes=("mensual", "month")),
    "total": _words("totales", "contado"),
}
_MODALITY_STEMS: dict[Modality, _Words] = {
    "rent": _words("sublease", prefixes=("rent", "alquil", "arrend", "lease")),
    "buy": _words("sale", "venta", prefixes=("compr", "purchas", "adquir")),
}
_AREA_STEMS = _words("cuadradas", prefixes=("metro", "meter", "metre", "hectar", "pie"))
_HEIGHT_STEMS = _words("alta", prefixes=("height", "altura"))
_MONEY_STEMS = _words(
    "total", "costs", prefixes=("budget", "presupuest", "million", "millon", "thousand")
)
# Stems for each property kind, added to the vocabulary's one-word synonyms. ``other`` has
# none: its own words must be written.
_KIND_STEMS: dict[PropertyKind, _Words] = {
    "office": _words(prefixes=("ofic", "office")),
    "warehouse": _words("nave", prefixes=("bodeg", "warehouse", "almacen")),
    "industrial": _words("nave", "planta", "plant", prefixes=("industrial", "fabric", "factor")),
    "retail": _words(prefixes=("tienda", "shop", "store", "comercial")),
    "land": _words(prefixes=("terreno", "predio")),
    "coworking": _words(prefixes=("cowork", "co-work")),
    "medical": _words("dental", prefixes=("consultorio", "clinic", "clinica", "medic", "hospital")),
    "hotel": _words(prefixes=("hotel", "hostal", "motel")),
    "mixed_use": _words("mixed", "mixto"),
    "apartment": _words(prefixes=("departamento", "apartment", "apartamento", "condo")),
    "house": _words(),
    "other": _words(),
}


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """What the grounder accepts as stating each part of a claim."""

    currencies: Mapping[str, re.Pattern[str]]
    period: Mapping[Period, _Words]
    modality: Mapping[Modality, _Words]
    area: _Words
    height: _Words
    money: _Words
    kinds: Mapping[PropertyKind, _Words]
    numeric_keys: Mapping[str, str]

    @classmethod
    def of(cls, lex: Lexicon) -> _Vocabulary:
        month = [p for p, period in (*lex.periods_after, *lex.periods_alone) if period == "month"]
        total = [p for p, period in (*lex.periods_after, *lex.periods_alone) if period == "total"]
        kinds = kind_words(lex)
        return cls(
            currencies={
                code: _phrase_pattern(sorted(words)) for code, words in lex.currency_words().items()
            },
            period={
                "month": _PERIOD_STEMS["month"].plus(_tokens(month)),
                "total": _PERIOD_STEMS["total"].plus(_tokens(total)),
            },
            modality={
                "rent": _MODALITY_STEMS["rent"].plus(_singles(lex.rent)),
                "buy": _MODALITY_STEMS["buy"].plus(_singles(lex.buy)),
            },
            area=_AREA_STEMS.plus(_tokens(p for p, _ in (*lex.area_units, *lex.per_area_units))),
            height=_HEIGHT_STEMS.plus(_tokens((*lex.height_after, *lex.height_before))),
            money=_MONEY_STEMS.plus(
                _singles((*lex.money_nouns, *lex.money_verbs, *lex.money_after))
                | _singles(lex.upper_before)
                | _tokens(month)
                | scale_words()
            ),
            kinds={kind: stems.plus(kinds.get(kind, ())) for kind, stems in _KIND_STEMS.items()},
            numeric_keys=_numeric_keys(lex),
        )


_UNIT_REACH = 3  # words after a number where its area unit may be
_MONEY_REACH = 4  # words either side of a number where a money word may be
_WORD_RE = re.compile(r"[a-z0-9$€]+")

# Obvious synonyms of registry keys: numeric readings (besides the nouns of the vocabulary's
# counts, "cajones" → parking_spaces), yes/no readings, any reading.
_NUMERIC_KEYS: dict[str, str] = {
    "parking": "parking_spaces",
    "parking_spot": "parking_spaces",
    "parking_spots": "parking_spaces",
    "parking_space": "parking_spaces",
    "cajones": "parking_spaces",
    "cajones_de_estacionamiento": "parking_spaces",
    "estacionamiento": "parking_spaces",
    "docks": "loading_docks",
    "loading_dock": "loading_docks",
    "people": "employees",
    "headcount": "employees",
    "staff": "employees",
    "employee": "employees",
    "lease_term": "lease_term_months",
    "bedroom": "bedrooms",
    "bathroom": "bathrooms",
}
_BOOL_KEYS: dict[str, str] = {
    "pets": "pets_allowed",
    "pet": "pets_allowed",
    "pet_friendly": "pets_allowed",
    "mascotas": "pets_allowed",
    "parking_spaces": "parking",
    "estacionamiento": "parking",
    "ac": "air_conditioning",
    "air_conditioner": "air_conditioning",
    "aire_acondicionado": "air_conditioning",
    "lift": "elevator",
    "elevators": "elevator",
    "elevador": "elevator",
    "security": "security_24h",
    "laundry": "in_unit_laundry",
    "furniture": "furnished",
    "amueblado": "furnished",
}
_ANY_KEYS: dict[str, str] = {
    "move_in": "move_in_date",
    "move_in_by": "move_in_date",
    "moving_date": "move_in_date",
    "priority": "top_priority",
    "neighborhood": "zone",
    "neighbourhood": "zone",
    "colonia": "zone",
}
# Keys that restate the core fields; the LLM reports those in their own attributes.
_RESERVED_KEYS: frozenset[str] = frozenset(CORE_FIELDS) | {
    "price",
    "cost",
    "rent",
    "currency",
    "area",
    "surface",
    "m2",
    "sqm",
    "location",
    "type",
    "modality",
    "period",
    "budget_amount",
    "budget_currency",
    "budget_period",
    "size_m2",
    "property_text",
}
_NON_KEY = re.compile(r"[^a-z0-9]+")
_VALID_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_TRUE_WORDS = frozenset({"true", "yes", "si"})
_FALSE_WORDS = frozenset({"false", "no"})


@dataclass(frozen=True)
class DroppedValue:
    """A value the model reported that the message does not support.

    Attributes:
        key: The field or extra key.
        value: The value as the model gave it.
        reason: Why it was dropped.
    """

    key: str
    value: str
    reason: str


def _phrase_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """A pattern matching any of ``words`` as whole words (symbols match anywhere)."""
    alternatives = sorted(words, key=len, reverse=True)
    body = "|".join(re.escape(w) for w in alternatives)
    return re.compile(rf"(?<![a-z])(?:{body})(?![a-z])")


@dataclass(frozen=True, slots=True)
class _Text:
    """One message, read once: its fold, its words and the numbers it contains."""

    msg: Message
    numbers: tuple[tuple[float, Span], ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        msg = Message.of(text)
        found = find_numbers(msg)
        return cls(msg, tuple((n.value, (n.start, n.end)) for n in found))

    def number_span(self, value: float, within: Span | None = None) -> Span | None:
        """Where the prospect wrote ``value`` (inside ``within`` when given)."""
        for number, span in self.numbers:
            if within is not None and not (within[0] <= span[0] and span[1] <= within[1]):
                continue
            if math.isclose(number, value, rel_tol=1e-9, abs_tol=1e-9):
                return span
        return None

    def around(self, span: Span, *, before: int, after: int) -> str:
        """The folded text of the ``before`` words before ``span`` through ``after`` after."""
        words = self.msg.words
        first = next((i for i, w in enumerate(words) if w.end > span[0]), len(words))
        last = next((i for i, w in enumerate(words) if w.start >= span[1]), len(words))
        chosen = words[max(0, first - before) : last + after]
        if not chosen:
            return ""
        return self.msg.folded[min(chosen[0].start, span[0]) : max(chosen[-1].end, span[1])]

    def near(self, span: Span, words: _Words, *, before: int, after: int) -> bool:
        """Whether one of ``words`` is within ``before``/``after`` words of ``span``."""
        inside = self.around(span, before=before, after=after)
        return any(words.matches(w) for w in _WORD_RE.findall(inside))

    def first_word(self, words: _Words) -> Span | None:
        """The span of the first word that ``words`` matches."""
        for word in self.msg.words:
            if words.matches(word.text):
                return (word.start, word.end)
        return None

    def locate(self, phrase: str, min_score: int) -> Span | None:
        """Where ``phrase`` occurs (exactly, or fuzzily on whole words), if anywhere."""
        needle = fold(phrase).strip()
        if len(needle) < _MIN_EVIDENCE_CHARS:
            return None
        exact = self._exact(needle)
        if exact is not None:
            return exact
        found = fuzz.partial_ratio_alignment(needle, self.msg.folded, score_cutoff=min_score)
        if found is None:
            return None
        span = self._whole_words((found.dest_start, found.dest_end))
        if span is None:
            return None
        # The whole words must still read as the phrase ("lima" is not in "climate").
        if fuzz.ratio(needle, self.msg.folded[span[0] : span[1]]) < min_score:
            return None
        return span

    def _exact(self, needle: str) -> Span | None:
        """The first occurrence of ``needle`` that starts and ends on word boundaries."""
        folded = self.msg.folded
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            before = folded[start - 1] if start else " "
            after = folded[end] if end < len(folded) else " "
            if not (before.isalnum() and needle[0].isalnum()) and not (
                after.isalnum() and needle[-1].isalnum()
            ):
                return (start, end)
            start = folded.find(needle, start + 1)
        return None

    def _whole_words(self, span: Span) -> Span | None:
        inside = [w for w in self.msg.words if w.start < span[1] and span[0] < w.end]
        if not inside:
            return None
        return (inside[0].start, inside[-1].end)


_STEM = 4  # "docks" names "dock", "elevadores" "elevador"; "alberca" is not "aire"
_NAME_STOP = frozenset({"the", "and", "con", "del", "las", "los", "for", "with", "per", "por"})


def _name_words(phrase: str) -> list[str]:
    """The folded words of a phrase that name something (not "de", "the", units in brackets)."""
    return [w for w in _WORD_RE.findall(fold(phrase)) if len(w) > 2 and w not in _NAME_STOP]


def _same_word(word: str, named: str) -> bool:
    """``word`` is ``named`` or one of them extends the other (plurals, gender, verb forms)."""
    if word == named:
        return True
    short, long = sorted((word, named), key=len)
    return len(short) >= _STEM and long.startswith(short)


def snake_key(raw: str) -> str:
    """``raw`` as a snake_case key (``"Parking spots"`` → ``"parking_spots"``).

    Returns an empty string when nothing usable is left.
    """
    key = _NON_KEY.sub("_", fold(raw)).strip("_")[:_MAX_KEY_CHARS].strip("_")
    return key if _VALID_KEY.match(key) else ""


def _numeric_keys(lex: Lexicon) -> dict[str, str]:
    """Keys a numeric extra may be reported under: the count nouns, then the synonyms above."""
    nouns = {snake_key(noun): count.key for count in lex.counts for noun in count.nouns}
    return {k: v for k, v in nouns.items() if k and k != v} | _NUMERIC_KEYS


def registry_key(
    raw: str, numeric: bool, boolean: bool, numeric_keys: Mapping[str, str] | None = None
) -> str:
    """Map an extra's key to the registry's name for it when it is an obvious synonym."""
    key = snake_key(raw)
    if numeric_keys is None:
        numeric_keys = _numeric_keys(lexicon())
    if numeric and key in numeric_keys:
        return numeric_keys[key]
    if boolean and key in _BOOL_KEYS:
        return _BOOL_KEYS[key]
    return _ANY_KEYS.get(key, key)


def _scalar(claim: ExtraClaim) -> Scalar | None:
    """The claim's value as a typed scalar, or ``None`` when value and type disagree."""
    value = claim.value
    if claim.type in ("int", "float"):
        if isinstance(value, str):
            try:
                value = float(value.replace(",", ""))
            except ValueError:
                return None
        if isinstance(value, bool) or not math.isfinite(value):
            return None
        if claim.type == "int":
            return Scalar(kind="int", value=int(value)) if float(value).is_integer() else None
        return Scalar(kind="float", value=float(value))
    if claim.type == "bool":
        return _bool_scalar(value)
    if claim.type == "date":
        try:
            return Scalar(kind="date", value=dt.date.fromisoformat(str(value)).isoformat())
        except ValueError:
            return None
    text = str(value).strip()
    if fold(text) in _TRUE_WORDS | _FALSE_WORDS:
        # Small models report a yes/no fact as the text "yes" or "true".
        return _bool_scalar(text)
    return Scalar(kind="text", value=text) if text else None


def _bool_scalar(value: bool | int | float | str) -> Scalar | None:
    if isinstance(value, bool):
        return Scalar(kind="bool", value=value)
    word = fold(str(value)).strip()
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
        return Scalar(kind="bool", value=word in _TRUE_WORDS)
    return None


def _shown(value: object) -> str:
    if isinstance(value, Money):
        return f"{value.amount} {value.currency} {value.period} {value.modality}"
    if isinstance(value, Area):
        return f"{value.m2:g} m2"
    if isinstance(value, PropertyType):
        return f"{value.value} ({value.text})"
    if isinstance(value, City | Scalar):
        return str(value.value)
    return str(value)


class Grounder:
    """Keeps only the values a message actually states; everything else is dropped."""

    def __init__(
        self,
        resolve_city: Callable[[str], City | None],
        key_words: Mapping[str, Iterable[str]] | None = None,
        lex: Lexicon | None = None,
    ) -> None:
        """Compile the currency patterns.

        Args:
            resolve_city: The gazetteer's resolver (a name → the canonical city or ``None``).
            key_words: For known extras, the words that name them (their labels in both
                languages and the parser's phrases): a model's extra under such a key must
                rest on evidence that names it ("alberca" is not air conditioning).
            lex: The vocabulary of money, areas, counts and kinds (default: the packaged one).
        """
        self._resolve_city = resolve_city
        self._key_words = {
            key: frozenset(w for phrase in phrases for w in _name_words(phrase))
            for key, phrases in (key_words or {}).items()
        }
        self._vocab = _Vocabulary.of(lex or lexicon())
        self._currencies = self._vocab.currencies

    def ground_answer(
        self, text: str, answer: LLMAnswer
    ) -> tuple[list[Candidate], list[DroppedValue]]:
        """Turn a model's answer into grounded candidates for ``text``.

        Args:
            text: The user's message exactly as written.
            answer: The model's parsed answer.

        Returns:
            The grounded candidates (``source="llm"``) and the values that were dropped.
        """
        read = _Text.of(text)
        claims, dropped = _claims(read, answer, self._vocab.numeric_keys)
        for item in dropped:
            _log(item)
        kept, more = self._ground(read, claims)
        return kept, dropped + more

    def ground(
        self, text: str, candidates: Sequence[Candidate]
    ) -> tuple[list[Candidate], list[DroppedValue]]:
        """Keep the parts of ``candidates`` that ``text`` states.

        A city may come as a text scalar (the model's spelling); it is resolved to the
        gazetteer's city. An extra's span is where its evidence was found in the text; an
        empty span means there is no evidence.

        Args:
            text: The user's message exactly as written.
            candidates: Values claimed for the message (``key``/``value`` as in the brief).

        Returns:
            The grounded candidates (``source="llm"``, a span in ``text``, confidence at most
            0.8) and the values that were dropped, with the reason.
        """
        return self._ground(_Text.of(text), candidates)

    def _ground(
        self, read: _Text, candidates: Sequence[Candidate]
    ) -> tuple[list[Candidate], list[DroppedValue]]:
        kept: list[Candidate] = []
        dropped: list[DroppedValue] = []
        for cand in candidates:
            grounded, lost = self._ground_one(read, cand)
            if grounded is not None:
                kept.append(grounded)
            for item in lost:
                _log(item)
            dropped.extend(lost)
        return kept, dropped

    def _ground_one(self, read: _Text, cand: Candidate) -> _Grounded:
        value = cand.value
        # A yes/no or free-text extra needs its name in the evidence; a number or a date needs
        # its value there, which the checks below ask for.
        named = self._key_words.get(cand.key)
        worded = isinstance(value, Scalar) and value.kind in ("bool", "text")
        if worded and named and not self._names(read, cand.span, named):
            return None, [_drop(cand, f"the evidence does not name {cand.key}")]
        if isinstance(value, Money):
            return self._money(read, cand, value)
        if isinstance(value, Area):
            span = read.number_span(value.m2)
            if span is None:
                return None, [_drop(cand, f"size {value.m2:g} not written in the message")]
            vocab = self._vocab
            if not read.near(span, vocab.area, before=0, after=_UNIT_REACH) or read.near(
                span, vocab.height, before=0, after=_UNIT_REACH
            ):
                return None, [_drop(cand, f"{value.m2:g} is not followed by an area unit")]
            area = Area(m2=value.m2, original=read.msg.snippet(span))
            return _grounded(cand, area, span), []
        if isinstance(value, PropertyType):
            return _property_type(read, cand, value, self._vocab.kinds)
        if isinstance(value, City) or (cand.key == "city" and isinstance(value, Scalar)):
            return self._city(read, cand, str(value.value))
        if isinstance(value, Scalar):
            return _extra(read, cand, value)
        return None, [_drop(cand, "no value")]

    @staticmethod
    def _names(read: _Text, span: Span, named: frozenset[str]) -> bool:
        """Whether a word of ``span`` is one of ``named`` (or an inflection of one)."""
        if span == NO_SPAN or span[1] > len(read.msg.text):
            return False
        inside = [read.msg.words[i].text for i in read.msg.within(span)]
        return any(_same_word(w, n) for w in inside for n in named)

    def _money(self, read: _Text, cand: Candidate, money: Money) -> _Grounded:
        dropped: list[DroppedValue] = []
        amount, span = money.amount, None
        if amount is not None:
            span = read.number_span(amount)
            if span is None:
                dropped.append(_drop(cand, f"amount {amount:g} not written in the message"))
                amount = None
            elif not self._money_context(read, span):
                dropped.append(_drop(cand, f"{amount:g} is not said to be money"))
                amount, span = None, None
        currency, hint = self._currency(read, money.currency)
        if money.currency is not None and currency is None:
            dropped.append(_drop(cand, f"currency {money.currency} not named in the message"))
        period = _stated(read, money.period, self._vocab.period)
        modality = _stated(read, money.modality, self._vocab.modality)
        if money.period and period is None:
            dropped.append(_drop(cand, f"period {money.period} not stated"))
        if money.modality and modality is None:
            dropped.append(_drop(cand, f"modality {money.modality} not stated"))
        grounded = Money(
            amount=amount,
            currency=currency,
            period=period,
            modality=modality,
        )
        if grounded == Money():
            return None, dropped
        where = span or self._stated_span(read, grounded)
        if span is not None:
            grounded = grounded.model_copy(update={"original": read.msg.snippet(span)})
        # Without an amount the stated parts update an existing budget rather than replace it.
        op: CandidateOp = "set" if amount is not None else "merge"
        return _grounded(cand, grounded, where, op=op, currency_hint=hint), dropped

    def _money_context(self, read: _Text, span: Span) -> bool:
        """A currency, a ``$`` or a money word close to the number (not "3 bedrooms")."""
        window = read.msg.folded[max(0, span[0] - 2) : span[1] + 2]
        if _DOLLAR_SIGN in window or "€" in window:
            return True
        near = read.around(span, before=_MONEY_REACH, after=_MONEY_REACH)
        if any(p.search(near) for p in self._currencies.values()):
            return True
        return read.near(span, self._vocab.money, before=_MONEY_REACH, after=_MONEY_REACH)

    def _currency(self, read: _Text, code: str | None) -> tuple[str | None, str | None]:
        """The model's currency code when the message names it; else a bare-``$`` hint."""
        if code is None:
            return None, None
        pattern = self._currencies.get(code)
        if pattern is not None and pattern.search(read.msg.folded):
            return code, None
        return None, _DOLLAR_SIGN if _DOLLAR_SIGN in read.msg.folded else None

    def _stated_span(self, read: _Text, money: Money) -> Span:
        """Where the stated parts of an amount-less budget are written."""
        if money.currency is not None:
            found = self._currencies[money.currency].search(read.msg.folded)
            if found is not None:
                return (found.start(), found.end())
        words = [
            *([self._vocab.period[money.period]] if money.period else []),
            *([self._vocab.modality[money.modality]] if money.modality else []),
        ]
        spans = [span for w in words if (span := read.first_word(w)) is not None]
        return spans[0] if spans else NO_SPAN

    def _city(self, read: _Text, cand: Candidate, name: str) -> _Grounded:
        span = read.locate(name, CITY_MIN_SCORE)
        if span is None:
            return None, [_drop(cand, "city not written in the message")]
        city = self._resolve_city(name) or self._resolve_city(read.msg.snippet(span))
        if city is None:
            return None, [_drop(cand, "city not in the gazetteer")]
        return _grounded(cand, city, span), []


_Grounded = tuple[Candidate | None, list[DroppedValue]]


def _claims(
    read: _Text, answer: LLMAnswer, numeric_keys: Mapping[str, str]
) -> tuple[list[Candidate], list[DroppedValue]]:
    """The answer as candidates to ground; extras carry the span of their evidence."""
    claims: list[Candidate] = []
    dropped: list[DroppedValue] = []
    money = Money(
        amount=answer.budget_amount,
        currency=(answer.budget_currency or "").upper() or None,
        period=answer.budget_period,
        modality=answer.modality,
    )
    if money != Money():
        claims.append(_claim("budget", money))
    if answer.size_m2 is not None:
        claims.append(_claim("size", Area(m2=answer.size_m2)))
    if answer.property_type is not None or answer.property_text:
        kind = answer.property_type or "other"
        claims.append(_claim("property_type", PropertyType(value=kind, text=answer.property_text)))
    if answer.city and answer.city.strip():
        claims.append(_claim("city", Scalar(kind="text", value=answer.city.strip())))
    for extra in answer.extras:
        claim = _extra_claim(read, extra, numeric_keys)
        if isinstance(claim, DroppedValue):
            dropped.append(claim)
        else:
            claims.append(claim)
    return claims, dropped


def _extra_claim(
    read: _Text, extra: ExtraClaim, numeric_keys: Mapping[str, str]
) -> Candidate | DroppedValue:
    scalar = _scalar(extra)
    if scalar is None:
        return DroppedValue(extra.key, str(extra.value), f"value is not a valid {extra.type}")
    numeric = scalar.kind in ("int", "float")
    key = registry_key(extra.key, numeric, scalar.kind == "bool", numeric_keys)
    if not key or key in _RESERVED_KEYS:
        return DroppedValue(extra.key, str(extra.value), "not a usable extra key")
    span = read.locate(extra.evidence, EVIDENCE_MIN_SCORE) or NO_SPAN
    return _claim(key, scalar, span)


def _stated(read: _Text, value: _T | None, table: Mapping[_T, _Words]) -> _T | None:
    """``value`` when one of its words is in the message."""
    if value is None:
        return None
    return value if read.first_word(table[value]) is not None else None


def _property_type(
    read: _Text, cand: Candidate, value: PropertyType, kinds: Mapping[PropertyKind, _Words]
) -> _Grounded:
    words = kinds[value.value]
    span = read.locate(value.text, EVIDENCE_MIN_SCORE) if value.text else None
    if span is not None and not _supports(read, span, value.value, kinds):
        return None, [_drop(cand, f"{value.text!r} does not name a {value.value}")]
    if span is None:
        span = read.first_word(words)
    if span is None:
        return None, [_drop(cand, "property type not worded in the message")]
    text = read.msg.snippet(span)
    # Words that name no kind ("our escape room") describe a business: the kind the model
    # proposes for it waits for the prospect's yes, as the parser's proposals do.
    inside = [read.msg.words[i].text for i in read.msg.within(span)]
    proposed = value.value != "other" and not any(words.matches(w) for w in inside)
    kind = PropertyType(value=value.value, text=text, proposed=proposed)
    return _grounded(cand, kind, span), []


def _supports(
    read: _Text, span: Span, kind: PropertyKind, kinds: Mapping[PropertyKind, _Words]
) -> bool:
    """False when the words name another kind only ("bodega" reported as an office)."""
    inside = [read.msg.words[i].text for i in read.msg.within(span)]
    if any(kinds[kind].matches(w) for w in inside):
        return True
    others = (k for k in kinds if k not in (kind, "other"))
    return not any(kinds[k].matches(w) for k in others for w in inside)


def _extra(read: _Text, cand: Candidate, value: Scalar) -> _Grounded:
    if cand.span == NO_SPAN or cand.span[1] > len(read.msg.text):
        return None, [_drop(cand, "no evidence in the message")]
    if asked_about(read.msg, cand.span):
        return None, [_drop(cand, "asked about a property, not stated as a requirement")]
    if value.kind == "date" and not _date_written(read, cand.span, str(value.value)):
        # The model is not told today's date: a date it worked out from relative words
        # ("the 11th of this month", "next Friday") is a guess. The parser reads those.
        return None, [_drop(cand, f"{value.value} not written (day and month) in the evidence")]
    numeric = value.kind in ("int", "float") and not isinstance(value.value, str)
    if numeric and read.number_span(float(value.value), within=cand.span) is None:
        return None, [_drop(cand, f"{value.value} not in the evidence")]
    if value.kind == "text" and read.locate(str(value.value), EVIDENCE_MIN_SCORE) is None:
        # A description in the model's words ("Puebla metro station") becomes the prospect's
        # own ("cerca de una estación del metro").
        value = Scalar(kind="text", value=read.msg.snippet(cand.span))
    return _grounded(cand, value, cand.span, confidence=EXTRA_CONFIDENCE), []


def _date_written(read: _Text, span: Span, iso: str) -> bool:
    try:
        return writes_date(read.msg, span, dt.date.fromisoformat(iso))
    except ValueError:
        return False


def _claim(
    key: str, value: Money | Area | PropertyType | Scalar, span: Span = NO_SPAN
) -> Candidate:
    return Candidate(key=key, value=value, span=span, confidence=CONFIDENCE, source="llm")


def _grounded(
    cand: Candidate,
    value: Money | Area | PropertyType | City | Scalar,
    span: Span,
    *,
    op: CandidateOp = "set",
    currency_hint: str | None = None,
    confidence: float = CONFIDENCE,
) -> Candidate:
    return Candidate(
        key=cand.key,
        value=value,
        op=op,
        span=span,
        confidence=min(cand.confidence, confidence),
        source="llm",
        currency_hint=currency_hint,
    )


def _drop(cand: Candidate, reason: str) -> DroppedValue:
    return DroppedValue(cand.key, _shown(cand.value), reason)


def _log(item: DroppedValue) -> None:
    logger.info("dropped %s=%r: %s", item.key, item.value, item.reason)
