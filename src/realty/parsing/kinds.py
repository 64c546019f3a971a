"""Property types: the closed list of kinds, found from their synonyms in both languages.

The synonyms are the ``kinds`` of ``realty/data/vocabulary.yaml`` (shared with the grounder).

Multi-word synonyms win over single words ("medical office" is medical, not office). A few
words are also ordinary words ("store" the verb, "a lot of", "trabajo desde casa"); they only
count in the positions listed in ``_GUARDS``. Typos are matched with rapidfuzz against the
longer single-word synonyms. A type the table does not know ("I need a data center") is kept
as ``other`` with the words used, at a lower confidence, so the bot can confirm it.

A business described instead of a type ("tengo una panadería", "we run a dental practice")
proposes the type its premises usually are, from ``realty/data/businesses.yaml``; the
candidate is marked ``proposed`` so the bot confirms it. A type named in the same message wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import get_args

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from realty.domain.brief import PropertyKind, PropertyType
from realty.domain.turn import Candidate, ParseContext
from realty.parsing.facts import fact_vocabulary
from realty.parsing.lexicon import Lexicon, lexicon
from realty.parsing.numbers import number_vocabulary
from realty.parsing.signals import vocabulary
from realty.parsing.text import Message, fold

_DETERMINERS = frozenset(
    {"a", "an", "the", "one", "my", "our", "this", "that", "un", "una", "el", "la", "los"}
    | {"las", "unos", "unas", "mi", "nuestro", "nuestra", "este", "esta", "ese", "esa"}
)
_AFTER_LOT = frozenset({"in", "for", "near", "at", "with", "around", "that", "where", "en"})
_NOT_AFTER_LOCAL = frozenset(
    {"business", "company", "market", "area", "bank", "team", "agent", "broker", "firm"}
    | {"partner", "time", "news", "people", "government", "office", "store", "shop"}
)


@dataclass(frozen=True, slots=True)
class _Guard:
    """Where an ambiguous synonym counts.

    Attributes:
        determiner: a determiner must come within ``reach`` words before it.
        reach: how far back the determiner may be ("a coffee shop").
        opens: the start of the message or a search verb may stand in for the determiner
            ("Local en Puebla", "busco local").
        not_before: words that must not precede it ("trabajo desde casa").
        not_after: words that must not follow it ("a lot of", "a local business").
        only_after: when set, a following word from this set (or a number) is required.
    """

    determiner: bool = False
    reach: int = 1
    opens: bool = False
    not_before: frozenset[str] = frozenset()
    not_after: frozenset[str] = frozenset()
    only_after: frozenset[str] | None = None


_GUARDS: dict[str, _Guard] = {
    "local": _Guard(determiner=True, opens=True, not_after=_NOT_AFTER_LOCAL),
    "locales": _Guard(determiner=True, opens=True, not_after=_NOT_AFTER_LOCAL),
    "lot": _Guard(
        determiner=True, reach=3, not_before=frozenset({"parking"}), only_after=_AFTER_LOT
    ),
    # Business words that are also ordinary words.
    "planta": _Guard(not_after=frozenset({"baja", "alta", "libre", "electrica", "de", "solar"})),
    "plant": _Guard(not_before=frozenset({"power"}), not_after=frozenset({"based"})),
    "bar": _Guard(determiner=True, reach=2),
    "cafe": _Guard(determiner=True, reach=2, not_before=frozenset({"tomar", "grab", "por"})),
    "plot": _Guard(determiner=True, reach=2),
    "store": _Guard(determiner=True, reach=2),
    "stores": _Guard(determiner=True, reach=2),
    "shop": _Guard(determiner=True, reach=2),
    "shops": _Guard(determiner=True, reach=2),
    "home": _Guard(determiner=True, reach=2),
    "flat": _Guard(
        determiner=True,
        reach=2,
        not_after=frozenset({"fee", "rate", "price", "roof", "floor", "budget", "tax"}),
    ),
    "casa": _Guard(not_before=frozenset({"en", "desde", "de", "a", "mi", "tu", "su"})),
    "casas": _Guard(not_before=frozenset({"en", "desde"})),
    "office": _Guard(not_before=frozenset({"post", "box", "doctor's", "dentist's"})),
    "land": _Guard(not_before=frozenset({"to", "will", "would", "should", "could", "i"})),
}

# Words that open a request for premises, standing in for a determiner ("busco local").
_OPENERS = frozenset(
    {"busco", "buscamos", "buscando", "necesito", "necesitamos", "ocupo", "ocupamos", "quiero"}
    | {"queremos", "requiero", "requerimos", "rento", "rentamos", "compro", "compramos", "se"}
    | {"solicito", "hay", "tienen", "manejan"}
)

# Cues after which a noun phrase names what the prospect is looking for.
_CUES: tuple[tuple[str, ...], ...] = (
    ("need", "a"),
    ("need", "an"),
    ("want", "a"),
    ("want", "an"),
    ("looking", "for", "a"),
    ("looking", "for", "an"),
    ("searching", "for", "a"),
    ("searching", "for", "an"),
    ("interested", "in", "a"),
    ("interested", "in", "an"),
    ("busco", "un"),
    ("busco", "una"),
    ("buscamos", "un"),
    ("buscamos", "una"),
    ("buscando", "un"),
    ("buscando", "una"),
    ("necesito", "un"),
    ("necesito", "una"),
    ("necesitamos", "un"),
    ("necesitamos", "una"),
    ("quiero", "un"),
    ("quiero", "una"),
    ("queremos", "un"),
    ("queremos", "una"),
    ("requiero", "un"),
    ("requiero", "una"),
    ("ocupo", "un"),
    ("ocupo", "una"),
)
# Words that end the noun phrase after a cue.
_PHRASE_STOP = frozenset(
    {"in", "for", "with", "near", "at", "to", "that", "which", "and", "or", "around", "by"}
    | {"en", "para", "con", "por", "cerca", "que", "y", "o", "donde", "where", "of", "from"}
    | {"please", "por", "favor", "asap", "urgently", "soon", "pronto", "ya"}
)
_CONNECTORS = frozenset({"de", "del"})
_ADJECTIVES = frozenset(
    {"new", "big", "small", "large", "nice", "good", "great", "modern", "cheap", "bigger"}
    | {"smaller", "nuevo", "nueva", "grande", "pequeno", "pequena", "buen", "buena", "bonito"}
    | {"bonita", "amplio", "amplia", "moderno", "moderna", "barato", "barata", "little"}
    # "queremos una segunda", "want another": the kind comes from the business already named.
    | {"otra", "otro", "segunda", "segundo", "tercera", "tercer", "another", "second", "third"}
)
_GENERIC = frozenset(
    {"space", "place", "property", "premises", "spot", "something", "espacio", "lugar"}
    | {"inmueble", "propiedad", "algo", "ayuda", "help", "budget", "presupuesto", "unit"}
    | {"building", "edificio", "location", "ubicacion", "site", "sitio", "area", "zona"}
    | {"quote", "cotizacion", "price", "precio", "cita", "appointment", "visit", "visita"}
    | {"tour", "call", "llamada", "agent", "agente", "broker", "asesor", "advisor", "loan"}
    | {"credito", "mortgage", "hipoteca", "recommendation", "recomendacion", "idea"}
    | {"answer", "respuesta", "information", "informacion", "deal", "oferta", "offer"}
    | {"discount", "descuento", "contract", "contrato", "lawyer", "abogado", "minute"}
    | {"moment", "momento", "favor", "job", "trabajo", "empleo", "partner", "socio", "one"}
    | {"bit", "poco", "lot", "few", "couple", "par", "total", "maximum", "minimum", "way"}
    | {"forma", "manera", "opcion", "option", "options", "opciones", "list", "lista"}
    | {"month", "mes", "year", "ano", "week", "semana", "day", "dia", "date", "fecha"}
    | {"parking", "estacionamiento", "elevator", "elevador", "view", "vista", "garden"}
    | {"jardin", "terrace", "terraza", "pool", "alberca", "room", "cuarto", "bathroom"}
    | {"bano", "bedroom", "recamara", "floor", "piso", "lease", "contrato", "rent", "renta"}
    | {"sale", "venta", "city", "ciudad", "country", "pais", "neighborhood", "colonia"}
)
_MAX_PHRASE = 3
_OTHER_CONFIDENCE = 0.6
_PROPOSED_CONFIDENCE = 0.75
_TYPO_CONFIDENCE = 0.8
_TYPO_MIN_WORD = 5
_TYPO_MIN_TARGET = 6
_LONG_WORD = 9
# Real words one edit away from a synonym ("precio" and "predio", "tienen" and "tienda").
_NOT_TYPOS = frozenset(
    {"precio", "precios", "factor", "factors", "tienen", "tiene", "oficial", "officer"}
    | {"despacio", "offices", "stored", "storey", "locale", "notes", "hostel", "motel"}
    | {"planta", "plants", "lottery", "casados", "cosas", "bodies", "fabric", "nave"}
    | {"almacenar", "oficio", "predios", "terrenal", "torreno", "houses", "horses"}
)


def _key(word: str) -> str:
    return word.replace("’", "'")


def kind_words(lex: Lexicon | None = None) -> dict[PropertyKind, frozenset[str]]:
    """The one-word synonyms of each kind (folded): what names a kind on its own."""
    kinds = (lex or lexicon()).kinds
    return {kind: frozenset(p for p in group if " " not in p) for kind, group in kinds.items()}


def type_vocabulary() -> frozenset[str]:
    """Every folded word used by the synonym table."""
    return frozenset(w for group in lexicon().kinds.values() for p in group for w in p.split())


@cache
def business_kinds() -> Mapping[tuple[str, ...], PropertyKind]:
    """Folded business phrases (as word tuples) and the property kind each one proposes."""
    raw = yaml.safe_load(resources.files("realty.data").joinpath("businesses.yaml").read_text())
    kinds = get_args(PropertyKind)
    table: dict[tuple[str, ...], PropertyKind] = {}
    for kind, phrases in raw.items():
        if kind not in kinds:
            raise ValueError(f"businesses.yaml: unknown property kind {kind!r}")
        for phrase in phrases:
            table[tuple(fold(phrase).split())] = kind
    return table


@dataclass(frozen=True, slots=True)
class _Found:
    kind: PropertyKind
    first: int
    last: int  # inclusive word index
    confidence: float
    proposed: bool = False


class TypeFinder:
    """Finds the property type(s) a message names, in order of appearance."""

    def __init__(self, lex: Lexicon | None = None) -> None:
        """Index the synonyms (``lex``, default the packaged vocabulary) and the typo targets."""
        self._phrases: dict[tuple[str, ...], PropertyKind] = {
            tuple(phrase.split()): kind
            for kind, group in (lex or lexicon()).kinds.items()
            for phrase in group
        }
        self._business = business_kinds()
        self._max_ngram = max(len(p) for p in (*self._phrases, *self._business))
        singles = {p[0]: k for p, k in self._phrases.items() if len(p) == 1}
        # Words whose guard needs a determiner are too ambiguous to be read from a typo.
        self._typo_targets: dict[str, PropertyKind] = {
            w: k
            for w, k in singles.items()
            if len(w) >= _TYPO_MIN_TARGET and not (w in _GUARDS and _GUARDS[w].determiner)
        }
        self._typo_choices = tuple(self._typo_targets)
        self._facts = fact_vocabulary()
        business_words = frozenset(w for p in self._business for w in p)
        self._known = (
            vocabulary() | type_vocabulary() | _NOT_TYPOS | _GENERIC | self._facts | business_words
        )
        self._cue_heads = frozenset(cue[0] for cue in _CUES)

    def find(self, msg: Message, ctx: ParseContext) -> list[Candidate]:
        """Property types named in ``msg``; the last one stated is the prospect's latest word.

        Args:
            msg: the user's message.
            ctx: the conversation context (unused: types do not depend on it).

        Returns:
            Candidates with key ``property_type`` ordered by position.
        """
        del ctx  # types read the same whatever was asked
        texts = [_key(w.text) for w in msg.words]
        found = [f for f in self._known_kinds(texts) if not _negated(msg, texts, f.first)]
        # "land in Tulum for a hotel project", "un local para restaurante": after a kind, one
        # named as its purpose is what the place is for, not a second wish.
        # "una nave con 2 andenes y oficinas", "a warehouse with offices": a kind named after
        # "with" is a feature of the place, not a second wish.
        found = [
            f
            for i, f in enumerate(found)
            if not (
                i
                and (_purpose(texts, f.first) or _featured(texts, found[i - 1].last, f.first))
                and _one_clause(msg, found[i - 1].last, f.first)
            )
        ]
        if any(not f.proposed for f in found):
            found = [f for f in found if not f.proposed]  # a named type beats a business
        taken = {i for f in found for i in range(f.first, f.last + 1)}
        found.extend(self._unknown_kinds(texts, taken))
        found.sort(key=lambda f: f.first)
        return [self._candidate(msg, f) for f in found]

    def _candidate(self, msg: Message, found: _Found) -> Candidate:
        span = (msg.words[found.first].start, msg.words[found.last].end)
        return Candidate(
            key="property_type",
            value=PropertyType(value=found.kind, text=msg.snippet(span), proposed=found.proposed),
            span=span,
            confidence=found.confidence,
        )

    def _known_kinds(self, texts: Sequence[str]) -> list[_Found]:
        found: list[_Found] = []
        pos = 0
        while pos < len(texts):
            hit = self._match_at(texts, pos)
            if hit is None:
                hit = self._typo_at(texts, pos)
            if hit is None:
                pos += 1
                continue
            found.append(hit)
            pos = hit.last + 1
        return found

    def _match_at(self, texts: Sequence[str], pos: int) -> _Found | None:
        for size in range(min(self._max_ngram, len(texts) - pos), 0, -1):
            words = tuple(texts[pos : pos + size])
            kind = self._phrases.get(words)
            business = self._business.get(words) if kind is None else None
            if kind is None and business is None:
                continue
            if size == 1 and not _guard_ok(texts, pos):
                return None
            if business is not None:
                return _Found(business, pos, pos + size - 1, _PROPOSED_CONFIDENCE, proposed=True)
            if kind is not None:
                return _Found(kind, pos, pos + size - 1, 0.9)
        return None

    def _typo_at(self, texts: Sequence[str], pos: int) -> _Found | None:
        word = texts[pos]
        if len(word) < _TYPO_MIN_WORD or not word.isalpha() or word in self._known:
            return None
        limit = 2 if len(word) >= _LONG_WORD else 1
        best = process.extractOne(word, self._typo_choices, scorer=OSA.distance, score_cutoff=limit)
        if best is None or best[0][0] != word[0]:
            return None
        return _Found(self._typo_targets[best[0]], pos, pos, _TYPO_CONFIDENCE)

    def _unknown_kinds(self, texts: Sequence[str], taken: set[int]) -> list[_Found]:
        found: list[_Found] = []
        for pos, text in enumerate(texts):
            if text not in self._cue_heads:
                continue
            for cue in _CUES:
                if tuple(texts[pos : pos + len(cue)]) == cue:
                    phrase = self._noun_phrase(texts, pos + len(cue), taken)
                    if phrase is None:
                        continue
                    # After "looking for a" a synonym whose guard failed ("a casa") is the kind.
                    kind = self._phrases.get(tuple(texts[phrase[0] : phrase[1] + 1]))
                    if kind is not None:
                        found.append(_Found(kind, phrase[0], phrase[1], 0.9))
                    else:
                        found.append(_Found("other", phrase[0], phrase[1], _OTHER_CONFIDENCE))
        return found

    def _noun_phrase(
        self, texts: Sequence[str], start: int, taken: set[int]
    ) -> tuple[int, int] | None:
        """The (first, last) word indices of a short noun phrase that names no known kind."""
        pos = start
        while pos < len(texts) and texts[pos] in _ADJECTIVES:
            pos += 1
        first = pos
        words: list[int] = []
        while pos < len(texts) and len(words) < _MAX_PHRASE:
            text = texts[pos]
            if text in _PHRASE_STOP or not text.replace("'", "").isalpha():
                break
            words.append(pos)
            pos += 1
        while words and texts[words[-1]] in _CONNECTORS:
            words.pop()
        if not words or any(i in taken for i in words):
            return None
        if any(texts[i] in _GENERIC or texts[i] in self._facts for i in words):
            return None
        return first, words[-1]


_NEGATIONS = frozenset({"no", "not", "ni", "nor"})


def _negated(msg: Message, texts: Sequence[str], first: int) -> bool:
    """ "es un local, no bodega": a kind right after "no" (same clause) is the one ruled out."""
    if first == 0 or texts[first - 1] not in _NEGATIONS:
        return False
    gap = msg.folded[msg.words[first - 1].end : msg.words[first].start]
    return gap.strip() == ""


_PURPOSE = frozenset({"for", "para"})
_PURPOSE_ARTICLES = frozenset({"a", "an", "our", "my", "un", "una", "nuestro", "nuestra", "mi"})


_SEEKING = frozenset({"look", "looking", "search", "searching", "ask", "asking", "go", "going"})
_CLAUSE_END = re.compile(r"[.;:!?\n]|,\s*(?:no|not|actually|mejor|bueno|perd[oó]n|sorry)\b")


def _purpose(texts: Sequence[str], first: int) -> bool:
    """Whether the kind at ``first`` follows "for (a)" / "para (un)": the place's use (not
    "looking for a warehouse", which names the place); or "to build (a)" / "para construir
    (una)": what will be built on it ("un terreno para construir una nave")."""
    before = first - 1
    if before >= 0 and texts[before] in _PURPOSE_ARTICLES:
        before -= 1
    if before >= 0 and texts[before] in _BUILD:
        return True
    if before < 0 or texts[before] not in _PURPOSE:
        return False
    return before == 0 or texts[before - 1] not in _SEEKING


# What is built on a plot: the kind after these verbs is its purpose.
_BUILD = frozenset(
    {"build", "building", "construct", "develop", "construir", "construccion", "edificar"}
    | {"levantar", "desarrollar", "erect"}
)


_WITH = frozenset({"with", "con", "including", "incluye", "incluyendo", "plus", "mas"})


def _featured(texts: Sequence[str], last: int, first: int) -> bool:
    """Whether "with" (or "including") sits between the kind ending at ``last`` and the one
    starting at ``first``."""
    return any(t in _WITH for t in texts[last + 1 : first])


def _one_clause(msg: Message, last: int, first: int) -> bool:
    """Whether words ``last`` and ``first`` are in one sentence, with no correction between."""
    return not _CLAUSE_END.search(msg.folded[msg.words[last].end : msg.words[first].start])


# A size between a determiner and its noun ("a 5,000 m2 lot", "un 300 m2 local").
_MEASURE_WORDS = frozenset(
    {"m2", "mts", "mts2", "m", "sqm", "sqft", "sf", "sq", "ft", "ft2", "acre", "acres"}
    | {"hectare", "hectares", "ha", "hectarea", "hectareas", "metros", "meters", "square"}
    | {"feet", "foot", "cuadrados", "k"}
)


def _words_back(texts: Sequence[str], pos: int, reach: int) -> list[str]:
    """Up to ``reach`` words before ``pos``, a size written between them not counted."""
    out: list[str] = []
    index = pos - 1
    while index >= 0 and len(out) < reach:
        word = texts[index]
        if not (word.isdigit() or word in _MEASURE_WORDS):
            out.append(word)
        index -= 1
    return out


def _guard_ok(texts: Sequence[str], pos: int) -> bool:
    guard = _GUARDS.get(texts[pos])
    if guard is None:
        return True
    before = texts[pos - 1] if pos else ""
    after = texts[pos + 1] if pos + 1 < len(texts) else ""
    if before in guard.not_before or after in guard.not_after:
        return False
    if guard.determiner:
        window = _words_back(texts, pos, guard.reach)
        # "5 locales", "dos oficinas": a count stands in for a determiner too.
        counted = before.isdigit() or (before in number_vocabulary() and before not in ("y", "and"))
        opened = counted or (guard.opens and (pos == 0 or before in _OPENERS))
        if not opened and not any(w in _DETERMINERS for w in window):
            return False
    if guard.only_after is not None:
        return after in guard.only_after or after.isdigit()
    return True
