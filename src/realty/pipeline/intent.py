"""What a message wants (its intent) and how it feels (a sentiment score), per turn.

Deterministic and fast: phrase tables in ``data/intents.yaml`` and a lexicon in
``data/sentiment.yaml``, matched on the folded words of the message (the parser's
:class:`~realty.parsing.text.Message`) reduced to Snowball stems (PyStemmer, Spanish then
English, so "agendemos" meets "agendar" and "documents" meets "documentos"), plus the
parser's shared vocabulary (property kinds, area units, currencies, rent/buy) and its number
finder as evidence of a brief detail. A message framed as a question ("¿…?", "what…",
"can I…", "¿se puede…?") weighs that brief evidence less: the property or the amount it names
is the subject of the question, not its purpose.

Each intent adds the weights of its phrases found in the message; the highest total wins
(ties by the file's priority list); a message with no evidence at all is ``off_topic``. The
confidence says how far the winner is ahead: ``0.5 + 0.5 · (top − second) / (top + 1)``,
a ranking aid, not a calibrated probability. The sentiment is a lexicon score squashed into
[-1, 1], with negation ("no me gusta") and intensifiers ("muy caro"). docs/intent.md has the
measured accuracy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import Stemmer
import yaml

from realty.domain.brief import Language
from realty.errors import ConfigurationError
from realty.parsing.lexicon import lexicon
from realty.parsing.numbers import find_numbers
from realty.parsing.text import Message, contains_phrase

Intent = Literal[
    "give_details",
    "ask_question",
    "market",
    "search",
    "simulate",
    "book_visit",
    "talk_to_person",
    "greeting",
    "off_topic",
]
INTENTS: tuple[Intent, ...] = get_args(Intent)
_NEGATION_WINDOW = 3
_NEGATED = -0.8
_INTENSIFIED = 1.5
_SQUASH = 4.0  # score / sqrt(score² + 4): 1 strong word ≈ 0.71, 1 mild word ≈ 0.45
_NO_EVIDENCE_CONFIDENCE = 0.6
_CLAUSE_BREAK = re.compile(r"[,.;:!?¿¡\n]")
_SENTENCE_BREAK = re.compile(r"[.;:!?¿¡\n]")
# A phrase word written "=word" matches only as written, not by its stem ("=intereses" must
# not meet "me interesa").
_EXACT = "="

Phrase = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TurnIntent:
    """What one user message wants and how it feels.

    Attributes:
        intent: One of :data:`INTENTS`.
        confidence: 0.5–0.99: how far the intent is ahead of the next one.
        sentiment: -1 (negative) to 1 (positive); 0 when the message carries none.
    """

    intent: Intent
    confidence: float
    sentiment: float


def _words(text: str) -> list[str]:
    return [w.text.replace("’", "'") for w in Message.of(text).words]


class _Stems:
    """A folded word's stem: Spanish Snowball, then English, remembered per word."""

    def __init__(self) -> None:
        self._es = Stemmer.Stemmer("spanish")
        self._en = Stemmer.Stemmer("english")
        self._seen: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        stem = self._seen.get(word)
        if stem is None:
            stem = self._en.stemWord(self._es.stemWord(word))
            self._seen[word] = stem
        return stem


_stem = _Stems()


def _phrase(text: str) -> Phrase:
    """A phrase as the keys its words are matched by: stems, or ``=word`` when marked exact."""
    exact = {w.lstrip(_EXACT) for w in text.split() if w.startswith(_EXACT)}
    return tuple(
        f"{_EXACT}{w}" if w in exact else _stem(w) for w in _words(text.replace(_EXACT, ""))
    )


# Spanish pronouns joined to a command ("agéndame", "llámame", "muéstranos"), which the
# Snowball stemmer keeps.
_ENCLITIC = re.compile(r"^(\w{4,}[aei])(?:me|nos|la|las|lo|los|le|les)$")


def _keys(word: str) -> tuple[str, ...]:
    """The keys a message word matches: its stem, its exact form, and the stem of the verb
    when a pronoun is joined to it."""
    joined = _ENCLITIC.match(word)
    if joined:
        return _stem(word), f"{_EXACT}{word}", _stem(joined.group(1))
    return _stem(word), f"{_EXACT}{word}"


@dataclass(frozen=True, slots=True)
class IntentTables:
    """The phrase tables and the lexicon, folded into word tuples."""

    phrases: Mapping[Intent, tuple[tuple[Phrase, float], ...]]
    vocabulary: frozenset[Phrase]
    modality: frozenset[Phrase]
    vocabulary_weight: float
    modality_weight: float
    number_weight: float
    min_evidence: float
    asked: frozenset[tuple[Intent, Phrase]]
    question_openers: frozenset[Phrase]
    accented_openers: frozenset[str]
    embedded_askers: frozenset[Phrase]
    question_details_factor: float
    priority: tuple[Intent, ...]
    valence: Mapping[str, float]
    negators: frozenset[str]
    intensifiers: frozenset[str]
    greeting_tails: frozenset[str]

    @classmethod
    def from_mappings(cls, intents: Any, sentiment: Any) -> IntentTables:
        """Check and fold loaded ``intents.yaml`` and ``sentiment.yaml``.

        Raises:
            ConfigurationError: A section is missing, or an intent is unknown.
        """
        try:
            weights = intents["weights"]
            phrases: dict[Intent, tuple[tuple[Phrase, float], ...]] = {}
            asked: set[tuple[Intent, Phrase]] = set()
            for name, groups in intents["intents"].items():
                if name not in INTENTS:
                    raise ConfigurationError(f"intents.yaml: unknown intent {name!r}")
                # "asked" phrases weigh as strong ones, in a question only.
                pairs = [
                    (_phrase(p), float(weights["strong" if group == "asked" else group]))
                    for group, ps in groups.items()
                    for p in ps
                ]
                asked.update((name, _phrase(p)) for p in groups.get("asked", ()))
                phrases[name] = tuple(sorted(pairs, key=lambda pw: -len(pw[0])))
            priority = tuple(intents["priority"])
            if set(priority) != set(INTENTS):
                raise ConfigurationError("intents.yaml: priority must list every intent once")
            valence: dict[str, float] = {}
            for sign, table in ((1.0, sentiment["positive"]), (-1.0, sentiment["negative"])):
                for strength, group in table.items():
                    valence.update((w, sign * float(strength)) for t in group for w in _words(t))
            return cls(
                phrases=phrases,
                vocabulary=_details_vocabulary(),
                modality=_modality_vocabulary(),
                vocabulary_weight=float(intents["vocabulary_weight"]),
                modality_weight=float(intents["modality_weight"]),
                number_weight=float(intents["number_weight"]),
                min_evidence=float(intents["min_evidence"]),
                asked=frozenset(asked),
                question_openers=frozenset(
                    tuple(_words(p)) for p in intents["question"]["openers"]
                ),
                accented_openers=frozenset(_flat(intents["question"]["accented"])),
                embedded_askers=frozenset(
                    tuple(_words(p)) for p in intents["question"]["embedded"]
                ),
                question_details_factor=float(intents["question"]["details_factor"]),
                priority=priority,
                valence=valence,
                negators=frozenset(_flat(sentiment["negators"])),
                intensifiers=frozenset(_flat(sentiment["intensifiers"])),
                greeting_tails=frozenset(_flat(sentiment["greeting_tails"])),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"intents.yaml / sentiment.yaml malformed: {exc}") from exc


def _flat(phrases: Sequence[str]) -> list[str]:
    return [w for p in phrases for w in _words(p)]


def _folded(phrases: Sequence[str]) -> frozenset[Phrase]:
    # Two-letter leftovers of symbols ("us$" → "us", "m.n." → "m n") name nothing.
    folded = (_phrase(p) for p in phrases)
    return frozenset(t for t in folded if t and t[0].isalpha() and (len(t) > 1 or len(t[0]) > 2))


def _details_vocabulary() -> frozenset[Phrase]:
    """The parser's words of a brief: property kinds, area units and currencies."""
    words = lexicon()
    phrases = [p for group in words.kinds.values() for p in group]
    return _folded([*phrases, *(p for p, _ in (*words.area_units, *words.currency_after))])


def _modality_vocabulary() -> frozenset[Phrase]:
    """The parser's rent and buy words ("renta", "buy"): weaker evidence of a brief detail."""
    words = lexicon()
    return _folded([*words.rent, *words.buy])


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files("realty.data").joinpath(name).read_text("utf-8"))


@cache
def intent_tables() -> IntentTables:
    """The packaged tables, loaded and checked on first use."""
    return IntentTables.from_mappings(_read("intents.yaml"), _read("sentiment.yaml"))


_Key = tuple[str, float]  # (intent, "vocabulary" or "modality"; weight)


def _phrase_index(tables: IntentTables) -> dict[str, list[tuple[Phrase, _Key]]]:
    """Every phrase by its first word, longest first."""
    entries: list[tuple[Phrase, _Key]] = [
        (phrase, (intent, weight))
        for intent, phrases in tables.phrases.items()
        for phrase, weight in phrases
    ]
    entries += [(p, ("vocabulary", tables.vocabulary_weight)) for p in tables.vocabulary]
    entries += [(p, ("modality", tables.modality_weight)) for p in tables.modality]
    index: dict[str, list[tuple[Phrase, _Key]]] = {}
    for phrase, key in sorted(entries, key=lambda e: -len(e[0])):
        index.setdefault(phrase[0], []).append((phrase, key))
    return index


class IntentClassifier:
    """Intent and sentiment of a user message; build once per process."""

    def __init__(self, tables: IntentTables | None = None) -> None:
        """Keep the tables (default: the packaged ones)."""
        self._tables = tables or intent_tables()
        self._index = _phrase_index(self._tables)

    def _found(self, words: Sequence[str]) -> list[tuple[Phrase, _Key, int]]:
        """Every phrase found, once, with where it starts."""
        keys = [_keys(w) for w in words]
        seen: set[tuple[Phrase, _Key]] = set()
        out: list[tuple[Phrase, _Key, int]] = []
        for at, options in enumerate(keys):
            for phrase, key in (e for k in options for e in self._index.get(k, ())):
                n = len(phrase)
                if (
                    (phrase, key) not in seen
                    and at + n <= len(keys)
                    and all(p in keys[at + j] for j, p in enumerate(phrase))
                ):
                    seen.add((phrase, key))
                    out.append((phrase, key, at))
        return out

    def is_question(self, msg: Message) -> bool:
        """Whether the message asks something: a "?" or "¿", or a sentence opening with a
        question word or an auxiliary ("what", "how", "can I", "¿se puede", "do you").

        Without a question mark, "cómo", "qué", "dónde" and "cuándo" ask only when written
        with their accent: unaccented they are also "como 800 m2" (about) or "que tenga
        estacionamiento" (that it has)."""
        if "?" in msg.text or "¿" in msg.text:
            return True
        tables = self._tables
        openers = tables.question_openers
        starts = [
            i
            for i, word in enumerate(msg.words)
            if (i == 0 or _SENTENCE_BREAK.search(msg.text[msg.words[i - 1].end : word.start]))
            and (
                word.text not in tables.accented_openers
                or msg.text[word.start : word.end].lower() != word.text
            )
        ]
        words = [w.text.replace("’", "'") for w in msg.words]
        return contains_phrase(words, openers, starts)

    def classify(self, text: str, language: Language | None = None) -> TurnIntent:
        """The intent, its confidence and the sentiment of ``text``.

        Args:
            text: The user's message.
            language: The conversation language (reads number words shared by both
                languages); ``None`` lets the words decide.
        """
        msg = Message.of(text)
        words = [w.text.replace("’", "'") for w in msg.words]
        scores = self.scores(msg, words, language)
        ranked = sorted(
            self._tables.priority, key=lambda i: (-scores[i], self._tables.priority.index(i))
        )
        top, second = scores[ranked[0]], scores[ranked[1]]
        if top <= 0:
            return TurnIntent("off_topic", _NO_EVIDENCE_CONFIDENCE, self.sentiment(msg))
        confidence = min(0.99, 0.5 + 0.5 * (top - second) / (top + 1))
        return TurnIntent(ranked[0], round(confidence, 3), self.sentiment(msg))

    def scores(
        self, msg: Message, words: Sequence[str], language: Language | None
    ) -> dict[Intent, float]:
        """Each intent's total weight of evidence in the message."""
        tables = self._tables
        strong: dict[Intent, float] = dict.fromkeys(INTENTS, 0.0)
        weak: dict[Intent, float] = dict.fromkeys(INTENTS, 0.0)
        question = self.is_question(msg)
        asking = question or contains_phrase(words, tables.embedded_askers)
        for phrase, (name, weight), at in self._found(words):
            if name in ("vocabulary", "modality"):
                strong["give_details"] += weight
            elif name == "greeting" and at > 0:
                continue  # a greeting opens the message
            elif not asking and (name, phrase) in tables.asked:
                continue  # "pagaría 60 mil al mes" states a budget; "¿cuánto pagaría?" asks
            elif name in strong:
                target = strong if weight >= tables.min_evidence else weak
                target[name] += weight
        if find_numbers(msg, language):
            strong["give_details"] += tables.number_weight
        # Weak words only add to an intent something else already points at.
        scores = {
            i: strong[i] + weak[i] if strong[i] >= tables.min_evidence else 0.0 for i in INTENTS
        }
        # A greeting wins only when the message says little else ("¿cómo están los precios?"
        # asks about prices).
        other = any(scores[i] >= tables.min_evidence for i in INTENTS if i != "greeting")
        if scores["greeting"] and (len(words) > 4 or other):
            scores["greeting"] /= 2
        # In a question the property or amount named is its subject, not a detail given.
        if question:
            scores["give_details"] *= tables.question_details_factor
        return scores

    def sentiment(self, msg: Message) -> float:
        """A lexicon score in [-1, 1]: positive words minus negative ones, with negation (a
        negator up to three words before, in the same clause, flips a word) and intensifiers
        (×1.5)."""
        tables = self._tables
        words = [w.text.replace("’", "'") for w in msg.words]
        clauses = _clauses(msg)
        total = 0.0
        for i, word in enumerate(words):
            value = tables.valence.get(word)
            if value is None:
                continue
            following = words[i + 1] if i + 1 < len(words) else ""
            if following in tables.greeting_tails:
                continue  # "good morning", "buenos días"
            if word in tables.intensifiers and following in tables.valence:
                continue  # "súper bien": an intensifier here, not a word of its own
            start = max(0, i - _NEGATION_WINDOW)
            if any(
                words[j] in tables.negators and clauses[j] == clauses[i] for j in range(start, i)
            ):
                value *= _NEGATED
            if i and words[i - 1] in tables.intensifiers:
                value *= _INTENSIFIED
            total += value
        return round(total / math.sqrt(total * total + _SQUASH), 3)


def _clauses(msg: Message) -> list[int]:
    """The clause number of each word: a comma, stop or other mark starts a new clause."""
    out: list[int] = []
    clause = 0
    for i, word in enumerate(msg.words):
        if i and _CLAUSE_BREAK.search(msg.text[msg.words[i - 1].end : word.start]):
            clause += 1
        out.append(clause)
    return out
