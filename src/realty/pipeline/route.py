"""The route stage: what a turn does beyond the brief, decided by the message's intent.

- ``ask_question`` and ``simulate`` are answered by the assist stage (the guides, the
  simulator), and so is an ``off_topic`` question when the guides cover it;
- ``talk_to_person`` and ``book_visit`` hand the conversation to a broker: the lead is marked
  ``handoff`` and the reply says who will get in touch and how;
- ``search`` shows the listings that fit so far (a preview while the brief fills), or says what
  a search still needs;
- ``market`` answers what property costs: the catalog's medians for the brief's kind and city,
  and its budget against them (figures the question names are the prospect's: "¿me alcanza
  con 60 mil al mes?" gives a budget);
- everything else (details, greetings, off-topic) follows the brief's policy alone.

An intent below :data:`MIN_CONFIDENCE` is a guess and routes nowhere. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from realty.domain.brief import Brief, Language, Money
from realty.domain.state import Handoff
from realty.domain.turn import Candidate, TurnUpdate
from realty.parsing.questions import asked_sentences
from realty.pipeline.intent import TurnIntent

# Below this confidence the intent is a guess: the turn follows the brief's policy alone.
MIN_CONFIDENCE: Final = 0.6

RouteKind = Literal["brief", "assist", "handoff", "search", "market"]

_HANDOFFS: Final[Mapping[str, Handoff]] = {"talk_to_person": "person", "book_visit": "visit"}
_ASSISTED: Final = frozenset({"ask_question", "simulate"})
# What a cost question supposes rather than states.
_SIMULATED: Final = frozenset({"budget", "price_per_m2"})
# What a process question names in passing ("…to rent a warehouse?").
_IN_PASSING: Final = frozenset({"property_type"})

Words = Mapping[Language, str]
_WORDS: Final[Mapping[str, Words]] = {
    "person": {
        "en": "Of course: I'm passing your conversation to one of our brokers, who will get "
        "in touch with you{how}.",
        "es": "Claro: le paso tu conversación a uno de nuestros asesores, que se pondrá en "
        "contacto contigo{how}.",
    },
    "visit": {
        "en": "Happy to arrange a visit: a broker will agree the day and time with you{how}.",
        "es": "Con gusto organizamos una visita: un asesor acordará contigo el día y la hora{how}.",
    },
    "how_channel": {"en": " on this number", "es": " a este número"},
    "how_left": {"en": " at {contact}", "es": " en {contact}"},
    "how_ask": {
        "en": "; leave a phone number or an email here so they can reach you",
        "es": "; déjame aquí un teléfono o un correo para que te localice",
    },
    "again": {
        "en": "A broker already has your conversation and will get in touch{how}.",
        "es": "Un asesor ya tiene tu conversación y se pondrá en contacto contigo{how}.",
    },
    "contact_person": {
        "en": "Thank you: the broker will get in touch with you at {contact}.",
        "es": "Gracias: el asesor se pondrá en contacto contigo en {contact}.",
    },
    "contact_visit": {
        "en": "Thank you: the broker will get in touch with you at {contact} to agree the day "
        "and time of the visit.",
        "es": "Gracias: el asesor se pondrá en contacto contigo en {contact} para acordar el día "
        "y la hora de la visita.",
    },
    "search_needs": {
        "en": "To show you listings I need at least the property type and the city.",
        "es": "Para mostrarte inmuebles necesito al menos el tipo de inmueble y la ciudad.",
    },
    "prices_need": {
        "en": "To tell you what prices are like I need the property type and the city.",
        "es": "Para decirte cómo están los precios necesito el tipo de inmueble y la ciudad.",
    },
    "budget_reference": {
        "en": "For reference, {prices} Tell me whenever you have a figure in mind.",
        "es": "Como referencia, {prices} Dime cuando tengas una cifra en mente.",
    },
}


def _in_passing(candidate: Candidate, brief: Brief) -> bool:
    """Whether a process question names ``candidate`` in passing: a kind the brief already
    holds ("…to rent a warehouse?"), or renting or buying alone ("¿qué documentos necesito
    para rentar?" says nothing of the budget)."""
    if candidate.key in _IN_PASSING:
        return brief.get(candidate.key) is not None
    money = candidate.value
    if not isinstance(money, Money) or money.modality is None:
        return False
    return (money.amount, money.currency, money.period, money.min, money.max) == (None,) * 5


@dataclass(frozen=True, slots=True)
class Route:
    """Where a turn goes.

    Attributes:
        kind: ``brief`` (the policy alone), ``assist`` (answer the question), ``handoff``
            (to a broker), ``search`` (show listings) or ``market`` (say what property
            costs).
        handoff: What the prospect asked for, on a handoff.
    """

    kind: RouteKind
    handoff: Handoff | None = None


class Router:
    """Maps a message's intent to a :class:`Route`, and words the handoff."""

    def __init__(self, min_confidence: float = MIN_CONFIDENCE) -> None:
        self._min = min_confidence

    def route(self, intent: TurnIntent | None) -> Route:
        """The route of a message with ``intent`` (``None``: no classifier)."""
        if intent is None:
            return Route("brief")
        if intent.intent == "off_topic":
            return Route("assist")  # a question no table places may still be in the guides
        if intent.confidence < self._min:
            return Route("brief")
        if intent.intent in _ASSISTED:
            return Route("assist")
        if intent.intent in _HANDOFFS:
            return Route("handoff", _HANDOFFS[intent.intent])
        if intent.intent in ("search", "market"):
            return Route(intent.intent)
        return Route("brief")

    def hypothetical(self, update: TurnUpdate, brief: Brief, intent: TurnIntent) -> TurnUpdate:
        """``update`` without what a question only supposes.

        A cost question ("how much a month with 20% down on 5 million?") names amounts to
        simulate, not the prospect's budget; a question about the process ("what papers do
        they ask to rent a warehouse?") names in passing a kind, which must not replace the
        kind the brief already holds, or renting or buying alone, which says nothing of the
        budget. Anything else a question says stands ("can we look in Monterrey instead?"
        moves the search), and so does what the message states outside its sentences marked
        as questions ("500 m2, 20k USD a month. How much would I pay to move in?" gives a
        budget). Returns ``update`` itself when nothing is dropped.
        """
        if intent.intent not in ("simulate", "ask_question"):
            return update
        sentences = asked_sentences(update.text)

        def asked(c: Candidate) -> bool:
            return not sentences or any(a <= c.span[0] and c.span[1] <= b for a, b in sentences)

        if intent.intent == "simulate":
            kept = tuple(c for c in update.accepted if c.key not in _SIMULATED or not asked(c))
        else:
            kept = tuple(c for c in update.accepted if not (_in_passing(c, brief) and asked(c)))
        if len(kept) == len(update.accepted):
            return update
        return update.model_copy(update={"accepted": kept})

    def handoff_text(
        self,
        handoff: Handoff,
        language: Language,
        *,
        contact_known: bool,
        again: bool,
        contact: str | None = None,
    ) -> str:
        """The reply to a handoff.

        Args:
            handoff: A broker (``person``) or a visit (``visit``).
            language: The conversation's language.
            contact_known: The channel already identifies the prospect (a WhatsApp number);
                otherwise the reply asks how to reach them.
            again: The conversation was handed off before.
            contact: A phone number or an email the prospect left (in this message or
                before): the reply says the broker will use it instead of asking.
        """
        if contact_known:
            how = _WORDS["how_channel"][language]
        elif contact is not None:
            how = _WORDS["how_left"][language].format(contact=contact)
        else:
            how = _WORDS["how_ask"][language]
        key = "again" if again and handoff == "person" else handoff
        return _WORDS[key][language].format(how=how)

    def contact_taken(self, handoff: Handoff, language: Language, contact: str) -> str:
        """The reply to the contact a handoff asked for, once the prospect leaves it."""
        return _WORDS[f"contact_{handoff}"][language].format(contact=contact)

    def search_needs(self, language: Language) -> str:
        """What a search still needs, when the brief lacks the type or the city."""
        return _WORDS["search_needs"][language]

    def prices_need(self, language: Language) -> str:
        """What a question about prices needs, when the brief lacks the type or the city."""
        return _WORDS["prices_need"][language]

    def budget_reference(self, prices: str, language: Language) -> str:
        """What the market asks, offered to a prospect who has no budget yet."""
        return _WORDS["budget_reference"][language].format(prices=prices[:1].lower() + prices[1:])
