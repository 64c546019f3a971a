"""The shared vocabulary of money, areas, counts and property kinds (``data/vocabulary.yaml``).

The parser reads these phrases in a message; the grounder checks a model's claims against the
same words. :func:`lexicon` loads and checks the file once per process: a misspelt code, kind
or period fails at start-up with :class:`LexiconError`, not on some later message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, get_args

import yaml

from realty.domain.brief import PropertyKind
from realty.errors import ConfigurationError
from realty.parsing.text import fold

Pairs = tuple[tuple[str, str], ...]

_CURRENCY_CODES = frozenset({"USD", "MXN", "EUR", "CREDITS"})
_DOLLAR_SIGN = "$"  # a hint (MXN or USD), never a code
_PERIODS = frozenset({"month", "year", "total"})
_AREA_UNITS = frozenset({"m2", "ft2", "ha", "acre"})


class LexiconError(ConfigurationError):
    """``vocabulary.yaml`` is malformed: a missing section, an unknown code, kind or unit."""


@dataclass(frozen=True, slots=True)
class Count:
    """A countable extra: the nouns after its number, the words that may lead the number,
    and the phrases that name one of it with no number ("a loading dock", "andén de carga")."""

    key: str
    nouns: tuple[str, ...]
    lead: tuple[str, ...] = ()
    single: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The phrase tables, folded, as (phrase, canonical value) pairs or plain phrase tuples."""

    currency_after: Pairs
    currency_before: Pairs
    currency_alone: Pairs
    periods_after: Pairs
    periods_alone: Pairs
    rent: tuple[str, ...]
    buy: tuple[str, ...]
    money_nouns: tuple[str, ...]
    money_verbs: tuple[str, ...]
    money_after: tuple[str, ...]
    upper_before: tuple[str, ...]
    lower_before: tuple[str, ...]
    upper_after: tuple[str, ...]
    lower_after: tuple[str, ...]
    area_units: Pairs
    per_area_units: Pairs
    height_after: tuple[str, ...]
    height_before: tuple[str, ...]
    counts: tuple[Count, ...]
    counts_before: Pairs
    kinds: Mapping[PropertyKind, tuple[str, ...]]

    def currency_words(self) -> dict[str, frozenset[str]]:
        """Every phrase that names each currency code (the bare "$" hint left out)."""
        words: dict[str, set[str]] = {}
        for phrase, code in (*self.currency_after, *self.currency_before):
            if code != _DOLLAR_SIGN:
                words.setdefault(code, set()).add(phrase)
        return {code: frozenset(group) for code, group in words.items()}


def _phrases(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise LexiconError(f"vocabulary.yaml: {where} must be a list of phrases")
    return tuple(" ".join(fold(p).split()) for p in raw)


def _section(raw: Mapping[str, Any], name: str) -> Any:
    if name not in raw:
        raise LexiconError(f"vocabulary.yaml: missing section {name!r}")
    return raw[name]


def _by_value(raw: Any, where: str, allowed: frozenset[str], side: str | None = None) -> Pairs:
    """``{value: [phrases]}`` (or ``{value: {side: [phrases]}}``) as (phrase, value) pairs."""
    if not isinstance(raw, dict):
        raise LexiconError(f"vocabulary.yaml: {where} must be a mapping")
    pairs: list[tuple[str, str]] = []
    for value, group in raw.items():
        if value not in allowed:
            raise LexiconError(f"vocabulary.yaml: {where}: unknown value {value!r}")
        if side is not None:
            if not isinstance(group, dict) or not set(group) <= {"after", "before", "alone"}:
                raise LexiconError(f"vocabulary.yaml: {where}.{value} has unknown sides")
            group = group.get(side, [])
        pairs += ((p, str(value)) for p in _phrases(group, f"{where}.{value}"))
    return tuple(pairs)


def _counts(raw: Any) -> tuple[Count, ...]:
    if not isinstance(raw, dict):
        raise LexiconError("vocabulary.yaml: counts must be a mapping")
    counts = []
    for key, spec in raw.items():
        allowed = {"nouns", "lead", "single"}
        if not isinstance(spec, dict) or "nouns" not in spec or not set(spec) <= allowed:
            raise LexiconError(
                f"vocabulary.yaml: counts.{key} needs nouns (and may have lead and single)"
            )
        lead = _phrases(spec.get("lead", []), f"counts.{key}.lead")
        single = _phrases(spec.get("single", []), f"counts.{key}.single")
        nouns = _phrases(spec["nouns"], f"counts.{key}.nouns")
        counts.append(Count(str(key), nouns, lead, single))
    return tuple(counts)


def parse_lexicon(raw: Any) -> Lexicon:
    """Check and fold a loaded ``vocabulary.yaml``."""
    if not isinstance(raw, dict):
        raise LexiconError("vocabulary.yaml must be a mapping of sections")
    codes = _CURRENCY_CODES | {_DOLLAR_SIGN}
    currencies = _section(raw, "currencies")
    after = _by_value(currencies, "currencies", codes, side="after")
    not_alone = frozenset(_phrases(_section(raw, "currency_not_alone"), "currency_not_alone"))
    periods = _section(raw, "periods")
    modality = _section(raw, "modality")
    money = _section(raw, "money_words")
    bounds = _section(raw, "bounds")
    height = _section(raw, "height")
    kinds_raw = _section(raw, "kinds")
    known_kinds = frozenset(get_args(PropertyKind))
    kinds: dict[PropertyKind, tuple[str, ...]] = {}
    for kind, group in kinds_raw.items():
        if kind not in known_kinds:
            raise LexiconError(f"vocabulary.yaml: kinds: unknown property kind {kind!r}")
        kinds[kind] = _phrases(group, f"kinds.{kind}")
    before_counts = _section(raw, "counts_before")
    return Lexicon(
        currency_after=after,
        currency_before=_by_value(currencies, "currencies", codes, side="before"),
        currency_alone=tuple((p, c) for p, c in after if p not in not_alone),
        periods_after=_by_value(periods, "periods", _PERIODS, side="after"),
        periods_alone=_by_value(periods, "periods", _PERIODS, side="alone"),
        rent=_phrases(_section(modality, "rent"), "modality.rent"),
        buy=_phrases(_section(modality, "buy"), "modality.buy"),
        money_nouns=_phrases(_section(money, "nouns"), "money_words.nouns"),
        money_verbs=_phrases(_section(money, "verbs"), "money_words.verbs"),
        money_after=_phrases(_section(money, "after"), "money_words.after"),
        upper_before=_phrases(_section(bounds, "upper_before"), "bounds.upper_before"),
        lower_before=_phrases(_section(bounds, "lower_before"), "bounds.lower_before"),
        upper_after=_phrases(_section(bounds, "upper_after"), "bounds.upper_after"),
        lower_after=_phrases(_section(bounds, "lower_after"), "bounds.lower_after"),
        area_units=_by_value(_section(raw, "area_units"), "area_units", _AREA_UNITS),
        per_area_units=_by_value(_section(raw, "per_area_units"), "per_area_units", _AREA_UNITS),
        height_after=_phrases(_section(height, "after"), "height.after"),
        height_before=_phrases(_section(height, "before"), "height.before"),
        counts=_counts(_section(raw, "counts")),
        counts_before=tuple(
            (p, str(key))
            for key, group in before_counts.items()
            for p in _phrases(group, f"counts_before.{key}")
        ),
        kinds=MappingProxyType(kinds),
    )


@cache
def lexicon() -> Lexicon:
    """The packaged vocabulary, loaded and checked on first use."""
    text = resources.files("realty.data").joinpath("vocabulary.yaml").read_text("utf-8")
    return parse_lexicon(yaml.safe_load(text))
