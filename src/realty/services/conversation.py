"""The one orchestrator: load → guard → parse → LLM extract → validate → advance → respond → save.

The LLM stage runs only when the parser could not explain the message (or on every turn in
``every_turn`` mode); it can only add grounded values and never fails a turn.

Channels (terminal, batch replay, and later HTTP, WebSocket and WhatsApp) only translate their
input and call :meth:`ConversationService.handle_turn`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from realty.domain.brief import Brief, Language
from realty.domain.fields import FieldRegistry
from realty.domain.machine import advance
from realty.domain.state import AskFields, Blocked, ConversationState, Greet, Transition
from realty.domain.turn import Candidate, ParseContext, TurnUpdate
from realty.pipeline.guard import Guard, GuardVerdict
from realty.pipeline.llm_extract import LLMExtractor
from realty.pipeline.parse import Parser
from realty.pipeline.respond import Responder
from realty.pipeline.validate import Validator
from realty.store.base import ConversationStore, TurnRecord


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What one user turn produced, in the shape every channel reports."""

    conversation_id: str
    turn: int
    reply: str
    brief: dict[str, Any]
    blocked: bool
    actions: tuple[str, ...]
    llm_calls: int = 0
    latency_ms: float = 0.0
    state: ConversationState = field(default_factory=ConversationState, repr=False)
    # What this message was understood to say (accepted candidates, with their source).
    extracted: tuple[Candidate, ...] = ()


class UnknownConversationError(LookupError):
    """No conversation with that id (or it expired)."""


class ConversationService:
    """Runs the turn pipeline against a conversation store."""

    def __init__(
        self,
        *,
        registry: FieldRegistry,
        guard: Guard,
        parser: Parser,
        responder: Responder,
        store: ConversationStore,
        extractor: LLMExtractor | None = None,
        home_country: str = "MX",
        default_language: Language = "en",
        today: Callable[[], date] = date.today,
    ) -> None:
        self._registry = registry
        self._guard = guard
        self._parser = parser
        self._validator = Validator(registry)
        self._responder = responder
        self._store = store
        self._extractor = extractor
        self._home_country = home_country
        self._default_language = default_language
        self._today = today

    @property
    def registry(self) -> FieldRegistry:
        """The field registry this service collects."""
        return self._registry

    def brief_json(self, brief: Brief) -> dict[str, Any]:
        """The canonical JSON of ``brief`` under this deployment's required fields."""
        return brief.to_json(self._registry.required)

    async def start(
        self, language: Language | None = None, conversation_id: str | None = None
    ) -> TurnResult:
        """Open a conversation and return the greeting (turn 0)."""
        cid = conversation_id or uuid.uuid4().hex
        lang = language or self._default_language
        state = ConversationState(
            language=lang, language_locked=language is not None, brief=Brief(language=lang)
        )
        state = state.model_copy(update={"asked": self._registry.required})
        transition = Transition(state=state, actions=(Greet(), AskFields(keys=state.asked)))
        reply = self._responder.render(transition)
        await self._store.save(cid, state, None)
        return self._result(cid, transition, reply, blocked=False, started=time.perf_counter())

    async def handle_turn(self, conversation_id: str, text: str) -> TurnResult:
        """Process one user message and persist the outcome."""
        started = time.perf_counter()
        state = await self._store.load(conversation_id)
        if state is None:
            raise UnknownConversationError(conversation_id)
        verdict = self._guard.check(text)
        if not verdict.allowed:
            return await self._blocked(conversation_id, state, verdict, started)
        update, llm_calls = await self._understand(state, verdict.text)
        transition = advance(state, update, self._registry)
        reply = self._responder.render(transition)
        result = self._result(conversation_id, transition, reply, blocked=False, started=started)
        result = replace(result, extracted=update.accepted, llm_calls=llm_calls)
        await self._store.save(conversation_id, transition.state, self._record(update, result))
        return result

    async def _understand(self, state: ConversationState, text: str) -> tuple[TurnUpdate, int]:
        """Parse, ask the LLM when the parser could not explain the text, then validate."""
        today = self._today().isoformat()
        options: tuple[str, ...] = ()
        if state.pending is not None and state.pending.kind in ("city", "currency"):
            options = state.pending.options
        ctx = ParseContext(
            language=state.language if state.language_locked else None,
            asked=state.asked,
            options=options,
            today=today,
            home_country=self._home_country,
        )
        extraction = self._parser.parse(text, ctx)
        calls = 0
        if self._extractor is not None and self._extractor.needs_llm(text, extraction):
            outcome = await self._extractor.extract(text, extraction, state)
            extraction, calls = outcome.extraction, outcome.calls
        return self._validator.validate(extraction, text, today), calls

    async def _blocked(
        self, cid: str, state: ConversationState, verdict: GuardVerdict, started: float
    ) -> TurnResult:
        assert verdict.reason is not None
        action = Blocked(reason=verdict.reason, limit=verdict.limit, length=verdict.length)
        transition = Transition(state=state, actions=(action,))
        reply = self._responder.render(transition)
        result = self._result(cid, transition, reply, blocked=True, started=started)
        record = TurnRecord(
            turn=state.turn,
            text=verdict.text,
            blocked=True,
            block_reason=verdict.reason,
            actions=list(result.actions),
            reply=reply,
            latency_ms=result.latency_ms,
        )
        await self._store.save(cid, state, record)
        return result

    def _result(
        self, cid: str, transition: Transition, reply: str, *, blocked: bool, started: float
    ) -> TurnResult:
        return TurnResult(
            conversation_id=cid,
            turn=transition.state.turn,
            reply=reply,
            brief=self.brief_json(transition.state.brief),
            blocked=blocked,
            actions=tuple(a.kind for a in transition.actions),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            state=transition.state,
        )

    @staticmethod
    def _record(update: TurnUpdate, result: TurnResult) -> TurnRecord:
        return TurnRecord(
            turn=result.turn,
            text=update.text,
            blocked=False,
            candidates=[c.model_dump(mode="json") for c in update.accepted],
            accepted=[c.key for c in update.accepted],
            rejected=[r.model_dump(mode="json") for r in update.rejected],
            actions=list(result.actions),
            reply=result.reply,
            llm_calls=result.llm_calls,
            latency_ms=result.latency_ms,
        )
