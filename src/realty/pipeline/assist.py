"""The assist stage: answer what a message asks besides the brief.

A prospect asks questions while the brief fills ("¿qué documentos necesito?", "how much would I
pay a month with 20% down over 10 years?"). The intent classifier says what the message wants;
a question about the process is answered from the guides (with their source, or an honest
"I don't know" that offers a broker), a cost question by the simulator (asking for what it
lacks). A question the phrase tables cannot place (``off_topic``: "can I leave before the
lease is up?") is still put to the guides, and answered only when they cover it. The answer
replaces the generic help line of the reply; the brief is untouched. Pure: everything it reads
was built once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from realty.domain.brief import Language
from realty.domain.space import estimate_for
from realty.domain.state import Answered, ConversationState
from realty.knowledge.base import KnowledgeBase
from realty.parsing.questions import asked_clauses
from realty.parsing.signals import named_fields
from realty.parsing.text import Message
from realty.pipeline.intent import IntentClassifier, TurnIntent
from realty.pipeline.simulation import MissingInputs, SimulationReader
from realty.pipeline.simulation_reply import SimulationReplier

# Below this confidence the intent is a guess: the reply stays as the brief's policy made it.
MIN_CONFIDENCE = 0.6
# A question beside the details this short that no intent claims is a courtesy.
ASIDE_MIN_WORDS = 4
# The space the people of the brief need, before the guide's own words.
_SPACE_FOR: Final[Mapping[Language, str]] = {
    "en": "For {n} people that is about {low}–{high} m² in an open plan, or {plow}–{phigh} m² "
    "with private offices and meeting rooms.",
    "es": "Para {n} personas son unos {low} a {high} m² en oficina abierta, o {plow} a {phigh} "
    "m² con privados y salas de juntas.",
}


class Assistant:
    """Turns a message's question into an :class:`Answered` action, when it has one."""

    def __init__(
        self,
        intents: IntentClassifier,
        knowledge: KnowledgeBase,
        reader: SimulationReader,
        replier: SimulationReplier,
    ) -> None:
        self._intents = intents
        self._knowledge = knowledge
        self._reader = reader
        self._replier = replier

    def intent(self, text: str, state: ConversationState) -> TurnIntent:
        """What ``text`` wants, in the conversation's language."""
        return self._intents.classify(text, state.language)

    def answer(
        self, text: str, state: ConversationState, intent: TurnIntent, *, filled: bool
    ) -> Answered | None:
        """The answer to ``text``'s question, or ``None`` when it asks nothing we answer.

        Args:
            text: The message.
            state: The conversation after the message (its language and brief).
            intent: The message's intent.
            filled: Whether the message also gave values for the brief: then an "I don't
                know" would only get in the way, and is left out.
        """
        language = state.language
        if intent.intent == "off_topic" and self._intents.is_question(Message.of(text)):
            found = self._knowledge.ask(text, language)
            return (
                Answered(topic="knowledge", text=found.with_sources()) if found.confident else None
            )
        if intent.confidence < MIN_CONFIDENCE:
            return None
        if intent.intent == "ask_question":
            if filled and asked_clauses(text) not in ([], [text.strip()]):
                # The details around it would mislead the guides ("I need an office in Mexico
                # City, what documents do I need?"): its questions alone first.
                aside = self.aside(text, state)
                if aside is not None:
                    return aside
            found = self._knowledge.ask(text, language)
            if not found.confident and filled:
                return None
            answer = found.with_sources()
            estimate = self._estimate(text, state)
            return Answered(topic="knowledge", text=f"{estimate} {answer}" if estimate else answer)
        if intent.intent == "simulate":
            return self.simulate(text, state)[0]
        return None

    def _estimate(self, text: str, state: ConversationState) -> str | None:
        """A question about the size, when the brief says how many people: the space they
        need, worked out ("For 20 people that is about 160–200 m² in an open plan…")."""
        if "size" not in named_fields(Message.of(text)):
            return None
        return self.space_for(state)

    def space_for(self, state: ConversationState) -> str | None:
        """The space the people of the brief need, in words; ``None`` when the brief does not
        say how many people, or its kind is not sized per person."""
        estimate = estimate_for(state.brief)
        if estimate is None:
            return None
        return _SPACE_FOR[state.language].format(
            n=estimate.people,
            low=f"{estimate.open_plan[0]:,}",
            high=f"{estimate.open_plan[1]:,}",
            plow=f"{estimate.private_offices[0]:,}",
            phigh=f"{estimate.private_offices[1]:,}",
        )

    def aside(self, text: str, state: ConversationState) -> Answered | None:
        """The answer to a question written alongside the brief's details ("Necesito una
        oficina de 200 m2 en Monterrey. ¿Cuánto es el depósito normalmente?").

        Only sentences marked as questions ("?", "¿") are read, each question of them on its
        own ("I need an office in Mexico City, what documents do I need?" puts only its
        second half to the guides): the guides answer when they cover it (no "I don't know"
        next to the details the message gave), the simulator when it asks a cost. A question
        of at most ``ASIDE_MIN_WORDS`` words that no intent claims ("¿Me podrías ayudar?",
        "can you help?") is a courtesy and is not put to the guides. ``None`` when no such
        question is answered.
        """
        for question in asked_clauses(text):
            intent = self._intents.classify(question, state.language)
            if intent.intent == "off_topic":
                if len(question.split()) <= ASIDE_MIN_WORDS:
                    continue  # "¿Me podrías ayudar?": a courtesy, no question for the guides
                intent = TurnIntent("ask_question", MIN_CONFIDENCE, intent.sentiment)
            if intent.intent in ("ask_question", "simulate"):
                answered = self.answer(question, state, intent, filled=True)
                if answered is not None:
                    return answered
        return None

    def asks_prices(self, text: str, state: ConversationState) -> bool:
        """Whether one of the questions written in ``text`` asks what property costs ("do you
        have warehouses in Monterrey, and what's the typical price per m2?"), for a message
        whose intent is another."""
        return any(
            (intent := self._intents.classify(clause, state.language)).intent == "market"
            and intent.confidence >= MIN_CONFIDENCE
            for clause in asked_clauses(text)
        )

    def simulate(self, text: str, state: ConversationState) -> tuple[Answered, bool]:
        """The simulation ``text`` asks for: its answer (the figures, or the questions for
        what is missing), and whether inputs are still missing."""
        outcome = self._reader.read(text, state.brief)
        text = self._replier.reply(outcome, state.language, first=True)
        answered = Answered(topic="simulation", text=text)
        return answered, isinstance(outcome, MissingInputs)

    def follow_up(
        self, asked: str, text: str, state: ConversationState
    ) -> tuple[Answered, str | None] | None:
        """``text`` read as the answer to a simulation that lacked inputs.

        Args:
            asked: The message(s) of the simulation that asked for them.
            text: The new message.
            state: The conversation (its language and brief).

        Returns:
            The simulation's answer when ``text`` gives at least one of the missing inputs
            (the figures, or the questions still open), with the messages to keep reading
            together while inputs are still missing (else ``None``); ``None`` when ``text``
            gives none of them: the prospect moved on.
        """
        together = f"{asked}\n{text}"
        before = self._reader.read(asked, state.brief)
        after = self._reader.read(together, state.brief)
        if not isinstance(before, MissingInputs):
            return None
        if isinstance(after, MissingInputs) and set(after.missing) >= set(before.missing):
            return None
        answered = Answered(topic="simulation", text=self._replier.reply(after, state.language))
        return answered, together if isinstance(after, MissingInputs) else None
