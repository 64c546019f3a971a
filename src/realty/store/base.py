"""What the conversation service needs from a store, as records and two Protocols.

Every conversation is a JSON snapshot of its :class:`ConversationState` plus a version, and an
append-only log of :class:`TurnRecord` rows. A new snapshot is written only if the version the
turn started from is still current (:meth:`ConversationStore.commit`), so any process may serve
any message: concurrent writers to one conversation are detected, and the loser re-runs its
turn on the newer state. Implementations: :mod:`realty.store.memory` (terminal chat, replay,
evaluations) and :mod:`realty.store.sql` (the service: SQLite or PostgreSQL).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from realty.domain.state import ConversationState
from realty.errors import StorageError

_FROZEN = ConfigDict(frozen=True, extra="forbid")

TurnKind = Literal["start", "message", "edit", "confirm", "refine"]
# Entries that are not a prospect's turn in the statistics: the greeting, and a late model
# reading of an earlier message (its turn already counted, with the model call it started).
NOT_USER_TURNS: tuple[TurnKind, ...] = ("start", "refine")
# new: the brief is complete; confirmed: the prospect approved it; handoff: the prospect asked
# for a person (a broker, a visit) — it stays so whatever the brief does next.
LeadStatus = Literal["new", "confirmed", "handoff"]
Channel = Literal["api", "whatsapp", "cli"]


def utcnow() -> dt.datetime:
    """The current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class TurnRecord(BaseModel):
    """One entry of the append-only turn log: what came in, what was understood, what was said.

    ``seq`` numbers every entry of a conversation from 1 (the greeting); ``turn`` is the user
    turn the conversation had reached (blocked messages do not advance it). ``brief`` is the
    brief after the entry, so a repeated request can be answered from the log alone.
    """

    model_config = _FROZEN

    seq: int = Field(ge=1)
    turn: int = Field(ge=0)
    kind: TurnKind = "message"
    client_message_id: str | None = None
    text: str
    blocked: bool = False
    block_reason: str | None = None
    candidates: list[dict[str, Any]] = []
    accepted: list[str] = []
    rejected: list[dict[str, Any]] = []
    actions: list[str] = []
    reply: str
    brief: dict[str, Any] = {}
    llm_calls: int = 0
    llm_ms: float = 0.0
    latency_ms: float = 0.0
    # A user message's intent with its confidence and its sentiment in [-1, 1] (None on
    # other entries, blocked messages and entries logged before they were recorded).
    intent: str | None = None
    intent_confidence: float | None = Field(default=None, ge=0, le=1)
    sentiment: float | None = Field(default=None, ge=-1, le=1)
    created_at: dt.datetime = Field(default_factory=utcnow)


class StoredConversation(BaseModel):
    """A conversation as stored: its state snapshot, version and who may reach it.

    ``token_hash`` is the sha256 of the bearer token handed out at creation (the token itself
    is never stored); ``channel_key`` identifies the prospect on a channel (a WhatsApp number).
    """

    model_config = _FROZEN

    id: str
    state: ConversationState
    version: int = Field(ge=1)
    token_hash: str
    channel: Channel = "api"
    channel_key: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime


class IdempotencyRecord(BaseModel):
    """The Idempotency-Key a conversation was opened with, stored with it (same transaction).

    ``key_hash`` stands for the client and its key, ``fingerprint`` for the request body, and
    ``sealed_token`` is the conversation's token encrypted with a key derived from the
    Idempotency-Key: the database alone cannot give the token back, a repeat of the request
    can (services/opening.py).
    """

    model_config = _FROZEN

    key_hash: str = Field(min_length=64, max_length=64)
    fingerprint: str = Field(min_length=64, max_length=64)
    conversation_id: str
    sealed_token: str = Field(max_length=256)
    created_at: dt.datetime
    expires_at: dt.datetime


# The longest contact a lead keeps (a WhatsApp sender, a phone number, an email).
CONTACT_MAX_CHARS = 128


class LeadChange(BaseModel):
    """A lead to create or update together with a turn (same transaction).

    ``status`` ``None`` updates the conversation's lead, if it has one, and keeps its status
    (a contact or a value left after the lead was made); it creates none.
    """

    model_config = _FROZEN

    status: LeadStatus | None
    brief: dict[str, Any]
    language: str
    channel: Channel
    contact: str | None = None


class Lead(BaseModel):
    """A completed brief handed to brokers: one per conversation, updated as it changes.

    ``city`` and ``property_type`` repeat the brief's values so leads can be filtered by them.
    """

    model_config = _FROZEN

    id: str
    conversation_id: str | None
    status: LeadStatus
    brief: dict[str, Any]
    language: str
    channel: Channel
    contact: str | None = None
    city: str | None = None
    property_type: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadFilter(BaseModel):
    """Which leads to list: every given member must match (dates are UTC, inclusive)."""

    model_config = _FROZEN

    status: LeadStatus | None = None
    city: str | None = None
    property_type: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None

    def matches(self, lead: Lead) -> bool:
        """Whether ``lead`` passes the filter."""
        day = lead.created_at.astimezone(dt.UTC).date()
        return (
            (self.status is None or lead.status == self.status)
            and (self.city is None or lead.city == self.city)
            and (self.property_type is None or lead.property_type == self.property_type)
            and (self.created_from is None or day >= self.created_from)
            and (self.created_to is None or day <= self.created_to)
        )


class TranscriptEntry(BaseModel):
    """One entry of a conversation as a broker reads it (``intent``, its confidence and the
    ``sentiment``: on user messages that were read)."""

    model_config = _FROZEN

    seq: int
    turn: int
    kind: TurnKind
    text: str
    reply: str
    blocked: bool
    actions: list[str]
    intent: str | None = None
    intent_confidence: float | None = None
    sentiment: float | None = None
    created_at: dt.datetime

    @classmethod
    def of(cls, record: TurnRecord) -> Self:
        """The transcript entry of a log record."""
        return cls.model_validate(record.model_dump(include=set(cls.model_fields)))


class DayStats(BaseModel):
    """One UTC day of activity: conversations opened that day and user entries made that day.

    ``completed`` counts the conversations opened that day whose brief has been complete at
    least once. Latency percentiles are nearest-rank over the day's user entries (``None`` on
    a day without any).
    """

    model_config = _FROZEN

    date: dt.date
    conversations: int
    completed: int
    turns: int
    blocked_turns: int
    llm_calls: int
    p50_latency_ms: float | None
    p95_latency_ms: float | None


class Stats(BaseModel):
    """Aggregate numbers for staff (see docs/api.md for each member)."""

    model_config = _FROZEN

    conversations: int
    conversations_complete: int
    conversations_by_channel: dict[str, int]
    conversations_engaged: int = Field(description="Live conversations with a user turn.")
    conversations_completed: int = Field(
        description="Live conversations whose brief has been complete at least once."
    )
    completion_rate: float = Field(description="conversations_completed / conversations_engaged.")
    turns_to_completion: dict[str, int] = Field(
        description="How many conversations first completed at each user turn."
    )
    fill_rate: dict[str, float] = Field(
        description="Share of engaged conversations holding each known field."
    )
    turns: int
    blocked_turns: int
    blocked_by_reason: dict[str, int]
    llm_calls: int
    llm_calls_per_turn: float
    llm_calls_histogram: dict[str, int] = Field(
        description="How many user turns made 0, 1, 2… model calls."
    )
    turns_by_intent: dict[str, int] = Field(
        default_factory=dict, description="User messages read, by intent."
    )
    mean_sentiment: float | None = Field(
        default=None, description="Mean sentiment (-1 to 1) of the user messages read."
    )
    mean_latency_ms: float
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    leads: int
    leads_by_status: dict[str, int]
    leads_by_city: dict[str, int]
    leads_by_type: dict[str, int]
    days: list[DayStats]


def lead_facets(brief: dict[str, Any]) -> tuple[str | None, str | None]:
    """The city and property type a lead's brief names (for filtering)."""
    fields = brief.get("fields") or {}
    city = (fields.get("city") or {}).get("value")
    kind = (fields.get("property_type") or {}).get("value")
    return (city if isinstance(city, str) else None, kind if isinstance(kind, str) else None)


def filled_keys(state: ConversationState) -> str:
    """The keys a conversation's brief holds, space-delimited and space-enclosed
    (``" budget city "``) so a fill rate is a portable ``LIKE '% budget %'``."""
    keys = sorted(state.brief.slots)
    return f" {' '.join(keys)} " if keys else ""


def completed_at(record: TurnRecord) -> int | None:
    """The user turn at which ``record`` completed the brief, if it did."""
    return record.turn if "brief_completed" in record.actions else None


def percentile(ordered: list[float], share: int) -> float | None:
    """Nearest-rank percentile (``share`` in percent) of ascending ``ordered`` values."""
    if not ordered:
        return None
    rank = (share * len(ordered) + 99) // 100  # ceil(share% of n), at least 1
    return ordered[max(rank, 1) - 1]


def lead_id(conversation_id: str) -> str:
    """A conversation's lead id: derived from it, so an upsert needs no fresh randomness."""
    return hashlib.sha256(f"lead:{conversation_id}".encode()).hexdigest()[:32]


def lead_cursor(lead: Lead) -> str:
    """An opaque cursor that pages past ``lead`` (ordering: updated_at, then id, descending)."""
    raw = f"{lead.updated_at.isoformat()}~{lead.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_lead_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The ``(updated_at, id)`` a cursor points past.

    Raises:
        ValueError: not a cursor :func:`lead_cursor` made.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, last_id = raw.split("~", 1)
        when = dt.datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid cursor {cursor[:40]!r}") from exc
    if when.tzinfo is None or not last_id or "\x00" in last_id:  # no lead id has a NUL
        raise ValueError(f"invalid cursor {cursor[:40]!r}")
    return when, last_id


class VersionConflictError(StorageError):
    """Another writer saved the conversation first; reload and run the turn again."""


class DuplicateMessageError(StorageError):
    """A turn with this ``client_message_id`` is already stored for the conversation."""


class DuplicateChannelKeyError(StorageError):
    """A live conversation already exists for this channel key (a concurrent first message)."""


class DuplicateIdempotencyKeyError(StorageError):
    """A conversation was already opened with this Idempotency-Key (a concurrent repeat)."""


class ConversationStore(Protocol):
    """Conversations, their append-only turn log and their lead."""

    async def create(
        self,
        conversation: StoredConversation,
        greeting: TurnRecord,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Store a new conversation (version 1) with its greeting as entry 1 and, atomically,
        the Idempotency-Key it was opened with.

        Raises:
            DuplicateChannelKeyError: a live conversation already has this channel key.
            DuplicateIdempotencyKeyError: an unexpired record already has this key hash.
        """
        ...

    async def find_idempotency(self, key_hash: str, now: dt.datetime) -> IdempotencyRecord | None:
        """The unexpired Idempotency-Key record with this hash, if any."""
        ...

    async def forget_idempotency(self, key_hash: str, conversation_id: str) -> None:
        """Delete the record of ``key_hash`` if it still names ``conversation_id``."""
        ...

    async def load(self, conversation_id: str, now: dt.datetime) -> StoredConversation | None:
        """The conversation, or ``None`` when unknown or expired at ``now``."""
        ...

    async def find_by_channel(
        self, channel: Channel, key: str, now: dt.datetime
    ) -> StoredConversation | None:
        """The live conversation of a prospect on a channel, if any."""
        ...

    async def commit(
        self,
        conversation_id: str,
        expected_version: int,
        state: ConversationState,
        record: TurnRecord,
        *,
        expires_at: dt.datetime,
        lead: LeadChange | None = None,
    ) -> None:
        """Save ``state`` as version ``expected_version + 1`` and append ``record``, atomically.

        Raises:
            VersionConflictError: the stored version is no longer ``expected_version``.
            DuplicateMessageError: ``record.client_message_id`` is already stored.
        """
        ...

    async def find_turn(self, conversation_id: str, client_message_id: str) -> TurnRecord | None:
        """The stored entry with this client message id, if any."""
        ...

    async def history(
        self, conversation_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[TurnRecord]:
        """Entries with ``seq > after``, oldest first, at most ``limit``."""
        ...

    async def delete(self, conversation_id: str) -> bool:
        """Erase the conversation, its turns, its lead and its Idempotency-Key; False when there
        was none."""
        ...

    async def purge_expired(self, now: dt.datetime) -> list[str]:
        """Erase conversations expired at ``now`` (their leads stay) and Idempotency-Key records
        expired at ``now``; returns the conversations' ids."""
        ...


class StaffStore(Protocol):
    """Read models for staff: leads and aggregate numbers."""

    async def leads(
        self, where: LeadFilter | None = None, *, limit: int = 50, before: str | None = None
    ) -> list[Lead]:
        """Leads matching ``where``, most recently updated first; ``before`` is
        :func:`lead_cursor` of the last lead of the previous page.

        Raises:
            ValueError: ``before`` is not a cursor this store issued.
        """
        ...

    async def lead(self, lead_id: str) -> tuple[Lead, list[TranscriptEntry]] | None:
        """A lead and its conversation's transcript (kept with the lead once the
        conversation expires), or ``None``."""
        ...

    async def stats(
        self, now: dt.datetime, *, days: int = 14, fields: tuple[str, ...] = ()
    ) -> Stats:
        """Counts over live conversations, turns and leads; ``days`` UTC days of daily
        numbers ending today; the fill rate of each of ``fields``."""
        ...
