"""In-process store with the same contract as the SQL one (terminal chat, replay, evaluations).

Single-process only: nothing survives the process. Its version checks behave like the SQL
store's, so the service's retry logic is exercised the same way in unit tests.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from realty.domain.state import ConversationState
from realty.store.base import (
    NOT_USER_TURNS,
    Channel,
    DayStats,
    DuplicateChannelKeyError,
    DuplicateIdempotencyKeyError,
    DuplicateMessageError,
    IdempotencyRecord,
    Lead,
    LeadChange,
    LeadFilter,
    Stats,
    StoredConversation,
    TranscriptEntry,
    TurnRecord,
    VersionConflictError,
    completed_at,
    lead_facets,
    lead_id,
    parse_lead_cursor,
    percentile,
)


class InMemoryStore:
    """Keeps conversations, the append-only turn log and leads in dictionaries."""

    def __init__(self) -> None:
        self._conversations: dict[str, StoredConversation] = {}
        self._turns: dict[str, list[TurnRecord]] = {}
        self._leads: dict[str, Lead] = {}  # by conversation id
        self._transcripts: dict[str, list[TranscriptEntry]] = {}  # of detached leads, by id
        self._keys: dict[str, IdempotencyRecord] = {}  # by key hash

    async def create(
        self,
        conversation: StoredConversation,
        greeting: TurnRecord,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Store a new conversation with its greeting (and its Idempotency-Key)."""
        if conversation.channel_key is not None:
            live = await self.find_by_channel(
                conversation.channel, conversation.channel_key, conversation.created_at
            )
            if live is not None:
                raise DuplicateChannelKeyError(conversation.channel_key)
        if idempotency is not None:
            if await self.find_idempotency(idempotency.key_hash, conversation.created_at):
                raise DuplicateIdempotencyKeyError(idempotency.key_hash)
            self._keys[idempotency.key_hash] = idempotency
        self._conversations[conversation.id] = conversation
        self._turns[conversation.id] = [greeting]

    async def find_idempotency(self, key_hash: str, now: dt.datetime) -> IdempotencyRecord | None:
        """The unexpired Idempotency-Key record with this hash, if any."""
        record = self._keys.get(key_hash)
        return record if record is not None and record.expires_at > now else None

    async def forget_idempotency(self, key_hash: str, conversation_id: str) -> None:
        """Delete the record of ``key_hash`` if it still names ``conversation_id``."""
        record = self._keys.get(key_hash)
        if record is not None and record.conversation_id == conversation_id:
            del self._keys[key_hash]

    def _drop_keys(self, conversation_ids: set[str]) -> None:
        for key_hash, record in list(self._keys.items()):
            if record.conversation_id in conversation_ids:
                del self._keys[key_hash]

    async def load(self, conversation_id: str, now: dt.datetime) -> StoredConversation | None:
        """The conversation, or ``None`` when unknown or expired."""
        conv = self._conversations.get(conversation_id)
        if conv is None or conv.expires_at <= now:
            return None
        return conv

    async def find_by_channel(
        self, channel: Channel, key: str, now: dt.datetime
    ) -> StoredConversation | None:
        """The live conversation of a prospect on a channel, if any."""
        for conv in self._conversations.values():
            if conv.channel == channel and conv.channel_key == key and conv.expires_at > now:
                return conv
        return None

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
        """Save the new version and append ``record`` (see the Protocol)."""
        conv = self._conversations.get(conversation_id)
        if conv is None or conv.version != expected_version:
            raise VersionConflictError(conversation_id)
        turns = self._turns.setdefault(conversation_id, [])
        cmid = record.client_message_id
        if cmid is not None and any(t.client_message_id == cmid for t in turns):
            raise DuplicateMessageError(cmid)
        self._conversations[conversation_id] = conv.model_copy(
            update={
                "state": state,
                "version": expected_version + 1,
                "updated_at": record.created_at,
                "expires_at": expires_at,
            }
        )
        turns.append(record)
        if lead is not None:
            self._upsert_lead(conversation_id, lead, record.created_at)

    def _upsert_lead(self, conversation_id: str, change: LeadChange, now: dt.datetime) -> None:
        old = self._leads.get(conversation_id)
        status = change.status or (old.status if old else None)
        if status is None:
            return  # an update of a lead that does not exist: nothing to update
        city, kind = lead_facets(change.brief)
        self._leads[conversation_id] = Lead(
            city=city,
            property_type=kind,
            id=old.id if old else lead_id(conversation_id),
            conversation_id=conversation_id,
            status=status,
            brief=change.brief,
            language=change.language,
            channel=change.channel,
            contact=change.contact,
            created_at=old.created_at if old else now,
            updated_at=now,
        )

    async def find_turn(self, conversation_id: str, client_message_id: str) -> TurnRecord | None:
        """The stored entry with this client message id, if any."""
        for record in self._turns.get(conversation_id, []):
            if record.client_message_id == client_message_id:
                return record
        return None

    async def history(
        self, conversation_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[TurnRecord]:
        """Entries with ``seq > after``, oldest first."""
        return [t for t in self._turns.get(conversation_id, []) if t.seq > after][:limit]

    async def turns(self, conversation_id: str) -> list[TurnRecord]:
        """Every entry of a conversation, oldest first."""
        return list(self._turns.get(conversation_id, []))

    async def delete(self, conversation_id: str) -> bool:
        """Erase the conversation, its turns, its lead and its Idempotency-Key."""
        self._drop_keys({conversation_id})
        self._turns.pop(conversation_id, None)
        self._leads.pop(conversation_id, None)
        return self._conversations.pop(conversation_id, None) is not None

    async def purge_expired(self, now: dt.datetime) -> list[str]:
        """Erase expired conversations (their leads stay, detached) and expired keys."""
        expired = [cid for cid, c in self._conversations.items() if c.expires_at <= now]
        self._drop_keys(set(expired))
        for key_hash in [k for k, r in self._keys.items() if r.expires_at <= now]:
            del self._keys[key_hash]
        for cid in expired:
            del self._conversations[cid]
            log = self._turns.pop(cid, [])
            lead = self._leads.pop(cid, None)
            if lead is not None:
                self._leads[f"detached:{lead.id}"] = lead.model_copy(
                    update={"conversation_id": None}
                )
                self._transcripts[lead.id] = [TranscriptEntry.of(r) for r in log]
        return sorted(expired)

    async def leads(
        self, where: LeadFilter | None = None, *, limit: int = 50, before: str | None = None
    ) -> list[Lead]:
        """Leads matching ``where``, most recently updated first."""
        wanted = where or LeadFilter()
        found = sorted(
            (lead for lead in self._leads.values() if wanted.matches(lead)),
            key=lambda lead: (lead.updated_at, lead.id),
            reverse=True,
        )
        if before is not None:
            after = parse_lead_cursor(before)
            found = [lead for lead in found if (lead.updated_at, lead.id) < after]
        return found[:limit]

    async def lead(self, lead_id: str) -> tuple[Lead, list[TranscriptEntry]] | None:
        """A lead and its transcript."""
        for lead in self._leads.values():
            if lead.id == lead_id:
                if lead.conversation_id is None:
                    return lead, list(self._transcripts.get(lead.id, []))
                log = self._turns.get(lead.conversation_id, [])
                return lead, [TranscriptEntry.of(r) for r in log]
        return None

    async def stats(
        self, now: dt.datetime, *, days: int = 14, fields: tuple[str, ...] = ()
    ) -> Stats:
        """Counts over live conversations, their turns and every lead (the reference
        semantics the SQL store's queries follow)."""
        live = [c for c in self._conversations.values() if c.expires_at > now]
        turns = [t for log in self._turns.values() for t in log if t.kind not in NOT_USER_TURNS]
        engaged = [c for c in live if c.state.turn > 0]
        firsts = [f for f in (self._first_completion(c.id) for c in live) if f is not None]
        calls = sum(t.llm_calls for t in turns)
        latencies = sorted(t.latency_ms for t in turns)
        leads = list(self._leads.values())
        return Stats(
            conversations=len(live),
            conversations_complete=sum(1 for c in live if c.state.phase == "complete"),
            conversations_by_channel=dict(Counter(c.channel for c in live)),
            conversations_engaged=len(engaged),
            conversations_completed=len(firsts),
            completion_rate=len(firsts) / len(engaged) if engaged else 0.0,
            turns_to_completion={str(k): v for k, v in Counter(firsts).items()},
            fill_rate={
                key: sum(1 for c in engaged if key in c.state.brief.slots) / len(engaged)
                if engaged
                else 0.0
                for key in fields
            },
            turns=len(turns),
            blocked_turns=sum(1 for t in turns if t.blocked),
            blocked_by_reason=dict(
                Counter(t.block_reason for t in turns if t.blocked and t.block_reason)
            ),
            llm_calls=calls,
            llm_calls_per_turn=calls / len(turns) if turns else 0.0,
            llm_calls_histogram={str(k): v for k, v in Counter(t.llm_calls for t in turns).items()},
            turns_by_intent=dict(Counter(t.intent for t in turns if t.intent)),
            mean_sentiment=_mean([t.sentiment for t in turns if t.sentiment is not None]),
            mean_latency_ms=round(sum(latencies) / len(turns), 3) if turns else 0.0,
            p50_latency_ms=percentile(latencies, 50),
            p95_latency_ms=percentile(latencies, 95),
            leads=len(leads),
            leads_by_status=dict(Counter(lead.status for lead in leads)),
            leads_by_city=dict(Counter(lead.city for lead in leads if lead.city)),
            leads_by_type=dict(Counter(lead.property_type for lead in leads if lead.property_type)),
            days=self._days(now, days, turns),
        )

    def _first_completion(self, conversation_id: str) -> int | None:
        turns = [completed_at(r) for r in self._turns.get(conversation_id, [])]
        return min((t for t in turns if t is not None), default=None)

    def _days(self, now: dt.datetime, days: int, turns: list[TurnRecord]) -> list[DayStats]:
        first_day = now.astimezone(dt.UTC).date() - dt.timedelta(days=days - 1)
        out = []
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            opened = [
                c
                for c in self._conversations.values()
                if c.created_at.astimezone(dt.UTC).date() == day
            ]
            said = [t for t in turns if t.created_at.astimezone(dt.UTC).date() == day]
            latencies = sorted(t.latency_ms for t in said)
            out.append(
                DayStats(
                    date=day,
                    conversations=len(opened),
                    completed=sum(1 for c in opened if self._first_completion(c.id) is not None),
                    turns=len(said),
                    blocked_turns=sum(1 for t in said if t.blocked),
                    llm_calls=sum(t.llm_calls for t in said),
                    p50_latency_ms=percentile(latencies, 50),
                    p95_latency_ms=percentile(latencies, 95),
                )
            )
        return out


def _mean(values: list[float]) -> float | None:
    """The mean rounded to 3 places, ``None`` of nothing."""
    return round(sum(values) / len(values), 3) if values else None
