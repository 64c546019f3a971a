"""The deterministic parser stage: runs every finder over a message and merges their output.

Finders each own one kind of fact (signals, places, property types, volunteered facts,
quantities). The merge resolves overlaps (a span belongs to the most specific reading),
decides whether the message was gibberish or off-topic, and measures how much of the text
was explained, which tells the LLM stage whether it is needed at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from realty.domain.brief import Scalar
from realty.domain.fields import FieldRegistry
from realty.domain.turn import Candidate, Extraction, ParseContext, Signal
from realty.parsing.contact import Contact, ContactFinder
from realty.parsing.facts import FactFinder
from realty.parsing.kinds import TypeFinder
from realty.parsing.lexicon import Lexicon
from realty.parsing.places import CityFinder, Gazetteer
from realty.parsing.quantities import ASKED_CONFIDENCE, QuantityFinder
from realty.parsing.signals import LanguageDetector, SignalFinder, is_filler
from realty.parsing.text import Message

Span = tuple[int, int]

# Below this confidence a candidate is a guess (an unknown type, a bare number) and yields to
# any overlapping, more certain reading of the same words.
_GUESS = 0.7


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _inside(a: Span, b: Span) -> bool:
    return b[0] <= a[0] and a[1] <= b[1] and a != b


def _drop_overlapping_guesses(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Remove low-confidence candidates whose words another candidate already explains, and
    readings of the same key nested inside a longer one ("docks" within "loading docks")."""
    candidates = [
        c
        for c in candidates
        if not any(o.key == c.key and o.op == c.op and _inside(c.span, o.span) for o in candidates)
    ]
    sure = [c for c in candidates if c.confidence >= _GUESS]
    kept = list(sure)
    for cand in candidates:
        if cand.confidence < _GUESS and not any(_overlaps(cand.span, s.span) for s in sure):
            kept.append(cand)
    return sorted(kept, key=lambda c: (c.span[0], c.span[1]))


def _contact(contact: Contact) -> Candidate:
    """A phone number or an email as a candidate for its field (``phone``, ``email``)."""
    return Candidate(
        key=contact.kind, value=Scalar(kind="text", value=contact.value), span=contact.span
    )


def _coverage(msg: Message, spans: Iterable[Span]) -> float:
    """Fraction of word characters that are explained (inside a span, or filler words)."""
    spans = sorted(spans)
    total = explained = 0
    for word in msg.words:
        size = word.end - word.start
        total += size
        if is_filler(word.text) or any(s[0] <= word.start and word.end <= s[1] for s in spans):
            explained += size
    return 1.0 if total == 0 else round(explained / total, 3)


@dataclass(frozen=True, slots=True)
class Parser:
    """Parses one message into an :class:`Extraction`. Build once per process with ``build``."""

    signals: SignalFinder
    cities: CityFinder
    types: TypeFinder
    facts: FactFinder
    quantities: QuantityFinder
    contacts: ContactFinder = field(default_factory=ContactFinder)

    @classmethod
    def build(
        cls,
        registry: FieldRegistry | None = None,
        lex: Lexicon | None = None,
        *,
        country: str = "MX",
    ) -> Parser:
        """Load the gazetteer and language model and assemble the finders (about a second).

        ``registry``: fields defined in data with their ``words`` are read too. ``lex``: the
        vocabulary of money, areas, counts and kinds (default: the packaged one). ``country``:
        the market's country, whose large cities win name clashes ("Springfield").
        """
        return cls(
            signals=SignalFinder(LanguageDetector()),
            cities=CityFinder(Gazetteer.load(country)),
            types=TypeFinder(lex),
            facts=FactFinder(registry.phrases() if registry is not None else None),
            quantities=QuantityFinder(lex),
            contacts=ContactFinder(country),
        )

    @property
    def country(self) -> str:
        """The market's country this parser's gazetteer favours."""
        return self.cities.gazetteer.home_country

    def parse(self, text: str, ctx: ParseContext) -> Extraction:
        """Everything ``text`` says, in the context of the conversation so far.

        A phone number or an email is read first and taken out of the text the other finders
        see, so its digits are never a budget or a size.
        """
        contacts = self.contacts.find(text)
        msg = Message.of(ContactFinder.blank(text, contacts) if contacts else text)
        found = self.signals.find(msg, ctx)
        cities, unknown = self.cities.find(msg, ctx)
        # "San Cristóbal de las Casas" names a city, not houses.
        kinds = [
            k
            for k in self.types.find(msg, ctx)
            if not any(_inside(k.span, c.span) or k.span == c.span for c in cities)
        ]
        facts = self.facts.find(msg, ctx)
        claimed = [c.span for c in (*cities, *facts)] + [u.span for u in unknown]
        quantities = self.quantities.find(msg, ctx, claimed)
        candidates = _replaced(_drop_overlapping_guesses([*cities, *kinds, *facts, *quantities]))
        if contacts:
            candidates = sorted(
                [*candidates, *(_contact(c) for c in contacts)], key=lambda c: c.span
            )
        signals: set[Signal] = set(found.signals)
        if "dont_know" in signals and any(c.confidence == ASKED_CONFIDENCE for c in quantities):
            # "no sé, unos 300": a hedge on the figure given, which answers what was asked.
            signals.discard("dont_know")
        if "gibberish" in signals:  # a keyboard mash is not an unknown city
            unknown = []
        unknown = [u for u in unknown if not any(_overlaps(u.span, c.span) for c in candidates)]
        if candidates or unknown or found.choice is not None:
            signals -= {"gibberish", "off_topic"}
        spans = [c.span for c in candidates] + [u.span for u in unknown] + list(found.spans)
        return Extraction(
            candidates=tuple(candidates),
            signals=frozenset(signals),
            language=found.language,
            language_confidence=found.language_confidence,
            unknown_cities=tuple(unknown),
            unknown_about=found.unknown_about,
            to_change=found.to_change,
            coverage=_coverage(msg, spans),
            choice=found.choice,
        )


def _replaced(candidates: list[Candidate]) -> list[Candidate]:
    """Without a withdrawal that the same message follows with a new value for that field:
    "olvida el presupuesto anterior, son 10 mil" and "remove parking and my budget is 18k"
    replace the budget (a correction, which keeps what the new words leave unsaid, such as
    "a month"); they do not withdraw it."""
    return [
        c
        for c in candidates
        if not (
            c.op == "remove"
            and any(
                o.key == c.key and o.op != "remove" and o.span[1] > c.span[0] for o in candidates
            )
        )
    ]
