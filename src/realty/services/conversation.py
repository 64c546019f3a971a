"""The one orchestrator: load → guard → parse → LLM extract → validate → advance → respond → save.

The LLM stage runs only when the parser could not explain the message (or on every turn in
``every_turn`` mode); it can only add grounded values and never fails a turn. The reply waits
for the model at most ``reply_deadline_s``: past it, the reply is built from the parser's
reading, and the model's answer, when it arrives, is applied as a ``refine`` entry of the log
(only what the brief lacks, or a guess of that same turn) and published like any turn.

Channels (terminal, batch replay, HTTP, WebSocket and WhatsApp) only translate their input and
call :meth:`ConversationService.handle_turn`. The service keeps no conversation in memory: each
turn loads the stored snapshot, and the new one is saved only if nobody saved another in the
meantime (a version check); otherwise the turn runs again on the newer state. Concurrent
messages to one conversation are therefore all applied, one after the other, whichever
processes receive them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import random
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from opentelemetry.trace import Tracer
from pydantic import ValidationError

from realty import logs
from realty.domain.brief import CONTACT_KEYS, CORE_FIELDS, Brief, Language, Scalar
from realty.domain.fields import FieldRegistry
from realty.domain.machine import (
    BUDGET,
    DEFAULT_MARKET,
    LOCK_CONFIDENCE,
    SIZE,
    advance,
    answer,
    refine,
    refuse,
)
from realty.domain.market import Market
from realty.domain.state import (
    Acknowledge,
    Answered,
    AskFields,
    BriefCompleted,
    Confirmed,
    ConversationState,
    Greet,
    Handoff,
    NotedUnknown,
    Transition,
)
from realty.domain.storable import storable, storable_data
from realty.domain.turn import Candidate, Extraction, ParseContext, TurnUpdate
from realty.errors import RealtyError
from realty.parsing.text import Message
from realty.pipeline.assist import Assistant
from realty.pipeline.bounds import BriefBounds
from realty.pipeline.describe import BriefDisplay, Describer
from realty.pipeline.edit import BriefEditor, BriefPatch
from realty.pipeline.guard import Guard, GuardVerdict
from realty.pipeline.intent import TurnIntent
from realty.pipeline.llm_extract import LLMExtractor, LLMOutcome
from realty.pipeline.parse import Parser
from realty.pipeline.pick import (
    ListingPicker,
    Pick,
    named_position,
    wants_cheaper,
    wants_larger,
    wants_more,
)
from realty.pipeline.respond import Responder
from realty.pipeline.route import Route, Router
from realty.pipeline.validate import Validator
from realty.services.events import EventBus, NullEventBus
from realty.services.matching import BriefNotMatchableError, MatchResult, MatchService
from realty.services.slots import CallSlots
from realty.services.tracing import Stages
from realty.store.base import (
    CONTACT_MAX_CHARS,
    Channel,
    ConversationStore,
    DuplicateChannelKeyError,
    DuplicateMessageError,
    IdempotencyRecord,
    LeadChange,
    LeadStatus,
    StoredConversation,
    TurnKind,
    TurnRecord,
    VersionConflictError,
    utcnow,
)

logger = logging.getLogger("realty.service")

# Version conflicts are retried this often before the caller is told to come back later;
# with the in-process lock only writers in other processes can cause them.
MAX_ATTEMPTS = 25
_BACKOFF_S = 0.005
_BACKOFF_CAP_S = 0.2
# Listings a chat list shows (the numbered list a reply of "2" picks from).
LISTED = 3
# How far down the ranking "show me more" pages (a broker takes it from there).
PAGED = 30


@dataclass(frozen=True, slots=True)
class Bearer:
    """Access by the conversation's bearer token (HTTP API, WebSocket)."""

    token: str


@dataclass(frozen=True, slots=True)
class ChannelIdentity:
    """Access by the prospect's identity on a channel whose requests are authenticated
    themselves (a WhatsApp number in a Twilio-signed webhook)."""

    channel: Channel
    key: str


Access = Bearer | ChannelIdentity


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
    llm_ms: float = 0.0
    latency_ms: float = 0.0
    seq: int = 1
    client_message_id: str | None = None
    # True when the result was read back from the log (a repeated client_message_id).
    replayed: bool = False
    # The bearer token: only on the result of :meth:`ConversationService.start`.
    token: str | None = field(default=None, repr=False)
    expires_at: dt.datetime | None = None
    # The fields the reply asks for (empty on a replayed result).
    asked: tuple[str, ...] = ()
    state: ConversationState | None = field(default=None, repr=False)
    # What this message was understood to say (accepted candidates, with their source).
    extracted: tuple[Candidate, ...] = ()
    # The brief in words, for screens (sidebar, widget); None only on a bare test result.
    display: BriefDisplay | None = None
    # What the entry was (a message, a form edit, a confirmation) and the text it logged.
    kind: TurnKind = "message"
    text: str = ""
    # The model is still reading this message: a ``refine`` entry may follow.
    refining: bool = False
    # What the message wanted and how it felt (user messages that were read).
    intent: TurnIntent | None = None
    # The listings that fit the brief after this entry, when it has a type and a city and
    # the entry changed the brief, confirmed it, or asked for listings.
    matches: MatchResult | None = None
    # The guard's category when it refused the message (``blocked``).
    block_reason: str | None = None
    # What the prospect asked a person for in this entry (a broker or a visit).
    handoff: Handoff | None = None

    @property
    def access(self) -> Bearer:
        """Bearer access with this result's token (results of ``start`` only)."""
        if self.token is None:
            raise ValueError("only the result of start() carries the conversation's token")
        return Bearer(self.token)


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation as its owner may see it."""

    id: str
    channel: Channel
    language: Language
    brief: dict[str, Any]
    turns: int
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    history: tuple[TurnRecord, ...]
    display: BriefDisplay


class UnknownConversationError(RealtyError, LookupError):
    """No conversation with that id for these credentials (or it expired)."""


class ConversationBusyError(RealtyError):
    """Too many concurrent writers kept winning; the message was not processed."""


class BriefIncompleteError(RealtyError):
    """A confirmation arrived while required fields are still missing; nothing was changed.

    Attributes:
        missing: The required fields still missing.
    """

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the brief is not complete yet; missing: {', '.join(missing)}")
        self.missing = missing


class EditRejectedError(RealtyError):
    """A direct brief edit failed validation; nothing was changed.

    Attributes:
        problems: ``(field, message)`` for every value that was refused.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))
        self.problems = problems


def new_token() -> str:
    """A new bearer token (256 random bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


class _KeyedLocks:
    """One asyncio lock per conversation id, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A model reading that outlived the reply deadline."""

    task: asyncio.Task[LLMOutcome]
    extraction: Extraction  # the parser's reading, which the reply used
    text: str
    today: str
    turn: int
    started: float


@dataclass(frozen=True, slots=True)
class Refinement:
    """What a late model reading did (for ``realty replay`` and the evaluations).

    Attributes:
        conversation_id: The conversation.
        turn: The user turn whose message the model read.
        refined_ms: From the start of the model call to the end of the refinement.
        llm_calls: Model calls it took.
        applied: The keys it added or replaced (empty: nothing new, or a later turn won).
        seq: The ``refine`` entry's sequence number, when one was written.
        extracted: The model's values behind ``applied``.
        reply: The ``refine`` entry's reply ("Also noted: …"), when one was written.
    """

    conversation_id: str
    turn: int
    refined_ms: float
    llm_calls: int
    applied: tuple[str, ...]
    seq: int | None = None
    extracted: tuple[Candidate, ...] = ()
    reply: str | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    transition: Transition
    reply: str
    record: TurnRecord
    result: TurnResult
    pending: _Pending | None = None


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
        events: EventBus | None = None,
        market: Market = DEFAULT_MARKET,
        default_language: Language = "en",
        ttl: dt.timedelta = dt.timedelta(days=7),
        today: Callable[[], date] = date.today,
        now: Callable[[], dt.datetime] = utcnow,
        reply_deadline_s: float | None = None,
        llm_max_concurrency: int = 2,
        bounds: BriefBounds | None = None,
        assistant: Assistant | None = None,
        matcher: MatchService | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        """Wire the stages.

        ``reply_deadline_s`` bounds how long a reply waits for the model (``None``: as long as
        the model takes, up to the extractor's own timeout); a later answer refines the brief.
        ``tracer`` records a span per stage of a turn (:mod:`realty.services.tracing`).
        """
        self._stage = Stages(tracer)
        self._registry = registry
        self._assistant = assistant
        self._matcher = matcher
        self._router = Router()
        self._picker = ListingPicker()
        self._guard = guard
        self._parser = parser
        self._validator = Validator(registry)
        self._editor = BriefEditor(registry, parser)
        self._describer = Describer(registry)
        self._responder = responder
        self._store = store
        self._extractor = extractor
        self._events: EventBus = events or NullEventBus()
        self._market = market
        self._default_language = default_language
        self._ttl = ttl
        self._today = today
        self._now = now
        self._locks = _KeyedLocks()
        self._deadline_s = reply_deadline_s
        self.llm_slots = CallSlots(llm_max_concurrency)
        self._bounds = bounds or BriefBounds(registry, max_extras=50, max_bytes=32_768)
        self._refining: set[asyncio.Task[Refinement]] = set()
        self._refined: list[Refinement] = []
        self.version_conflicts = 0  # lost version checks, retried (writers in other processes)

    @property
    def registry(self) -> FieldRegistry:
        """The field registry this service collects."""
        return self._registry

    @property
    def store(self) -> ConversationStore:
        """The store conversations live in."""
        return self._store

    @property
    def events(self) -> EventBus:
        """Where turn events are published."""
        return self._events

    def now(self) -> dt.datetime:
        """The service's clock (UTC)."""
        return self._now()

    def brief_json(self, brief: Brief) -> dict[str, Any]:
        """The canonical JSON of ``brief`` under this deployment's required fields."""
        return brief.to_json(self._registry.required)

    def display(self, brief: Brief | dict[str, Any]) -> BriefDisplay:
        """A brief (or its canonical JSON, as stored with every entry) in words."""
        if isinstance(brief, Brief):
            return self._describer.describe(brief)
        return self._describer.describe_json(brief)

    async def settle(self) -> list[Refinement]:
        """Wait for every model reading still running; what they did since the last call."""
        while self._refining:
            await asyncio.gather(*self._refining, return_exceptions=True)
        done, self._refined = self._refined, []
        return done

    async def settled(
        self, result: TurnResult, access: Access
    ) -> tuple[dict[str, Any], list[Refinement]]:
        """The brief once every running model reading is done, and what those readings did.

        Batch replays and evaluations score the brief a prospect ends up with; the reply they
        time is the one sent at the deadline.
        """
        refinements = await self.settle()
        if not any(r.applied for r in refinements):
            return result.brief, refinements
        view = await self.view(result.conversation_id, access=access, limit=1)
        return view.brief, refinements

    async def aclose(self) -> None:
        """Stop the model readings still running (process shutdown); their turns stand."""
        for task in list(self._refining):
            task.cancel()
        await asyncio.gather(*self._refining, return_exceptions=True)

    def replayed(self, conversation_id: str, record: TurnRecord) -> TurnResult:
        """The result a stored log entry records, with its brief in words."""
        return replace(result_of(conversation_id, record), display=self.display(record.brief))

    # ---- opening, reading and erasing ----

    async def start(
        self,
        language: Language | None = None,
        conversation_id: str | None = None,
        *,
        channel: Channel = "api",
        channel_key: str | None = None,
        token: str | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> TurnResult:
        """Open a conversation and return the greeting (entry 1) with the bearer token.

        ``token`` is the bearer token to give it (default: a new random one); ``idempotency``
        is stored with it, atomically (:mod:`realty.services.opening`).

        Raises:
            DuplicateChannelKeyError: a live conversation already has ``channel_key``.
            DuplicateIdempotencyKeyError: ``idempotency``'s key opened another conversation.
        """
        started = time.perf_counter()
        cid = conversation_id or uuid.uuid4().hex
        logs.bind(conversation_id=cid)
        lang = language or self._default_language
        state = ConversationState(
            language=lang,
            language_locked=language is not None,
            brief=Brief(language=lang),
            asked=self._registry.required,
        )
        transition = Transition(state=state, actions=(Greet(), AskFields(keys=state.asked)))
        reply = self._responder.render(transition)
        token = token or new_token()
        now = self._now()
        result = replace(
            self._result(cid, transition, reply, blocked=False, started=started, seq=1),
            token=token,
            expires_at=now + self._ttl,
            kind="start",
        )
        conversation = StoredConversation(
            id=cid,
            state=state,
            version=1,
            token_hash=hash_token(token),
            channel=channel,
            channel_key=channel_key,
            created_at=now,
            updated_at=now,
            expires_at=now + self._ttl,
        )
        greeting = self._record(result, kind="start", text="", update=None, created_at=now)
        await self._store.create(conversation, greeting, idempotency)
        return result

    async def open_channel(self, channel: Channel, key: str) -> tuple[str, bool]:
        """The id of the prospect's live conversation on ``channel``, started if needed.

        Returns:
            The conversation id and whether it was started now.
        """
        key = storable(key)
        found = await self._store.find_by_channel(channel, key, self._now())
        if found is not None:
            return found.id, False
        try:
            return (await self.start(channel=channel, channel_key=key)).conversation_id, True
        except DuplicateChannelKeyError:
            # Two first messages raced; the other one created it.
            again = await self._store.find_by_channel(channel, key, self._now())
            if again is None:
                raise
            return again.id, False

    async def view(
        self, conversation_id: str, *, access: Access, after: int = 0, limit: int = 1000
    ) -> ConversationView:
        """The brief and the history (entries after ``after``) of a conversation."""
        stored = await self._authorized(conversation_id, access)
        history = await self._store.history(conversation_id, after=after, limit=limit)
        return ConversationView(
            id=stored.id,
            channel=stored.channel,
            language=stored.state.language,
            brief=self.brief_json(stored.state.brief),
            turns=stored.state.turn,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
            expires_at=stored.expires_at,
            history=tuple(history),
            display=self.display(stored.state.brief),
        )

    async def authorize(self, conversation_id: str, access: Access) -> StoredConversation:
        """The conversation when ``access`` may reach it.

        Raises:
            UnknownConversationError: unknown, expired, or not reachable with ``access``.
        """
        return await self._authorized(conversation_id, access)

    async def erase(self, conversation_id: str, *, access: Access) -> None:
        """Delete the conversation, its history and its lead."""
        await self._authorized(conversation_id, access)
        if not await self._store.delete(conversation_id):
            raise UnknownConversationError(conversation_id)
        await self._events.publish(conversation_id, {"type": "erased", "reason": "deleted"})

    async def purge(self) -> int:
        """Erase every conversation idle past its expiry (their open sockets are told and
        closed); returns how many."""
        purged = await self._store.purge_expired(self._now())
        for conversation_id in purged:
            await self._events.publish(conversation_id, {"type": "erased", "reason": "expired"})
        return len(purged)

    # ---- turns ----

    async def handle_turn(
        self,
        conversation_id: str,
        text: str,
        *,
        access: Access,
        client_message_id: str | None = None,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> TurnResult:
        """Process one user message and persist the outcome.

        A ``client_message_id`` seen before returns the stored result and processes nothing.
        ``admit`` runs once a message is known to be new, before any work (a channel's rate
        limit: a repeated message is answered from the log without counting against it); an
        exception it raises refuses the message.

        Raises:
            UnknownConversationError: no such conversation for ``access``.
            ConversationBusyError: other writers kept winning the version check.
            StorageError: the store failed.
        """

        text = storable(text)

        async def run(stored: StoredConversation, started: float) -> _Outcome:
            return await self._message(stored, text, client_message_id, started)

        return await self._write(conversation_id, access, client_message_id, run, admit)

    async def edit_brief(
        self,
        conversation_id: str,
        patch: BriefPatch,
        *,
        access: Access,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> TurnResult:
        """Apply direct edits (from a form), validated like chat input.

        Raises:
            EditRejectedError: a value was refused; nothing was changed.
            UnknownConversationError: no such conversation for ``access``.
        """

        try:
            patch = BriefPatch.model_validate(storable_data(patch.model_dump(exclude_unset=True)))
        except ValidationError as exc:
            # Cleaning only drops NULs, so a value it invalidates was made of them: empty.
            raise EditRejectedError(_emptied(exc)) from exc

        async def run(stored: StoredConversation, started: float) -> _Outcome:
            return await self._edit(stored, patch, started)

        return await self._write(conversation_id, access, None, run, admit)

    async def confirm(
        self,
        conversation_id: str,
        *,
        access: Access,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> TurnResult:
        """The prospect approves the complete brief (a form's "Confirm" button).

        Works like answering "yes" to the summary: assumed values become confirmed and the
        lead is marked ``confirmed``. Logged as an entry of kind ``confirm``.

        Raises:
            BriefIncompleteError: required fields are still missing; nothing was changed.
            UnknownConversationError: no such conversation for ``access``.
        """

        async def run(stored: StoredConversation, started: float) -> _Outcome:
            return await self._confirm(stored, started)

        return await self._write(conversation_id, access, None, run, admit)

    async def _write(
        self,
        cid: str,
        access: Access,
        client_message_id: str | None,
        run: Callable[[StoredConversation, float], Awaitable[_Outcome]],
        admit: Callable[[], Awaitable[None]] | None,
    ) -> TurnResult:
        started = time.perf_counter()
        logs.bind(conversation_id=cid)
        async with self._locks.hold(cid):
            for attempt in range(MAX_ATTEMPTS):
                with self._stage("load") as span:
                    span.set_attribute("realty.conversation.id", cid)
                    stored = await self._authorized(cid, access)
                    span.set_attribute("realty.channel", stored.channel)
                if client_message_id is not None:
                    found = await self._store.find_turn(cid, client_message_id)
                    if found is not None:
                        return self.replayed(cid, found)
                if attempt == 0:
                    if admit is not None:
                        await admit()
                    await self._events.publish(cid, {"type": "typing"})
                outcome = await run(stored, started)
                try:
                    with self._stage("commit") as span:
                        span.set_attribute("realty.turn", outcome.result.turn)
                        await self._commit(cid, stored, outcome)
                except VersionConflictError:
                    _drop(outcome.pending)
                    await self._conflicted(attempt)
                    continue
                except DuplicateMessageError:
                    _drop(outcome.pending)
                    found = await self._store.find_turn(cid, client_message_id or "")
                    if found is None:
                        raise
                    return self.replayed(cid, found)
                except BaseException:
                    _drop(outcome.pending)
                    raise
                result = replace(outcome.result, kind=outcome.record.kind, text=outcome.record.text)
                await self._publish(cid, result)
                if outcome.pending is not None:
                    self._spawn(cid, outcome.pending)
                return result
        logger.warning("conversation %s: gave up after %d version conflicts", cid, MAX_ATTEMPTS)
        raise ConversationBusyError(cid)

    async def _commit(self, cid: str, stored: StoredConversation, outcome: _Outcome) -> None:
        """Store ``outcome`` on top of ``stored``; VersionConflictError when another write won."""
        await self._store.commit(
            cid,
            stored.version,
            outcome.transition.state,
            outcome.record,
            expires_at=outcome.record.created_at + self._ttl,
            lead=self._lead(stored, outcome),
        )

    async def _conflicted(self, attempt: int) -> None:
        """Count a lost race and back off before the next attempt."""
        self.version_conflicts += 1
        await asyncio.sleep(_backoff(attempt))

    async def _message(
        self, stored: StoredConversation, text: str, client_message_id: str | None, started: float
    ) -> _Outcome:
        state = stored.state
        if state.shown and self._matcher is not None:
            # A choice from the list is made of a number and pointing words only, so it
            # needs no guard (whose classifier may misread a message that short).
            pick = self._picker.pick(text, len(state.shown))
            if pick is not None:
                return await self._picked(stored, text, pick, client_message_id, started)
        with self._stage("guard") as span:
            verdict = self._guard.check(text)
            span.set_attribute("realty.blocked", not verdict.allowed)
            if verdict.category is not None:
                span.set_attribute("realty.guard.category", verdict.category)
        if not verdict.allowed:
            return self._blocked(stored, verdict, client_message_id, started)
        with self._stage("parse") as span:
            update, calls, llm_ms, pending = await self._understand(state, verdict.text)
            span.set_attribute("realty.llm.calls", calls)
            span.set_attribute("realty.llm.deferred", pending is not None)
        with self._stage("advance") as span:
            # What a question about the listings shown asks of them, read once for the turn.
            asked = self._parser.facts.asked(Message.of(verdict.text)) if state.shown else ()
            update = _about_listings(asked, self._bounds.check(state.brief, update))
            transition = advance(state, update, self._registry, market=self._market)
            intent = None
            if self._assistant is not None:
                intent = self._assistant.intent(verdict.text, transition.state)
            update, transition, intent, route = self._routed(
                stored, verdict.text, update, transition, intent
            )
            if intent is not None:
                span.set_attribute("realty.intent", intent.intent)
        with self._stage("matches") as span:
            if route.kind == "market" or self._prices_aside(verdict.text, route, transition):
                transition = await self._priced(transition)
            else:
                transition = await self._referenced(transition)
            transition = self._sized(transition)
            # After a list, "more" / "¿tienes otros?" pages it, whatever the intent read.
            more = (
                bool(state.shown)
                and route.kind != "handoff"
                and not update.accepted
                and wants_more(verdict.text)
            )
            cheaper, larger = _reordered(state, route, update, verdict.text)
            if cheaper or larger:  # a request for listings, not a question for the guides
                transition = _without_knowledge(transition)
            # A question about the listings shown ("¿tienen andenes?", "is it available in
            # March?") is answered from them, instead of the list again.
            featured = transition
            if state.shown and not update.accepted and route.kind != "handoff":
                featured = await self._featured(transition, state.shown, verdict.text, asked)
            found = None
            if featured is not transition:
                transition = featured
            else:
                transition, found = await self._listed(
                    transition,
                    search=route.kind == "search" or more or cheaper or larger,
                    changed=bool(update.accepted),
                    more=more and not (cheaper or larger),
                    cheaper=cheaper,
                    larger=larger,
                )
            if found is not None:
                span.set_attribute("realty.matches.count", len(found.listings))
        with self._stage("respond"):
            reply = self._responder.render(transition)
            transition, reply = self._confirmed_list(transition, reply, found)
        result = self._result(
            stored.id, transition, reply, blocked=False, started=started, seq=stored.version + 1
        )
        result = replace(
            result,
            extracted=update.accepted,
            llm_calls=calls,
            llm_ms=llm_ms,
            client_message_id=client_message_id,
            refining=pending is not None,
            intent=intent,
            matches=found,
        )
        record = self._record(result, kind="message", text=update.text, update=update)
        return _Outcome(transition, reply, record, result, pending)

    async def _picked(
        self,
        stored: StoredConversation,
        text: str,
        pick: Pick,
        client_message_id: str | None,
        started: float,
    ) -> _Outcome:
        """A choice from the numbered list last shown: that listing in detail."""
        assert self._matcher is not None
        state = stored.state
        language = state.language
        words = self._matcher.words
        position, lead = pick.position, ""
        if pick.superlative is not None:
            ranked = await self._matcher.superlative(state.shown, pick.superlative, language)
            position, lead = ranked if ranked is not None else (1, "")
        if not pick.valid:
            detail = words.say("detail_out_of_range", language, count=len(state.shown))
        else:
            found = await self._matcher.detail_text(
                state.shown[position - 1], position, language, self._today()
            )
            detail = words.say("detail_gone", language) if found is None else found
            detail = f"{detail}\n\n{words.say('detail_next', language)}"
            if lead:
                detail = f"{lead}\n{detail}"
        transition = Transition(
            state=state.model_copy(update={"turn": state.turn + 1}),
            actions=(Answered(topic="listings", text=detail),),
        )
        reply = self._responder.render(transition)
        result = self._result(
            stored.id, transition, reply, blocked=False, started=started, seq=stored.version + 1
        )
        result = replace(
            result,
            client_message_id=client_message_id,
            intent=TurnIntent(intent="search", confidence=1.0, sentiment=0.0),
        )
        record = self._record(result, kind="message", text=text, update=None)
        return _Outcome(transition, reply, record, result)

    def _routed(
        self,
        stored: StoredConversation,
        text: str,
        update: TurnUpdate,
        transition: Transition,
        intent: TurnIntent | None,
    ) -> tuple[TurnUpdate, Transition, TurnIntent | None, Route]:
        """Where the message's intent leads: the guides, the simulator (also the answer to
        its own question), a broker; the turn with that answer, and what the brief keeps."""
        state = stored.state
        route = self._router.route(intent)
        followed = self._followed(state, text, transition, route)
        if followed is not None:
            # The answer to the simulator's question: "5 millones" is the price it asked for.
            route = Route("assist")
            intent = TurnIntent("simulate", 1.0, intent.sentiment if intent else 0.0)
        if route.kind == "assist" and intent is not None:
            asked = self._router.hypothetical(update, state.brief, intent)
            if asked is not update:  # a question's own figures are not the brief's
                update = asked
                transition = advance(state, update, self._registry, market=self._market)
        simulating: str | None = None
        if followed is not None:
            figures, simulating = followed
            transition = answer(transition, figures)
        elif route.kind == "assist" and self._assistant is not None and intent is not None:
            answered: Answered | None
            if intent.intent == "simulate":
                answered, missing = self._assistant.simulate(text, transition.state)
                simulating = text if missing else None  # the next message may answer it
            else:
                filled = bool(update.accepted)
                answered = self._assistant.answer(text, transition.state, intent, filled=filled)
            if answered is not None:
                transition = answer(transition, answered)
        elif route.kind == "handoff":
            transition = self._handed_off(stored, transition, route)
        elif route.kind == "brief" and self._assistant is not None and update.accepted:
            # Details with a question beside them: the details fill the brief, the question
            # is answered too.
            aside = self._assistant.aside(text, transition.state)
            if aside is not None:
                transition = answer(transition, aside)
        if route.kind != "handoff":
            transition = self._reachable(stored, transition)
        return update, _with_state(transition, simulating=simulating), intent, route

    def _reachable(self, stored: StoredConversation, transition: Transition) -> Transition:
        """The contact a broker or a visit was waiting for ("my email is …", after "can I
        visit it?"): say the broker will use it (instead of "Noted: email: …")."""
        handoff = stored.state.handoff
        if handoff is None or stored.channel_key is not None or _contact(stored.state.brief):
            return transition
        contact = _contact(transition.state.brief)
        if contact is None:
            return transition
        text = self._router.contact_taken(handoff, transition.state.language, contact)
        return answer(_unnoted_contact(transition), Answered(topic=handoff, text=text))

    def _followed(
        self, state: ConversationState, text: str, transition: Transition, route: Route
    ) -> tuple[Answered, str | None] | None:
        """A message answering what a cost simulation asked for: the simulation's answer,
        and the messages to keep reading together when inputs are still missing. ``None``
        when no simulation was waiting, the prospect asked for a person, or the message gives
        none of the inputs (they moved on)."""
        if state.simulating is None or self._assistant is None or route.kind == "handoff":
            return None
        return self._assistant.follow_up(state.simulating, text, transition.state)

    def _handed_off(
        self, stored: StoredConversation, transition: Transition, route: Route
    ) -> Transition:
        """The prospect asked for a broker or a visit: say who will get in touch, and mark
        the conversation (its lead becomes ``handoff``)."""
        assert route.handoff is not None
        state = transition.state
        contact = _contact(state.brief)
        text = self._router.handoff_text(
            route.handoff,
            state.language,
            contact_known=stored.channel_key is not None,
            again=stored.state.handoff is not None,
            contact=contact,
        )
        if contact is not None and stored.channel_key is None:
            transition = _unnoted_contact(transition)  # the reply says it already
        transition = answer(transition, Answered(topic=route.handoff, text=text))
        return _with_state(transition, handoff=route.handoff)

    async def _featured(
        self, transition: Transition, shown: Sequence[str], text: str, keys: Sequence[str]
    ) -> Transition:
        """A question about the features ``keys`` of the listings shown ("does the first one
        have parking?", "¿tienen andenes?"): what each of them (or the one it names) states,
        from the catalog. A failure to read it leaves the turn as it was (logged)."""
        if self._matcher is None:
            return transition
        if not keys:
            return transition
        language = transition.state.language
        position = named_position(text, len(shown))
        try:
            words = await self._matcher.features(shown, keys, language, position, self._today())
        except RealtyError as exc:
            logger.warning("no features for a list: %s", exc)
            return transition
        if words is None:
            return transition
        # About the listings shown, not the guides' general advice ("¿qué tamaño tiene?").
        return answer(_without_knowledge(transition), Answered(topic="listings", text=words))

    async def _priced(self, transition: Transition) -> Transition:
        """A question about prices: the catalog's medians for the brief's kind and city, and
        its budget against them, or what that answer needs. A failure to read the catalog
        leaves the turn as it was (logged)."""
        state = transition.state
        if self._matcher is None:
            return transition
        try:
            words = await self._matcher.prices(state.brief, modality=state.modality)
        except BriefNotMatchableError:  # no kind or city yet, or only one still proposed
            text = self._router.prices_need(state.language)
            return answer(transition, Answered(topic="market", text=text))
        except RealtyError as exc:
            logger.warning("no prices for a brief: %s", exc)
            return transition
        return answer(transition, Answered(topic="market", text=words[state.language]))

    def _prices_aside(self, text: str, route: Route, transition: Transition) -> bool:
        """A question about prices beside another request ("do you have warehouses in
        Monterrey, and what's the typical price per m2?"), answered too."""
        return (
            route.kind in ("brief", "search")
            and self._assistant is not None
            and not any(isinstance(a, Answered) for a in transition.actions)
            and self._assistant.asks_prices(text, transition.state)
        )

    def _sized(self, transition: Transition) -> Transition:
        """A "not sure about the size" from a prospect whose brief says how many people: the
        space they need, worked out, right after the "no problem"."""
        if not _noted(transition, SIZE) or self._assistant is None:
            return transition
        text = self._assistant.space_for(transition.state)
        if text is None:
            return transition
        return _after_noted(transition, SIZE, Answered(topic="knowledge", text=text))

    async def _referenced(self, transition: Transition) -> Transition:
        """A "no sé el presupuesto" once the kind and city are known: what the market asks for
        them, right after the "no problem", so that a figure is easier to name. Nothing more
        when the brief cannot be priced yet or the catalog cannot be read (logged)."""
        state = transition.state
        if not _noted(transition, BUDGET) or self._matcher is None:
            return transition
        try:
            words = await self._matcher.prices(state.brief, modality=state.modality)
        except BriefNotMatchableError:
            return transition
        except RealtyError as exc:
            logger.warning("no prices for a brief: %s", exc)
            return transition
        text = self._router.budget_reference(words[state.language], state.language)
        return _after_noted(transition, BUDGET, Answered(topic="market", text=text))

    async def _listed(
        self,
        transition: Transition,
        *,
        search: bool,
        changed: bool,
        more: bool = False,
        cheaper: bool = False,
        larger: bool = False,
    ) -> tuple[Transition, MatchResult | None]:
        """The listings that fit the brief after this turn, and the turn with them.

        Matching runs once the brief names a type and a city, on a turn that changed the
        brief, confirmed it or asked for listings. Asked for (``search``), the list becomes
        the answer of the turn (a preview while the brief fills), or the answer says what a
        search needs; asked for ``more`` after a list, the answer is the next listings of the
        ranking (up to :data:`PAGED` in all), or that there are no more; asked for something
        ``cheaper`` or ``larger``, the cheapest or the largest of them. Matching only reads:
        a failure leaves the turn as it was (logged).
        """
        state = transition.state
        confirmed = any(isinstance(a, Confirmed) for a in transition.actions)
        if self._matcher is None or not (search or changed or confirmed):
            return transition, None
        if state.brief.get("property_type") is None or state.brief.get("city") is None:
            if search:
                text = self._router.search_needs(state.language)
                transition = answer(transition, Answered(topic="listings", text=text))
            return transition, None
        limit = PAGED if more or cheaper or larger else LISTED
        try:
            found = await self._matcher.matches(state.brief, limit=limit, modality=state.modality)
        except RealtyError as exc:
            logger.warning("no matches for a brief: %s", exc)
            return transition, None
        if more and not confirmed:
            found = found.after(state.shown)
            preview = bool(state.brief.missing(self._registry.required))
            text = found.chat_text(state.language, preview=preview, market=False, more=True)
            transition = answer(transition, Answered(topic="listings", text=text))
            if found.listings:
                transition = _with_state(transition, shown=_ids(found))
        elif search and not confirmed:
            preview = bool(state.brief.missing(self._registry.required))
            if cheaper:
                found = self._matcher.cheapest_first(found)
            elif larger:
                found = self._matcher.largest_first(found)
            text = found.chat_text(
                state.language, preview=preview, cheapest=cheaper, largest=larger
            )
            transition = answer(transition, Answered(topic="listings", text=text))
            transition = _with_state(transition, shown=_ids(found))
        elif (
            not confirmed
            and any(isinstance(a, BriefCompleted) for a in transition.actions)
            and not any(isinstance(a, Answered) and a.topic == "market" for a in transition.actions)
        ):
            # The summary comes with what the market says of a budget far from it, or the
            # question of rent or purchase, while the prospect can still change it.
            note = found.market_note(state.language)
            if note is not None:
                transition = answer(transition, Answered(topic="market", text=note))
        return transition, found

    def _confirmed_list(
        self, transition: Transition, reply: str, found: MatchResult | None
    ) -> tuple[Transition, str]:
        """A confirmed brief's reply, followed by the listings that fit it."""
        if found is None or not any(isinstance(a, Confirmed) for a in transition.actions):
            return transition, reply
        language = transition.state.language
        # A market note worth hearing was said with the summary the prospect just confirmed.
        text = found.chat_text(language, market=found.market_note(language) is None)
        return _with_state(transition, shown=_ids(found)), f"{reply}\n\n{text}"

    async def _edit(
        self, stored: StoredConversation, patch: BriefPatch, started: float
    ) -> _Outcome:
        state = stored.state
        ctx = self._context(state)
        extraction, problems = self._editor.extraction(patch, ctx)
        text = patch.model_dump_json(exclude_unset=True)
        update = self._bounds.check(
            state.brief, self._validator.validate(extraction, text, ctx.today)
        )
        problems += [(_edit_field(r.candidate.key), r.detail or r.reason) for r in update.rejected]
        if problems:
            raise EditRejectedError(problems)
        transition = advance(state, update, self._registry, market=self._market)
        transition, found = await self._listed(transition, search=False, changed=True)
        reply = self._responder.render(transition)
        result = self._result(
            stored.id, transition, reply, blocked=False, started=started, seq=stored.version + 1
        )
        result = replace(result, extracted=update.accepted, matches=found)
        record = self._record(result, kind="edit", text=text, update=update)
        return _Outcome(transition, reply, record, result)

    async def _confirm(self, stored: StoredConversation, started: float) -> _Outcome:
        state = stored.state
        missing = state.brief.missing(self._registry.required)
        if missing or state.phase != "complete":
            raise BriefIncompleteError(missing or list(state.asked))
        update = TurnUpdate(text="", signals=frozenset({"affirm"}))
        transition = advance(state, update, self._registry, market=self._market)
        transition, found = await self._listed(transition, search=False, changed=False)
        transition, reply = self._confirmed_list(
            transition, self._responder.render(transition), found
        )
        result = self._result(
            stored.id, transition, reply, blocked=False, started=started, seq=stored.version + 1
        )
        result = replace(result, matches=found)
        record = self._record(result, kind="confirm", text="", update=update)
        return _Outcome(transition, reply, record, result)

    def _context(self, state: ConversationState) -> ParseContext:
        options: tuple[str, ...] = ()
        if state.pending is not None and state.pending.kind in ("city", "currency"):
            options = state.pending.options
        return ParseContext(
            language=state.language if state.language_locked else None,
            asked=state.asked,
            options=options,
            known=tuple(state.brief.slots),
            today=self._today().isoformat(),
            home_country=self._market.country,
        )

    async def _understand(
        self, state: ConversationState, text: str
    ) -> tuple[TurnUpdate, int, float, _Pending | None]:
        """Parse, ask the LLM when the parser could not explain the text, then validate.

        The model gets until the reply deadline; past it the parser's reading is used now
        and the still-running reading is returned, to refine the brief once it answers.
        """
        ctx = self._context(state)
        extraction: Extraction = self._parser.parse(text, ctx)
        calls, llm_ms = 0, 0.0
        if (
            self._extractor is not None
            and self._extractor.needs_llm(text, extraction)
            and self.llm_slots.take()  # every slot busy: the parser's reading answers now
        ):
            started = time.perf_counter()
            task = asyncio.create_task(self._extract(text, extraction, state))
            task.add_done_callback(lambda _: self.llm_slots.give_back())
            try:
                await asyncio.wait_for(asyncio.shield(task), self._deadline_s)
            except TimeoutError:
                pending = _Pending(task, extraction, text, ctx.today, state.turn + 1, started)
                # One model call was made for this turn; its answer comes as a refinement.
                return self._validator.validate(extraction, text, ctx.today), 1, 0.0, pending
            except BaseException:
                task.cancel()
                raise
            outcome = task.result()
            extraction, calls, llm_ms = outcome.extraction, outcome.calls, outcome.latency_ms
        return self._validator.validate(extraction, text, ctx.today), calls, llm_ms, None

    async def _extract(
        self, text: str, extraction: Extraction, state: ConversationState
    ) -> LLMOutcome:
        """The model's reading, in a span of its own (which may end after the reply's)."""
        assert self._extractor is not None
        with self._stage("llm_extract") as span:
            outcome = await self._extractor.extract(text, extraction, state)
            span.set_attribute("realty.llm.calls", outcome.calls)
        return outcome

    # ---- refinements: a model reading that came after the reply ----

    def _spawn(self, cid: str, pending: _Pending) -> None:
        task = asyncio.create_task(self._refine(cid, pending))
        self._refining.add(task)
        task.add_done_callback(self._refining.discard)

    async def _refine(self, cid: str, pending: _Pending) -> Refinement:
        outcome = await pending.task
        added = [c for c in outcome.extraction.candidates if c not in pending.extraction.candidates]
        applied: tuple[str, ...] = ()
        entry: TurnResult | None = None
        try:
            if added:
                applied, entry = await self._apply_refinement(cid, pending, outcome, added)
        except Exception:  # a refinement must never break anything: the turn already stands
            logger.exception("conversation %s: refinement of turn %d failed", cid, pending.turn)
        report = Refinement(
            conversation_id=cid,
            turn=pending.turn,
            refined_ms=round((time.perf_counter() - pending.started) * 1000, 3),
            llm_calls=outcome.calls,
            applied=applied,
            seq=entry.seq if entry else None,
            extracted=tuple(c for c in added if c.key in applied),
            reply=entry.reply if entry else None,
        )
        self._refined.append(report)
        return report

    async def _apply_refinement(
        self, cid: str, pending: _Pending, outcome: LLMOutcome, added: list[Candidate]
    ) -> tuple[tuple[str, ...], TurnResult | None]:
        checked = self._validator.validate(outcome.extraction, pending.text, pending.today)
        accepted = tuple(c for c in checked.accepted if c in added)
        if not accepted:
            return (), None
        update = TurnUpdate(text=pending.text, accepted=accepted)
        async with self._locks.hold(cid):
            for attempt in range(MAX_ATTEMPTS):
                stored = await self._store.load(cid, self._now())
                if stored is None:
                    return (), None  # erased or expired meanwhile
                started = time.perf_counter()
                bounded = self._bounds.check(stored.state.brief, update).accepted
                transition = refine(
                    stored.state,
                    update.model_copy(update={"accepted": bounded}),
                    self._registry,
                    pending.turn,
                )
                if not transition.actions:
                    return (), None
                reply = self._responder.render(transition)
                result = self._result(
                    cid, transition, reply, blocked=False, started=started, seq=stored.version + 1
                )
                result = replace(
                    result,
                    turn=pending.turn,
                    extracted=accepted,
                    llm_calls=outcome.calls,
                    llm_ms=outcome.latency_ms,
                    kind="refine",
                    text=pending.text,
                )
                record = self._record(result, kind="refine", text=pending.text, update=update)
                try:
                    await self._commit(cid, stored, _Outcome(transition, reply, record, result))
                except VersionConflictError:
                    await self._conflicted(attempt)
                    continue
                await self._publish(cid, result)
                before, after = stored.state.brief, transition.state.brief
                changed = dict.fromkeys(
                    c.key for c in accepted if before.get(c.key) != after.get(c.key)
                )
                return tuple(changed), result
        logger.warning("conversation %s: refinement gave up after %d conflicts", cid, MAX_ATTEMPTS)
        return (), None

    def _blocked(
        self,
        stored: StoredConversation,
        verdict: GuardVerdict,
        client_message_id: str | None,
        started: float,
    ) -> _Outcome:
        """A refused message: nothing in the state changes; the reply never repeats it."""
        assert verdict.category is not None
        state = stored.state
        transition = refuse(
            state, verdict.category, self._registry, limit=verdict.limit, length=verdict.length
        )
        reply = self._responder.render(transition, self._refusal_language(state, verdict))
        result = self._result(
            stored.id, transition, reply, blocked=True, started=started, seq=stored.version + 1
        )
        result = replace(result, client_message_id=client_message_id, block_reason=verdict.category)
        record = self._record(result, kind="message", text=verdict.text, update=None)
        record = record.model_copy(update={"block_reason": verdict.category})
        if verdict.category not in ("empty", "too_long"):
            logger.info(
                "conversation %s: guard blocked a message as %s (%s, score %.3f)",
                stored.id,
                verdict.category,
                verdict.reason,
                verdict.score,
            )
        return _Outcome(transition, reply, record, result)

    def _refusal_language(self, state: ConversationState, verdict: GuardVerdict) -> Language:
        """The conversation's language; before one is settled, the refused message's own
        when it is clear (the state keeps its language either way)."""
        if state.language_locked or verdict.category in ("empty", "too_long"):
            return state.language
        found = self._parser.signals.find(Message.of(verdict.text), self._context(state))
        if found.language is not None and found.language_confidence >= LOCK_CONFIDENCE:
            return found.language
        return state.language

    # ---- helpers ----

    async def _authorized(self, cid: str, access: Access) -> StoredConversation:
        stored = await self._store.load(cid, self._now())
        if stored is None or not _allows(stored, access):
            raise UnknownConversationError(cid)
        return stored

    def _lead(self, stored: StoredConversation, outcome: _Outcome) -> LeadChange | None:
        actions = outcome.result.actions
        handoff = outcome.transition.state.handoff
        contact = stored.channel_key or _contact(outcome.transition.state.brief)
        reached = contact != (stored.channel_key or _contact(stored.state.brief))
        if handoff is not None and (
            stored.state.handoff is None
            or reached
            or "confirmed" in actions
            or "brief_completed" in actions
        ):
            status: LeadStatus | None = "handoff"  # a person was asked for: it stays so
        elif "confirmed" in actions:
            status = "confirmed"
        elif "brief_completed" in actions:
            status = "new"
        elif reached and stored.state.completed_once:
            status = None  # a contact left for the lead made before: the status stands
        else:
            return None
        return LeadChange(
            status=status,
            brief=outcome.result.brief,
            language=outcome.transition.state.language,
            channel=stored.channel,
            contact=contact,
        )

    async def _publish(self, cid: str, result: TurnResult) -> None:
        await self._events.publish(cid, reply_event(result))
        await self._events.publish(cid, brief_event(result))

    def _result(
        self,
        cid: str,
        transition: Transition,
        reply: str,
        *,
        blocked: bool,
        started: float,
        seq: int,
    ) -> TurnResult:
        return TurnResult(
            conversation_id=cid,
            turn=transition.state.turn,
            reply=reply,
            brief=self.brief_json(transition.state.brief),
            blocked=blocked,
            actions=tuple(a.kind for a in transition.actions),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            seq=seq,
            asked=transition.state.asked,
            state=transition.state,
            display=self._describer.describe(transition.state.brief),
            handoff=_handoff(transition),
        )

    def _record(
        self,
        result: TurnResult,
        *,
        kind: TurnKind,
        text: str,
        update: TurnUpdate | None,
        created_at: dt.datetime | None = None,
    ) -> TurnRecord:
        return TurnRecord(
            seq=result.seq,
            turn=result.turn,
            kind=kind,
            client_message_id=result.client_message_id,
            text=text,
            blocked=result.blocked,
            candidates=[c.model_dump(mode="json") for c in update.accepted] if update else [],
            accepted=[c.key for c in update.accepted] if update else [],
            rejected=[r.model_dump(mode="json") for r in update.rejected] if update else [],
            actions=list(result.actions),
            reply=result.reply,
            brief=result.brief,
            llm_calls=result.llm_calls,
            llm_ms=round(result.llm_ms, 3),
            latency_ms=result.latency_ms,
            intent=result.intent.intent if result.intent else None,
            intent_confidence=round(result.intent.confidence, 3) if result.intent else None,
            sentiment=round(result.intent.sentiment, 3) if result.intent else None,
            created_at=created_at or self._now(),
        )


def _contact(brief: Brief) -> str | None:
    """How a broker reaches the prospect, from the brief: a phone number, else an email."""
    for key in CONTACT_KEYS:
        slot = brief.get(key)
        if slot is not None and isinstance(slot.value, Scalar):
            text = str(slot.value.value)
            if len(text) <= CONTACT_MAX_CHARS:  # a longer one stays in the brief only
                return text
    return None


def _about_listings(asked: Sequence[str], update: TurnUpdate) -> TurnUpdate:
    """``update`` without the move-in date of a question about when the listings shown can be
    moved into (``asked`` holds ``available_from``: "is it available in March?"), which sets
    none for the brief."""
    if "available_from" not in asked:
        return update
    kept = tuple(c for c in update.accepted if c.key != "move_in_date")
    return update.model_copy(update={"accepted": kept})


def _noted(transition: Transition, key: str) -> bool:
    """Whether the turn notes that the prospect does not know ``key`` yet."""
    return any(isinstance(a, NotedUnknown) and key in a.keys for a in transition.actions)


def _after_noted(transition: Transition, key: str, answered: Answered) -> Transition:
    """``transition`` with ``answered`` right after the note that ``key`` is not known yet."""
    actions = list(transition.actions)
    at = next(i for i, a in enumerate(actions) if isinstance(a, NotedUnknown) and key in a.keys)
    actions.insert(at + 1, answered)
    return transition.model_copy(update={"actions": tuple(actions)})


def _reordered(
    state: ConversationState, route: Route, update: TurnUpdate, text: str
) -> tuple[bool, bool]:
    """Whether ``text`` asks for the listings that fit cheapest first ("any cheaper?") or
    largest first ("¿y más grande?"): as a search, or after a list or a completed brief."""
    asking = route.kind == "search" or (
        bool(state.shown or state.completed_once)
        and route.kind != "handoff"
        and not update.accepted
    )
    cheaper = asking and wants_cheaper(text)
    return cheaper, asking and not cheaper and wants_larger(text)


def _without_knowledge(transition: Transition) -> Transition:
    """``transition`` without an answer from the guides."""
    kept = tuple(
        a for a in transition.actions if not (isinstance(a, Answered) and a.topic == "knowledge")
    )
    return transition.model_copy(update={"actions": kept})


def _unnoted_contact(transition: Transition) -> Transition:
    """``transition`` without "Noted: email: …", for a reply that names the contact itself."""
    kept = tuple(
        a for a in transition.actions if not (isinstance(a, Acknowledge) and a.key in CONTACT_KEYS)
    )
    return transition.model_copy(update={"actions": kept})


def _with_state(transition: Transition, **changes: Any) -> Transition:
    """``transition`` with its state changed."""
    return transition.model_copy(update={"state": transition.state.model_copy(update=changes)})


def _ids(found: MatchResult) -> tuple[str, ...]:
    """The ids of the listings a chat list shows, in its order."""
    return tuple(m.listing.id for m in found.listings[:LISTED])


def _handoff(transition: Transition) -> Handoff | None:
    """What ``transition`` told the prospect a person will follow up on, if anything."""
    for action in transition.actions:
        match action:
            case Answered(topic="person" | "visit" as topic):
                return topic
    return None


def _drop(pending: _Pending | None) -> None:
    """Stop a model reading whose turn was not saved (it will be read again, or never)."""
    if pending is not None:
        pending.task.cancel()


def _emptied(exc: ValidationError) -> list[tuple[str, str]]:
    """The fields of a patch that cleaning left invalid, each once."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        where = ".".join(str(part) for part in loc[: 2 if loc[0] == "extras" else 1])
        fields.setdefault(where, "empty once its NUL characters are dropped")
    return list(fields.items())


def _edit_field(key: str) -> str:
    """Where a key sits in a brief patch (extras are nested)."""
    return key if key in CORE_FIELDS else f"extras.{key}"


def _allows(stored: StoredConversation, access: Access) -> bool:
    if isinstance(access, Bearer):
        return hmac.compare_digest(stored.token_hash, hash_token(access.token))
    return stored.channel == access.channel and stored.channel_key == access.key


def _backoff(attempt: int) -> float:
    """Jittered exponential backoff, so racing writers spread out."""
    return float(random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_S * 2**attempt)))


def result_of(conversation_id: str, record: TurnRecord) -> TurnResult:
    """The result a stored log entry records (``replayed``)."""
    return TurnResult(
        conversation_id=conversation_id,
        turn=record.turn,
        reply=record.reply,
        brief=record.brief,
        blocked=record.blocked,
        actions=tuple(record.actions),
        llm_calls=record.llm_calls,
        llm_ms=record.llm_ms,
        latency_ms=record.latency_ms,
        seq=record.seq,
        client_message_id=record.client_message_id,
        replayed=True,
        kind=record.kind,
        text=record.text,
    )


def reply_event(result: TurnResult) -> dict[str, Any]:
    """The ``reply`` event of a turn (WebSocket and pub/sub payload)."""
    return {
        "type": "reply",
        "seq": result.seq,
        "turn": result.turn,
        "kind": result.kind,
        "text": result.text,
        "reply": result.reply,
        "actions": list(result.actions),
        "blocked": result.blocked,
        "client_message_id": result.client_message_id,
        "refining": result.refining,
    }


def brief_event(result: TurnResult) -> dict[str, Any]:
    """The ``brief`` event of a turn: the canonical brief and, when known, the same in words."""
    event: dict[str, Any] = {"type": "brief", "seq": result.seq, "brief": result.brief}
    if result.display is not None:
        event["display"] = result.display.model_dump(mode="json")
    return event
