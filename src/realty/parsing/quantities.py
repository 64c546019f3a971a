"""Quantities in a message: budgets, areas and numeric extras (es-MX / en-US).

:class:`QuantityFinder` turns the numbers of a message into candidates:

* ``budget`` (:class:`Money`): currency marks, ranges and bounds ("entre 15 y 20 mil",
  "up to 20,000"), periods ("al mes", "per year" → monthly) and rent/buy modality;
* ``size`` (:class:`Area`): m², square feet, hectares and acres, converted to m² with pint;
* numeric extras (:class:`Scalar`): parking spaces, bedrooms, bathrooms, floor, ceiling
  height, loading docks, lease term and head count.

Extras are read first, so "for 50 people" never becomes a budget. A number with no unit,
currency or context word is only used when the bot asked for a numeric field. Vocabularies
are data tables; the regular expressions built from them and the unit registry are built
once, in the constructor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal, overload

import pint

from realty.domain.brief import Area, Modality, Money, Period, Scalar
from realty.domain.figures import roundest
from realty.domain.turn import Candidate, ParseContext
from realty.parsing.lexicon import Lexicon, lexicon
from realty.parsing.numbers import Number, find_numbers
from realty.parsing.questions import asked_about
from realty.parsing.text import Message

Span = tuple[int, int]
Bound = Literal["min", "max"]

# fmt: off
# ---- grammar around the shared vocabulary ----
# The words of money, areas, counts and kinds are data (``data/vocabulary.yaml``, read through
# :func:`realty.parsing.lexicon.lexicon`, shared with the grounder). What stays here is how they
# combine (links, corrections, floors, lease terms), folded: lower case, no accents; a space
# matches any blank run.

# pint names of the area units of the vocabulary.
_PINT_AREA: Mapping[str, str] = MappingProxyType(
    {"m2": "meter**2", "ft2": "foot**2", "ha": "hectare", "acre": "international_acre"}
)
# Metres that measure a length, not a surface ("10 metros de frente").
_NOT_AREA_AFTER: tuple[str, ...] = (
    "de frente", "de fondo", "lineales", "de ancho", "de largo", "de profundidad", "de distancia",
    "de altura", "de alto", "wide", "long", "deep", "linear", "frontage", "of frontage", "away",
    "high", "tall",
)

# A price per unit of area: "4.5 USD por m2", "$0.85/sf", "350 pesos el metro cuadrado".
_PER_AREA_LINK: tuple[str, ...] = ("/", "por", "per", "el", "x", "a", "each", "the", "por cada")
# The link and the unit in one word, as US brokers write them: "$7 psf", "$1.20 psf/month".
_PER_AREA_FUSED: tuple[tuple[str, str], ...] = (("psf", "ft2"), ("p.s.f.", "ft2"), ("psm", "m2"))
_LENGTH_UNITS: tuple[tuple[str, str], ...] = (
    ("metros", "m"), ("metro", "m"), ("meters", "m"), ("metres", "m"), ("meter", "m"),
    ("mts", "m"), ("mt", "m"), ("m", "m"), ("feet", "ft"), ("foot", "ft"), ("ft", "ft"),
    ("pies", "ft"), ("'", "ft"),
)
_HEIGHT_LINK: tuple[str, ...] = (
    "of at least", "at least", "of", "de al menos", "de minimo", "minima de", "minimo", "minima",
    "min", "de", "is", "es", "around", ":",
)

# A count named before its noun ("loading docks, mínimo 2") needs a minimum or a colon between
# noun and number, so "parking, 3,000 m2" stays a size.
_COUNT_MIN_LINK: tuple[str, ...] = (
    "minimo", "min", "min.", "at least", "al menos", "por lo menos", "minimum", "como minimo",
)
_TERM_UNITS: tuple[tuple[str, int], ...] = (
    ("years", 12), ("year", 12), ("yrs", 12), ("yr", 12), ("anos", 12), ("ano", 12), ("months", 1),
    ("month", 1), ("meses", 1), ("mes", 1),
)
_LEASE_AFTER: tuple[str, ...] = (
    "lease", "contract", "term", "de contrato", "de arrendamiento", "de renta", "de plazo",
)
_LEASE_NOUNS: tuple[str, ...] = (
    "lease", "contract", "contrato", "arrendamiento", "plazo", "term",
)
_LEASE_BEFORE: tuple[str, ...] = (
    "lease term of", "lease term", "lease of", "lease for", "contract of", "contract for",
    "term of", "sign for", "signing for", "sign a", "firmar por", "firmar a", "firmariamos a",
    "firmariamos por", "firmamos a", "firmamos por", "firmaria a", "contrato de", "contrato a",
    "contrato por", "arrendamiento de", "arrendamiento a",
    "arrendamiento por", "plazo de", "plazo minimo de", "forzoso de",
)

_ORDINAL_WORDS: Mapping[str, int] = MappingProxyType({
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "primer": 1, "primero": 1, "segundo": 2, "tercer": 3,
    "tercero": 3, "cuarto": 4, "quinto": 5, "sexto": 6, "septimo": 7, "octavo": 8, "noveno": 9,
    "decimo": 10,
})
_GROUND_FLOOR: tuple[str, ...] = ("ground floor", "ground level", "street level", "planta baja")
_FLOOR_WORDS: tuple[str, ...] = ("floor", "piso", "nivel", "level")
_ORDINAL_SUFFIXES: tuple[str, ...] = (
    "st", "nd", "rd", "th", "er", "ero", "do", "ro", "to", "vo", "no", "mo", "o", "º", "°",
)

_RANGE_JOIN: tuple[str, ...] = ("-", "–", "—", "to", "a", "al", "hasta")
# A figure and how far it may stretch: "20k but it could go up to 25k", "50 mil, pero podemos
# llegar hasta 60 mil" (folded text between the two).
_RANGE_STRETCH = re.compile(
    r"\s*(?:,\s*|\s)(?:but\s+)?(?:(?:it|we|i)\s+)?(?:could|can|might|may)\s+"
    r"(?:go|stretch|reach)(?:\s+up)?\s+(?:to|as\s+high\s+as)\s*$"
    r"|\s*(?:,\s*|\s)(?:y\s+)?pero\s+(?:podria|podriamos|puedo|podemos|se\s+puede)\s+"
    r"(?:llegar|subir|estirarme|estirarnos)\s+(?:a|hasta)\s*$"
)
_RANGE_PAIR_JOIN: tuple[str, ...] = ("y", "and")  # only after "entre"/"between"
# "20 o 25 mil", "500 or 600 m2": a bare figure, "or", then an amount or an area.
_RANGE_OR_JOIN: tuple[str, ...] = ("o", "or", "u")
_RANGE_LEAD: tuple[str, ...] = ("entre", "between", "from", "desde", "de")
_CORRECTIONS: tuple[str, ...] = (
    "no wait", "wait", "actually", "i mean", "rather", "sorry", "correction", "make it", "better",
    "mejor", "perdon", "digo", "quiero decir", "en realidad", "espera", "o sea", "no",
    "i meant", "make that", "scratch that", "my bad", "typo", "quise decir", "me confundi",
    "me equivoque", "corrijo", "correccion", "se me fue un cero", "mas bien",
)
# A corrected amount this large (or written with "mil", "k") restates the budget; a smaller
# one restates the size ("perdón, 150" after "1500 m2").
_CORRECTED_BUDGET_MIN = 1000
# After a small plain number these words keep it a possible amount ("budget is 50 for now").
_AMOUNT_FOLLOWERS: tuple[str, ...] = ("and", "y", "or", "o", "for", "para", "but", "pero", "no")

# Fields a bare number may answer when the bot asked for them, and their scalar kind.
_ASKABLE_SCALARS: Mapping[str, Literal["int", "float"]] = MappingProxyType({
    "parking_spaces": "int", "bedrooms": "int", "bathrooms": "int", "loading_docks": "int",
    "employees": "int", "floor": "int", "lease_term_months": "int", "ceiling_height": "float",
})

# Cheap substring checks that let a message skip a finder it cannot concern.
_FLOOR_GATE: tuple[str, ...] = (*_FLOOR_WORDS, "planta baja")
_HEIGHT_GATE: tuple[str, ...] = (
    "ceiling", "clear", "high", "tall", "height", "altura", "alto", "techo", "libre", "hombro",
    "cumbrera", "eave",
)
# A clear height above this many metres is a length or a surface ("300 metros libres").
_MAX_HEIGHT_M = 40.0
_LEASE_GATE: tuple[str, ...] = (
    "lease", "contract", "term", "contrato", "arrendamiento", "renta", "plazo", "forzoso", "sign",
    "firm",
)

# fmt: on
# "no"/"not" right before a number that follows a quantity names the value being replaced.
_RULED_OUT = re.compile(r"(?<![a-z])(?:no|not|instead of|en vez de|en lugar de)\s*$")
_SURE = 1.0  # explicit unit or currency
_HINTED = 0.9  # a bare "$", or an extra recognised by its noun
_CONTEXT = 0.85  # a context word ("budget", "hasta")
_ASKED = ASKED_CONFIDENCE = 0.7  # only the question the bot asked
_MIN_BARE_BUDGET = 10  # smallest bare number (no currency, no "mil") read as a budget


def quantity_vocabulary() -> frozenset[str]:
    """Folded words of the unit, count, floor and lease vocabularies (never place names)."""
    phrases = [
        *(p for p, _ in lexicon().area_units),
        *(p for p, _ in _LENGTH_UNITS),
        *(p for p, _ in _TERM_UNITS),
        *(n for count in lexicon().counts for n in count.nouns),
        *_FLOOR_WORDS,
        *_ORDINAL_WORDS,
        *_LEASE_NOUNS,
    ]
    return frozenset(w for p in phrases for w in p.split() if len(w) > 2 and w.isalpha())


# ---- regex helpers ----


def _phrase(text: str) -> str:
    return re.escape(text).replace(r"\ ", r"\s+").replace("/", r"/\s*")


def _alt(phrases: Iterable[str]) -> str:
    """Alternation of phrases, longest first so "pesos mexicanos" wins over "pesos"."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    return "(?:" + "|".join(_phrase(p) for p in ordered) + ")"


def _normal(text: str) -> str:
    return " ".join(text.split()).replace("/ ", "/")


_END = r"(?![a-z0-9]|\.[a-z])"  # "m" must not be the start of "M.N."
_START = r"(?<![a-z0-9])"


class _Vocab:
    """A phrase table compiled into one pattern, with the canonical value of each phrase."""

    def __init__(self, table: Iterable[tuple[str, str]]) -> None:
        pairs = tuple(table)
        self.values = {_normal(phrase): value for phrase, value in pairs}
        self.body = "(" + _alt(p for p, _ in pairs) + ")"

    def value(self, matched: str) -> str:
        return self.values[_normal(matched)]


@dataclass(slots=True)
class _Group:
    """One quantity expression: a number or a range, with what was written around it."""

    numbers: list[Number]
    start: int
    end: int
    kind: str | None = None  # "money", "area", "ignore" or an askable extra key
    currency: str | None = None
    hint: str | None = None
    unit: str | None = None
    period: str | None = None
    bound: Bound | None = None
    per_area: str | None = None  # the area unit of a price per unit of area
    confidence: float = _SURE
    spans: list[Span] = field(default_factory=list)

    @property
    def span(self) -> Span:
        return (self.start, self.end)


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _free(span: Span, taken: Iterable[Span]) -> bool:
    return not any(_overlaps(span, t) for t in taken)


# Words before a countable extra named with no number that say there is none of it.
_NOT_ONE = frozenset({"sin", "no", "ni", "without", "nor", "zero", "cero"})
# How far a total computed across area units may be rounded: half a percent.
_CONVERTED = 0.005


def _round(value: float) -> float:
    return round(value, 2)


def _scalar(value: float, kind: Literal["int", "float"], unit: str | None = None) -> Scalar:
    if kind == "int" and float(value).is_integer():
        return Scalar(kind="int", value=int(value), unit=unit)
    return Scalar(kind="float", value=_round(value), unit=unit)


class QuantityFinder:
    """Finds budgets, areas and numeric extras in a message.

    Build once and reuse: the constructor compiles the vocabularies and asks pint for the
    unit conversion factors.
    """

    def __init__(self, lex: Lexicon | None = None) -> None:
        """Compile ``lex`` (default: the packaged vocabulary) and the unit factors."""
        units: pint.UnitRegistry[float] = pint.UnitRegistry()
        # pint's "acre" is the US survey acre; listings and the README use the international
        # one (43,560 international square feet = 4,046.8564224 m²).
        units.define("international_acre = 43560 * foot ** 2")
        self._m2 = {
            key: float(units.Quantity(1, name).to("meter**2").magnitude)
            for key, name in _PINT_AREA.items()
        }
        self._metres = {"m": 1.0, "ft": float(units.Quantity(1, "foot").to("meter").magnitude)}
        self._lex = lex = lex or lexicon()
        self._area = _Vocab(lex.area_units)
        self._per_area = _Vocab((*lex.area_units, *lex.per_area_units))
        self._per_area_fused = _Vocab(_PER_AREA_FUSED)
        self._cur_after = _Vocab(lex.currency_after)
        self._cur_before = _Vocab(lex.currency_before)
        self._cur_alone = _Vocab(lex.currency_alone)
        self._period = _Vocab(lex.periods_after)
        self._period_alone = _Vocab(lex.periods_alone)
        self._modality = _Vocab([*((w, "rent") for w in lex.rent), *((w, "buy") for w in lex.buy)])
        self._length = _Vocab(_LENGTH_UNITS)
        self._term = _Vocab((p, str(m)) for p, m in _TERM_UNITS)
        self._ordinal = _Vocab((p, str(n)) for p, n in _ORDINAL_WORDS.items())
        self._compile()

    def _compile(self) -> None:
        c = re.compile
        lex = self._lex
        counts = lex.counts
        # "a 2,500-square-foot office": a hyphen may join the number and its unit.
        self._re_area = c(r"\s*-?\s*" + self._area.body + _END)
        self._re_per_area = c(r"\s*" + _alt(_PER_AREA_LINK) + r"\s*" + self._per_area.body + _END)
        self._re_per_area_fused = c(r"\s*" + self._per_area_fused.body + _END)
        self._re_not_area = c(r"\s*" + _alt(_NOT_AREA_AFTER) + _END)
        self._re_cur_after = c(r"\s*(?:de\s+|of\s+|en\s+|in\s+)?" + self._cur_after.body + _END)
        self._re_cur_before = c(_START + self._cur_before.body + r"\s*$")
        self._re_period = c(r"\s*" + self._period.body + _END)
        self._re_budget_bits = c(
            _START
            + f"(?:(?P<currency>{self._cur_alone.body})|(?P<period>{self._period_alone.body})"
            + f"|(?P<modality>{self._modality.body})){_END}"
        )
        self._re_height_after = c(
            r"\s*-?\s*"
            + self._length.body
            + _END
            + r"\.?\s*(?:of\s+|de\s+)?"
            + _alt(lex.height_after)
            + _END
        )
        self._re_height_before = c(
            _START + _alt(lex.height_before) + r"\s*(?:" + _alt(_HEIGHT_LINK) + r"\s*)?$"
        )
        self._re_length = c(r"\s*" + self._length.body + _END)
        # "50 x 40 m", "50m x 40m", "50 por 40 metros", "100 by 50 feet"
        side = r"(\d+(?:\.\d+)?)"
        self._re_sides = c(
            _START
            + side.replace("(", "(?P<a>", 1)
            + r"\s*(?:"
            + self._length.body.replace("(", "(?P<unit1>", 1)
            + r")?\s*(?:x|×|\*|por|by)\s*"
            + side.replace("(", "(?P<b>", 1)
            + r"\s*"
            + self._length.body.replace("(", "(?P<unit>", 1)
            + _END
        )
        # "10 metros de frente por 30 de fondo": a lot's front and depth.
        self._re_front_depth = c(
            _START
            + r"(?P<a>\d+(?:\.\d+)?)\s*(?:m|mts?|metros?)?\s*de\s+frente\s*(?:por|x|y|,)\s*"
            + r"(?P<b>\d+(?:\.\d+)?)\s*(?:m|mts?|metros?)?\s*de\s+fondo"
            + _END
        )
        # "an acre", "una hectárea": one unit, the article its number (land units only: "a
        # metro station" is no square metre).
        land = _Vocab((p, unit) for p, unit in lex.area_units if unit in ("ha", "acre"))
        self._re_one_area = c(_START + r"(?:an?|una?|one)\s+" + land.body + _END)
        self._re_term_after = c(
            r"\s*-?\s*" + self._term.body + r"\s*-?\s*" + _alt(_LEASE_AFTER) + _END
        )
        # "contrato de un año", "a lease of a year": one unit, named with an article.
        self._re_term_one = c(
            _START
            + _alt(_LEASE_NOUNS)
            + r"\s+(?:de|a|por|of|for)\s+(?:un|una|a|an)\s+"
            + self._term.body
            + _END
        )
        self._re_term_before = c(_START + _alt(_LEASE_BEFORE) + r"\s*$")
        # "el lease tiene que ser de 3 years", "lease de 5 años": a lease noun up to five
        # words before a number that a term unit follows.
        self._re_term_noun = c(
            _START + _alt(_LEASE_NOUNS) + _END + r"(?:[\s,:]+[a-z]+){0,5}[\s,:]+$"
        )
        self._re_term_unit = c(r"\s*-?\s*" + self._term.body + _END)
        # "a 9-person team": a hyphen may join the number and its noun.
        self._re_count = c(
            r"\s*-?\s*(?:" + "|".join(f"(?P<{n.key}>{_alt(n.nouns)})" for n in counts) + ")" + _END
        )
        self._re_count_lead = {n.key: c(_START + _alt(n.lead) + r"\s*$") for n in counts if n.lead}
        singles = [n for n in counts if n.single]
        self._re_single = (
            c(
                _START
                + "(?:"
                + "|".join(f"(?P<{n.key}>{_alt(n.single)})" for n in singles)
                + ")"
                + _END
            )
            if singles
            else None
        )
        link = _alt(_COUNT_MIN_LINK)
        self._re_count_before = c(
            "(?:"
            + "|".join(
                f"(?P<{key}>{_START}{_alt(p for p, k in lex.counts_before if k == key)}\\s*)"
                for key in dict.fromkeys(k for _, k in lex.counts_before)
            )
            + "|"
            + "|".join(
                f"(?P<{n.key}_noun>{_START}{_alt(n.nouns)}\\s*(?:[,:]\\s*{link}|:|{link})\\s*:?\\s*)"
                for n in counts
                if n.key != "power_kva"
            )
            + ")$"
        )
        floor = _alt(_FLOOR_WORDS)
        self._re_floor_before = c(
            _START
            + floor
            + r"\s*(?:no\.?\s*|number\s*|num\.?\s*|#\s*)?([0-9]{1,3})(?![0-9]|[.,][0-9])"
        )
        self._re_floor_after = c(
            _START + r"([0-9]{1,3})\s*" + _alt(_ORDINAL_SUFFIXES) + r"?\.?\s+" + floor + _END
        )
        self._re_floor_word = c(_START + self._ordinal.body + r"\s+" + floor + _END)
        self._re_ground = c(_START + _alt(_GROUND_FLOOR) + _END)
        self._re_money_after = c(r"\s*" + _alt(lex.money_after) + _END)
        self._re_money_noun = c(_START + _alt(lex.money_nouns) + _END)
        self._re_money_lead = c(
            _START
            + _alt((*lex.money_nouns, *lex.money_verbs))
            + r"(?:\s+(?:is|es|of|de|around|about|unos|unas|como|:))?\s*:?\s*$"
        )
        self._re_money_verb = c(_START + _alt(lex.money_verbs) + r"(?:\s+[a-z]+){0,2}\s*$")
        self._re_upper_before = c(_START + _alt(lex.upper_before) + r"\s*$")
        self._re_lower_before = c(_START + _alt(lex.lower_before) + r"\s*$")
        self._re_upper_after = c(r"\s*" + _alt(lex.upper_after) + _END)
        self._re_lower_after = c(r"\s*" + _alt(lex.lower_after) + _END)
        self._re_join = c(r"\s*" + _alt(_RANGE_JOIN) + r"\s*$")
        self._re_pair_join = c(r"\s*" + _alt(_RANGE_PAIR_JOIN) + r"\s*$")
        self._re_or_join = c(r"\s*" + _alt(_RANGE_OR_JOIN) + r"\s*$")
        self._re_lead = c(_START + _alt(_RANGE_LEAD) + r"\s*$")
        self._re_pair_lead = c(_START + _alt(("entre", "between")) + r"\s*$")
        self._re_correction = c(_START + _alt(_CORRECTIONS) + _END)
        self._re_follower = c(r"\s*(?:$|[^\w\s]|" + _alt(_AMOUNT_FOLLOWERS) + _END + ")")
        self._re_stop = c(r"[.!?;\n](?:\s|$)|[!?;\n]")

    # ---- public API ----

    def find(
        self, msg: Message, ctx: ParseContext, claimed: Sequence[Span] = ()
    ) -> list[Candidate]:
        """Candidates for budget, size and numeric extras, in text order.

        Args:
            msg: The message.
            ctx: What the bot asked last (bare numbers answer it) and the language.
            claimed: Spans other finders own (dates, ranks, city names); numbers inside them
                are ignored.

        Returns:
            The candidates, in text order; a field stated twice appears twice.
        """
        numbers = [n for n in find_numbers(msg, ctx.language) if _free((n.start, n.end), claimed)]
        used: set[int] = set()
        found: list[Candidate] = []
        found += self._composite_areas(msg, numbers, used, claimed)
        found += self._floors(msg, numbers, used, claimed)
        found += self._heights(msg, numbers, used)
        found += self._lease_terms(msg, numbers, used)
        found += self._counts(msg, numbers, used)
        found += self._singles(msg, found)
        groups = self._groups(msg, [n for i, n in enumerate(numbers) if i not in used])
        self._resolve(msg, ctx, groups, {c.key for c in found})
        taken = [
            *claimed,
            *(g.span for g in groups if g.kind is not None),
            *(c.span for c in found),
        ]
        money = [g for g in groups if g.kind == "money"]
        budget_bits = self._message_budget_bits(msg, taken)
        found += [self._money(msg, g, budget_bits) for g in money if g.per_area is None]
        areas = [g for g in groups if g.kind == "area"]
        found += [self._size(msg, g) for g in areas]
        for group in (g for g in money if g.per_area is not None):
            found += self._price_per_m2(msg, group, budget_bits, areas)
        found += [self._asked_scalar(g) for g in groups if g.kind in _ASKABLE_SCALARS]
        if not money:
            found += self._partial_budget(budget_bits)
        return sorted(found, key=lambda c: c.span)

    # ---- sizes written as a product ----

    def _composite_areas(
        self, msg: Message, numbers: list[Number], used: set[int], claimed: Sequence[Span]
    ) -> list[Candidate]:
        """Sizes the grouping of single numbers cannot read: a lot's sides ("50 x 40 m",
        "50 por 40 metros", "10 m de frente por 30 de fondo"), one unit said with an article
        ("an acre", "una hectárea"), and several equal spaces ("two floors of 500 m2 each",
        "3 bodegas de 1,000 m2"), whose total is the size."""
        f = msg.folded
        out: list[Candidate] = []

        def add(span: Span, m2: float) -> None:
            if _free(span, claimed) and _free(span, [c.span for c in out]):
                self._consume(numbers, used, span)
                area = Area(m2=_round(m2), original=msg.snippet(span))
                out.append(Candidate(key="size", value=area, span=span, confidence=_SURE))

        for m in self._re_sides.finditer(f):
            unit = self._length.value(m.group("unit") or m.group("unit1"))
            side = self._metres[unit]
            add(m.span(), float(m.group("a")) * float(m.group("b")) * side * side)
        for m in self._re_front_depth.finditer(f):
            add(m.span(), float(m.group("a")) * float(m.group("b")))
        for m in self._re_one_area.finditer(f):
            if not _FRACTION_BEFORE.search(f, max(0, m.start() - 12), m.start()):
                add(m.span(), self._m2[self._area.value(m.group(1))])
        for i, n in enumerate(numbers):
            if i in used or not 2 <= n.value <= _MAX_EQUAL_SPACES or n.value != int(n.value):
                continue
            each = next((x for j, x in enumerate(numbers) if j > i and j not in used), None)
            if each is None or not _EQUAL_SPACES.fullmatch(f[n.end : each.start]):
                continue
            area = self._re_area.match(f, each.end)
            if area is None or self._re_not_area.match(f, area.end()):
                continue
            tail = _EACH.match(f, area.end())
            end = tail.end() if tail else area.end()
            add((n.start, end), n.value * each.value * self._m2[self._area.value(area.group(1))])
        return out

    # ---- extras ----

    def _consume(self, numbers: list[Number], used: set[int], span: Span) -> None:
        for i, n in enumerate(numbers):
            if _overlaps((n.start, n.end), span):
                used.add(i)

    def _floors(
        self, msg: Message, numbers: list[Number], used: set[int], claimed: Sequence[Span]
    ) -> list[Candidate]:
        f = msg.folded
        if not any(word in f for word in _FLOOR_GATE):
            return []
        hits: list[tuple[Span, int]] = []
        for pattern in (self._re_floor_before, self._re_floor_after):
            for m in pattern.finditer(f):
                if not self._re_area.match(f, m.end(1)) or pattern is self._re_floor_after:
                    hits.append((m.span(), int(m.group(1))))
        for m in self._re_floor_word.finditer(f):
            hits.append((m.span(), int(self._ordinal.value(m.group(1)))))
        for m in self._re_ground.finditer(f):
            hits.append((m.span(), 0))
        out: list[Candidate] = []
        for span, level in sorted(hits):
            if _free(span, claimed) and _free(span, [c.span for c in out]):
                self._consume(numbers, used, span)
                out.append(_extra("floor", Scalar(kind="int", value=level), span))
        return out

    def _heights(self, msg: Message, numbers: list[Number], used: set[int]) -> list[Candidate]:
        f = msg.folded
        out: list[Candidate] = []
        if not any(word in f for word in _HEIGHT_GATE):
            return out
        for i, n in enumerate(numbers):
            if i in used:
                continue
            start, end, unit = n.start, 0, "m"
            after = self._re_height_after.match(f, n.end)
            before = self._re_height_before.search(f, max(0, n.start - 40), n.start)
            if after is not None:
                end, unit = after.end(), self._length.value(after.group(1))
            elif before is not None and (length := self._re_length.match(f, n.end)):
                # The unit is required here: "a la altura de Reforma 222" is an address.
                start, end = before.start(), length.end()
                unit = self._length.value(length.group(1))
            else:
                continue
            if n.value * self._metres[unit] > _MAX_HEIGHT_M:
                continue
            used.add(i)
            metres = _scalar(n.value * self._metres[unit], "float", "m")
            out.append(_extra("ceiling_height", metres, (start, end)))
        return out

    def _lease_terms(self, msg: Message, numbers: list[Number], used: set[int]) -> list[Candidate]:
        f = msg.folded
        out: list[Candidate] = []
        if not any(word in f for word in _LEASE_GATE):
            return out
        for i, n in enumerate(numbers):
            if i in used:
                continue
            start, end, months = n.start, 0, 0
            after = self._re_term_after.match(f, n.end)
            before = self._re_term_before.search(f, max(0, n.start - 30), n.start)
            if before is None:
                before = self._re_term_noun.search(f, max(0, n.start - 50), n.start)
            unit = self._re_term_unit.match(f, n.end)
            if after is not None:
                end, months = after.end(), int(self._term.value(after.group(1)))
            elif before is not None and unit is not None:
                start, end = before.start(), unit.end()
                months = int(self._term.value(unit.group(1)))
            else:
                continue
            used.add(i)
            out.append(_extra("lease_term_months", _scalar(n.value * months, "int"), (start, end)))
        if not out and (one := self._re_term_one.search(f)) is not None:
            months = int(self._term.value(one.group(1)))
            out.append(_extra("lease_term_months", _scalar(months, "int"), one.span()))
        return out

    def _counts(self, msg: Message, numbers: list[Number], used: set[int]) -> list[Candidate]:
        f = msg.folded
        out: list[Candidate] = []
        for i, n in enumerate(numbers):
            if i in used:
                continue
            noun = self._re_count.match(f, n.end)
            if noun is None or noun.lastgroup is None:
                lead = self._count_before(f, n)
                if lead is not None:
                    used.add(i)
                    out.append(_extra(lead[0], _scalar(n.value, "int"), (lead[1], n.end)))
                continue
            used.add(i)
            start = self._count_start(f, numbers, used, i, noun.lastgroup)
            out.append(_extra(noun.lastgroup, _scalar(n.value, "int"), (start, noun.end())))
        return out

    def _singles(self, msg: Message, counted: list[Candidate]) -> list[Candidate]:
        """One of a countable extra named with no number ("y que tenga andén de carga"), unless
        it is counted elsewhere in the message, ruled out ("sin andén") or asked about a place
        ("¿tiene andén?")."""
        if self._re_single is None:
            return []
        f = msg.folded
        out: list[Candidate] = []
        keys = {c.key for c in counted}
        for m in self._re_single.finditer(f):
            key = m.lastgroup
            if key is None or key in keys or any(_overlaps(m.span(), c.span) for c in counted):
                continue
            if asked_about(msg, m.span()):
                continue  # "¿tiene andén?" asks about a place, it wants nothing yet
            before = f[max(0, m.start() - 12) : m.start()].split()
            if before and (before[-1] in _NOT_ONE or before[-1].isdigit()):
                continue
            keys.add(key)
            out.append(_extra(key, _scalar(1, "int"), m.span()))
        return out

    def _count_before(self, f: str, n: Number) -> tuple[str, int] | None:
        """A count whose noun or lead comes first ("somos 30", "docks, mínimo 2"): key, start."""
        if not float(n.value).is_integer() or n.value <= 0 or self._re_area.match(f, n.end):
            return None
        if self._re_cur_after.match(f, n.end) or self._re_term_unit.match(f, n.end):
            return None
        m = self._re_count_before.search(f, max(0, n.start - 40), n.start)
        if m is None or m.lastgroup is None:
            return None
        return m.lastgroup.removesuffix("_noun"), m.start()

    def _count_start(
        self,
        f: str,
        numbers: list[Number],
        used: set[int],
        i: int,
        key: str,
    ) -> int:
        """Start of a count: takes in the lower end of "15 to 20 people" and "para"."""
        start = numbers[i].start
        prev = numbers[i - 1] if i > 0 and (i - 1) not in used else None
        if prev is not None and self._re_join.match(f[prev.end : start]):
            used.add(i - 1)
            start = prev.start
        leads = self._re_count_lead.get(key)
        lead = leads.search(f, max(0, start - 25), start) if leads else None
        return lead.start() if lead else start

    # ---- budget and size ----

    def _groups(self, msg: Message, numbers: list[Number]) -> list[_Group]:
        groups = [self._annotate(msg, n) for n in numbers]
        merged: list[_Group] = []
        for group in groups:
            if merged and self._joins(msg.folded, merged[-1], group):
                merged[-1] = _range(merged[-1], group)
            else:
                merged.append(group)
        for group in merged:
            self._bounds(msg.folded, group)
            self._lead(msg.folded, group)
        return _bounded_ranges(msg.folded, merged)

    def _annotate(self, msg: Message, n: Number) -> _Group:
        """A number with the unit, currency and period written right around it."""
        f = msg.folded
        group = _Group(numbers=[n], start=n.start, end=n.end, currency=n.currency)
        if n.currency is not None:
            group.kind = "money"
        if (area := self._re_area.match(f, n.end)) is not None:
            blocked = self._re_not_area.match(f, area.end()) is not None
            group.kind, group.end = ("ignore" if blocked else "area"), area.end()
            group.unit = self._area.value(area.group(1))
            return group
        if (cur := self._re_cur_after.match(f, n.end)) is not None:
            group.kind, group.end = "money", cur.end()
            group.currency = self._cur_after.value(cur.group(1))
        if (pre := self._re_cur_before.search(f, max(0, n.start - 8), n.start)) is not None:
            code = self._cur_before.value(pre.group(1))
            group.kind, group.start = "money", pre.start()
            if group.currency is None:
                group.currency, group.hint = (None, "$") if code == "$" else (code, None)
        self._period_after(f, group)
        if group.kind == "money" and (per := self._re_per_area.match(f, group.end)) is not None:
            group.per_area, group.end = self._per_area.value(per.group(1)), per.end()
            self._period_after(f, group)
        elif (
            group.kind == "money"
            and (fused := self._re_per_area_fused.match(f, group.end)) is not None
        ):
            group.per_area, group.end = self._per_area_fused.value(fused.group(1)), fused.end()
            self._period_after(f, group)
        return group

    def _period_after(self, f: str, group: _Group) -> None:
        if (per := self._re_period.match(f, group.end)) is None:
            return
        period = self._period.value(per.group(1))
        if group.kind is None:
            if period == "total":
                return  # "500 total" alone does not say money
            group.confidence = _CONTEXT  # "20k per month": money, currency unknown
        group.kind, group.period, group.end = "money", period, per.end()

    def _joins(self, f: str, left: _Group, right: _Group) -> bool:
        """Whether two adjacent expressions form a range ("15k-20k", "entre 15 y 20 mil")."""
        if len(left.numbers) > 1 or right.numbers[0].start < left.end:
            return False
        if not (left.kind is None or right.kind is None or left.kind == right.kind):
            return False
        if "ignore" in (left.kind, right.kind):
            return False
        between = f[left.end : right.start]
        if self._re_join.match(between) or _RANGE_STRETCH.match(between):
            return True
        if self._re_pair_join.match(between):
            return self._re_pair_lead.search(f, max(0, left.start - 12), left.start) is not None
        if self._re_or_join.match(between):
            return left.kind is None and right.kind in ("money", "area")
        return False

    def _bounds(self, f: str, group: _Group) -> None:
        if len(group.numbers) > 1:
            return
        lo = max(0, group.start - 20)
        if (m := self._re_upper_before.search(f, lo, group.start)) is not None:
            group.bound, group.start = "max", m.start()
        elif (m := self._re_lower_before.search(f, lo, group.start)) is not None:
            group.bound, group.start = "min", m.start()
        elif group.numbers[0].plus:
            group.bound = "min"
        if (m := self._re_upper_after.match(f, group.end)) is not None:
            group.bound, group.end = "max", m.end()
        elif (m := self._re_lower_after.match(f, group.end)) is not None:
            group.bound, group.end = "min", m.end()
        if group.kind == "money":
            self._period_after(f, group)

    def _lead(self, f: str, group: _Group) -> None:
        """Take "entre"/"from" into a range's span so the words count as explained."""
        if len(group.numbers) > 1:
            m = self._re_lead.search(f, max(0, group.start - 10), group.start)
            if m is not None:
                group.start = m.start()

    # ---- deciding what plain numbers are ----

    def _resolve(
        self, msg: Message, ctx: ParseContext, groups: list[_Group], stated: set[str]
    ) -> None:
        previous: _Group | None = None
        boundary = 0
        for group in groups:
            if group.kind is None:
                self._resolve_one(msg, ctx, group, previous, boundary)
            if group.kind in {"money", "area"}:
                previous = group
            boundary = group.end
        self._resolve_asked(msg.folded, ctx, groups, stated)

    def _resolve_one(
        self,
        msg: Message,
        ctx: ParseContext,
        group: _Group,
        previous: _Group | None,
        boundary: int,
    ) -> None:
        f = msg.folded
        window_start = self._window_start(f, group.start, boundary)
        if self._money_context(f, group, window_start) and self._amount_like(f, group):
            group.kind, group.confidence = "money", _CONTEXT
            self._period_after(f, group)
        elif previous is not None and _RULED_OUT.search(f, previous.end, group.start):
            group.kind = "ignore"  # "son 11 mil, no 9": the old figure, ruled out
        elif previous is not None and self._re_correction.search(f, previous.end, group.start):
            _inherit(group, previous)
        elif ctx.known and self._re_correction.search(f, window_start, group.start):
            self._corrected(ctx, group)
        elif group.bound is not None:
            size_only = "size" in ctx.asked and "budget" not in ctx.asked
            group.kind = "area" if size_only else "money"
            group.unit = "m2" if size_only else None
            group.confidence = _ASKED if size_only else _CONTEXT

    @staticmethod
    def _corrected(ctx: ParseContext, group: _Group) -> None:
        """A bare number after a correction cue restates a budget or size already held."""
        n = group.numbers[-1]
        if "budget" in ctx.known and (n.scale > 1 or abs(n.value) >= _CORRECTED_BUDGET_MIN):
            group.kind, group.confidence = "money", _CONTEXT
        elif "size" in ctx.known and n.scale == 1 and abs(n.value) >= _MIN_BARE_BUDGET:
            group.kind, group.unit, group.confidence = "area", "m2", _CONTEXT

    def _window_start(self, f: str, start: int, boundary: int) -> int:
        """Context words count back to the previous number or the sentence start."""
        lo = max(boundary, start - 60)
        stops = list(self._re_stop.finditer(f, lo, start))
        return stops[-1].end() if stops else lo

    def _money_context(self, f: str, group: _Group, lo: int) -> bool:
        if self._re_money_noun.search(f, lo, group.start) is not None:
            return True
        if self._re_money_verb.search(f, lo, group.start) is not None:
            return True
        return self._re_money_after.match(f, group.end) is not None

    def _amount_like(self, f: str, group: _Group) -> bool:
        """A small plain number followed by a noun counts things ("rentar 2 bodegas")."""
        n = group.numbers[-1]
        if abs(n.value) >= 100 or n.scale > 1:
            return True
        return self._re_follower.match(f, group.end) is not None

    def _resolve_asked(
        self, f: str, ctx: ParseContext, groups: list[_Group], stated: set[str]
    ) -> None:
        """Bare numbers answer the fields the bot asked for, in the order asked."""
        keys = {"money": "budget", "area": "size"}
        stated = stated | {keys.get(g.kind, g.kind) for g in groups if g.kind is not None}
        wanted = [
            key
            for key in ctx.asked
            if key not in stated and (key in {"budget", "size"} or key in _ASKABLE_SCALARS)
        ]
        for group in groups:
            if not wanted:
                return
            if group.kind is not None or not _bare_answer(group.numbers[-1]):
                continue
            if _COUNTED.match(f, group.end):
                continue  # "a 10 años", "20 personas": a count of something else
            if wanted[0] == "budget" and not self._amount_like(f, group):
                continue  # "tengo 2 hijos" does not answer "what is your budget?"
            if wanted[0] == "budget" and not _plausible_bare_budget(group.numbers[-1]):
                continue  # a bare "3" answers another question (rooms, floor), not the budget
            key = wanted.pop(0)
            group.kind = {"budget": "money", "size": "area"}.get(key, key)
            group.unit = "m2" if key == "size" else None
            group.confidence = _ASKED

    # ---- building candidates ----

    def _message_budget_bits(self, msg: Message, taken: Sequence[Span]) -> _BudgetBits:
        """Currency, period and rent/buy words said anywhere in the message."""
        f = msg.folded
        bits = _BudgetBits()
        for m in self._re_budget_bits.finditer(f):
            span, text = m.span(), m.group(0)
            if m.lastgroup == "modality" and bits.modality is None:
                # Kept even inside another expression: "3-year lease" says rent.
                bits.modality = (self._modality.value(text), span)
            elif not _free(span, taken):
                continue
            elif m.lastgroup == "currency" and bits.currency is None:
                bits.currency = (self._cur_alone.value(text), span)
            elif m.lastgroup == "period" and bits.period is None:
                bits.period = (self._period_alone.value(text), span)
        return bits

    def _money(self, msg: Message, group: _Group, bits: _BudgetBits) -> Candidate:
        values = [n.value for n in group.numbers]
        low, high = (values[0], values[-1]) if len(values) > 1 else (None, None)
        if group.bound == "max":
            high = values[0]
        elif group.bound == "min":
            low = values[0]
        amount = high if high is not None else values[-1]
        currency = group.currency or (bits.currency[0] if bits.currency else None)
        period = group.period or (bits.period[0] if bits.period else None)
        modality: Modality | None = _modality(bits.modality[0]) if bits.modality else None
        if period == "year":
            # A yearly figure is kept as its monthly equivalent; ``original`` shows the words.
            amount, low, high = _per_month(amount), _per_month(low), _per_month(high)
            period = "month"
        final_period: Period | None = _period(period)
        if modality == "buy" and final_period is None:
            final_period = "total"
        if final_period == "month" and modality is None:
            modality = "rent"
        money = Money(
            amount=amount,
            currency=currency,
            period=final_period,
            min=low,
            max=high,
            modality=modality,
            original=msg.snippet(group.span),
        )
        hint = group.hint if currency is None else None
        confidence = group.confidence
        if group.hint and currency is None and confidence == _SURE:
            confidence = _HINTED
        # The span also takes in "presupuesto de" / "budget of" so those words count as
        # explained; ``original`` stays the amount expression itself.
        lead = self._re_money_lead.search(msg.folded, max(0, group.start - 25), group.start)
        span = (lead.start() if lead else group.start, group.end)
        return Candidate(
            key="budget", value=money, span=span, confidence=confidence, currency_hint=hint
        )

    def _price_per_m2(
        self, msg: Message, group: _Group, bits: _BudgetBits, areas: Sequence[_Group]
    ) -> list[Candidate]:
        """A price per unit of area, kept per m²; with a size it also gives the budget.

        The total is the rate times the size, both in the units written, so "$0.85/sf for
        50,000 sf" is exactly 42,500 whatever the rounding of the per-m² figure.
        """
        buying = bits.modality is not None and _modality(bits.modality[0]) == "buy"
        if group.per_area == "ft2" and group.period is None and not bits.period and not buying:
            # "$80 psf": a lease rate per square foot is quoted per year where feet are used.
            group.period = "year"
        said = self._money(msg, group, bits)
        assert isinstance(said.value, Money)
        rate = said.value
        if rate.period is None and rate.modality == "buy":
            rate = rate.model_copy(update={"period": "total"})
        per_m2 = 1 / self._m2[group.per_area or "m2"]
        price = rate.model_copy(
            update={
                "amount": _round((rate.amount or 0) * per_m2),
                "min": None if rate.min is None else _round(rate.min * per_m2),
                "max": None if rate.max is None else _round(rate.max * per_m2),
            }
        )
        out = [said.model_copy(update={"key": "price_per_m2", "value": price})]
        if areas and rate.amount is not None:
            area = areas[-1]
            m2 = area.numbers[-1].value * self._m2[area.unit or "m2"]
            # From the figure as written: a yearly rate's monthly equivalent is rounded ("$28
            # psf a year" is 2.33 a month, and 2,500 sf of it 5,833.33, not 5,825).
            said_period = group.period or (bits.period[0] if bits.period else None)
            written = group.numbers[0].value if group.bound == "max" else group.numbers[-1].value
            monthly = written / 12 if said_period == "year" else written
            total = _round(monthly * per_m2 * m2)
            if (group.per_area or "m2") != (area.unit or "m2"):
                # A price per sq ft for a size in m² (or the other way round): the product of
                # a conversion, as exact as prices are said ("USD 0.55/sqft" for 5,000 m² is
                # 29,600, not 29,600.75).
                total = roundest(total, _CONVERTED * total)
            budget = rate.model_copy(update={"amount": total, "min": None, "max": None})
            out.append(said.model_copy(update={"value": budget}))
        return out

    def _size(self, msg: Message, group: _Group) -> Candidate:
        factor = self._m2[group.unit or "m2"]
        values = [_round(n.value * factor) for n in group.numbers]
        low: float | None = values[0] if len(values) > 1 or group.bound == "min" else None
        high: float | None = values[-1] if len(values) > 1 or group.bound == "max" else None
        m2 = low if low is not None else values[-1]
        area = Area(m2=m2, min_m2=low, max_m2=high, original=msg.snippet(group.span))
        return Candidate(key="size", value=area, span=group.span, confidence=group.confidence)

    def _asked_scalar(self, group: _Group) -> Candidate:
        key = group.kind or ""
        value = _scalar(group.numbers[-1].value, _ASKABLE_SCALARS[key])
        if key == "ceiling_height":
            value = _scalar(group.numbers[-1].value, "float", "m")
        return Candidate(key=key, value=value, span=group.span, confidence=group.confidence)

    def _partial_budget(self, bits: _BudgetBits) -> list[Candidate]:
        """A currency, period or modality said without an amount updates the budget."""
        out: list[Candidate] = []
        if bits.currency is not None:
            out.append(_merge(Money(currency=bits.currency[0]), bits.currency[1]))
        period = _period(bits.period[0]) if bits.period is not None else None
        if bits.period is not None and period is not None:
            # "yearly" alone is left out: the brief keeps amounts per month, and an amount
            # already there cannot be read again as a year's ("al 11% anual" is a rate).
            out.append(_merge(Money(period=period), bits.period[1]))
        if bits.modality is not None:
            out.append(_merge(Money(modality=_modality(bits.modality[0])), bits.modality[1]))
        return out


@dataclass(slots=True)
class _BudgetBits:
    currency: tuple[str, Span] | None = None
    period: tuple[str, Span] | None = None
    modality: tuple[str, Span] | None = None


def _extra(key: str, value: Scalar, span: Span) -> Candidate:
    return Candidate(key=key, value=value, span=span, confidence=_HINTED)


def _merge(money: Money, span: Span) -> Candidate:
    return Candidate(key="budget", op="merge", value=money, span=span, confidence=_HINTED)


# Between a lower and an upper bound of one range ("at least 3,000 sq ft but no more than
# 4,000", "mínimo 300 m2 y máximo 400").
_BOUND_GAP = re.compile(r"\s*,?\s*(?:(?:and|but|y|pero|e)\s*,?\s*)?$")


def _same_quantity(left: str | None, right: str | None) -> bool:
    """Two expressions that may be ends of one area or amount (one of them may be bare)."""
    if (left or right) not in ("area", "money"):
        return False
    return left is None or right is None or left == right


def _bounded_ranges(f: str, groups: list[_Group]) -> list[_Group]:
    """A lower bound followed by an upper one of the same quantity (or a bare figure) is one
    range: "at least 3,000 sq ft but no more than 4,000" is 3,000–4,000 sq ft, not a size and
    a budget of 4,000."""
    out: list[_Group] = []
    for group in groups:
        left = out[-1] if out else None
        if (
            left is not None
            and left.bound == "min"
            and group.bound == "max"
            and _same_quantity(left.kind, group.kind)
            and len(left.numbers) == len(group.numbers) == 1
            and _BOUND_GAP.match(f[left.end : group.start]) is not None
            and group.numbers[0].value > left.numbers[0].value
        ):
            joined = _range(left, group)
            joined.kind, joined.unit = left.kind or group.kind, group.unit or left.unit
            joined.confidence = left.confidence
            out[-1] = joined
        else:
            out.append(group)
    return out


def _range(left: _Group, right: _Group) -> _Group:
    """Join two expressions into a range; "15 y 20 mil" applies the "mil" to both ends."""
    low, high = left.numbers[0], right.numbers[0]
    if high.scale > 1 and low.scale == 1 and low.value <= high.value / high.scale:
        low = replace(low, value=low.value * high.scale, scale=high.scale)
    return _Group(
        numbers=[low, high],
        start=left.start,
        end=right.end,
        kind=right.kind or left.kind,
        currency=right.currency or left.currency,
        hint=right.hint or left.hint,
        unit=right.unit or left.unit,
        period=right.period or left.period,
    )


def _inherit(group: _Group, previous: _Group) -> None:
    """A correction ("500, no wait, 800") restates the previous quantity's kind and unit."""
    group.kind = previous.kind
    group.currency, group.hint = previous.currency, previous.hint
    group.unit, group.period = previous.unit, previous.period
    group.confidence = previous.confidence


# A number followed by one of these counts something else than money or square metres, so
# it answers neither the budget nor the size (folded text).
_COUNTED = re.compile(
    r"\s*(?:%|por\s*ciento\b|percent\b|anos?\b|years?\b|yrs?\b|mes(?:es)?\b|months?\b"
    r"|dias?\b|days?\b|semanas?\b|weeks?\b|horas?\b|hours?\b|personas?\b|people\b"
    r"|employees?\b|empleados?\b|trabajadores?\b|workers?\b|pisos?\b|floors?\b"
    r"|niveles?\b|stor(?:y|ies)\b|banos?\b|bathrooms?\b|rooms?\b|cuartos?\b|salas?\b)"
)


# "two floors of 500 m2", "3 bodegas de 1,000 m2": a count, one plural noun, "of"/"de".
_EQUAL_SPACES = re.compile(r"\s+[a-z]{3,}s\s+(?:of|de)\s+")
_EACH = re.compile(r"\s*(?:each|cada\s+un[oa]|c/u|apiece)(?![a-z])")
_MAX_EQUAL_SPACES = 50
# "half an acre", "a quarter of an acre": the article is part of a fraction read elsewhere.
_FRACTION_BEFORE = re.compile(r"(?:half|quarter|third|medi[oa]|cuarto|of)\s+$")


def _plausible_bare_budget(n: Number) -> bool:
    """No property budget is a single-digit amount with no currency or multiplier."""
    return n.scale > 1 or abs(n.value) >= _MIN_BARE_BUDGET


def _bare_answer(n: Number) -> bool:
    """Small numbers in words ("one", "dos") are too often not answers."""
    return not (n.spelled and abs(n.value) < 10)


@overload
def _per_month(value: float) -> float: ...
@overload
def _per_month(value: None) -> None: ...
def _per_month(value: float | None) -> float | None:
    return None if value is None else _round(value / 12)


def _period(value: str | None) -> Period | None:
    if value == "month":
        return "month"
    if value == "total":
        return "total"
    return None


def _modality(value: str) -> Modality:
    return "buy" if value == "buy" else "rent"
