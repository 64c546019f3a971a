"""In-process store with the same contract as the SQL one (terminal chat, replay, evaluations).

Single-process only: nothing survives the process. Its version checks behave like the SQL
store's, so the service's retry logic is exercised the same way in unit tests.
"""

from __future__ import annotations

import datetime as dt

from realty.domain.state import ConversationState
from realty.store.base import (
    Channel,
    DuplicateChannelKeyError,
    DuplicateMessageError,
    Lead,
    LeadChange,
    LeadStatus,
    Stats,
    StoredConversation,
    TurnRecord,
    VersionConflictError,
    lead_id,
    parse_lead_cursor,
)


class InMemoryStore:
    """Keeps conversations, the append-only turn log and leads in dictionaries."""

    def __init__(self) -> None:
        self._conversations: dict[str, StoredConversation] = {}
        self._turns: dict[str, list[TurnRecord]] = {}
        self._leads: dict[str, Lead] = {}  # by conversation id

    async def create(self, conversation: StoredConversation, greeting: TurnRecord) -> None:
        """Store a new conversation with its greeting."""
        if conversation.channel_key is not None:
            live = await self.find_by_channel(
                conversation.channel, conversation.channel_key, conversation.created_at
            )
            if live is not None:
                raise DuplicateChannelKeyError(conversation.channel_key)
        self._conversations[conversation.id] = conversation
        self._turns[conversation.id] = [greeting]

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
        self._leads[conversation_id] = Lead(
            id=old.id if old else lead_id(conversation_id),
            conversation_id=conversation_id,
            status=change.status,
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
        """Erase the conversation, its turns and its lead."""
        self._turns.pop(conversation_id, None)
        self._leads.pop(conversation_id, None)
        return self._conversations.pop(conversation_id, None) is not None

    async def purge_expired(self, now: dt.datetime) -> int:
        """Erase expired conversations; their leads stay, detached."""
        expired = [cid for cid, c in self._conversations.items() if c.expires_at <= now]
        for cid in expired:
            del self._conversations[cid]
            self._turns.pop(cid, None)
            lead = self._leads.pop(cid, None)
            if lead is not None:
                self._leads[f"detached:{lead.id}"] = lead.model_copy(
                    update={"conversation_id": None}
                )
        return len(expired)

    async def leads(
        self, *, status: LeadStatus | None = None, limit: int = 50, before: str | None = None
    ) -> list[Lead]:
        """Leads, most recently updated first."""
        found = sorted(
            (lead for lead in self._leads.values() if status is None or lead.status == status),
            key=lambda lead: (lead.updated_at, lead.id),
            reverse=True,
        )
        if before is not None:
            after = parse_lead_cursor(before)
            found = [lead for lead in found if (lead.updated_at, lead.id) < after]
        return found[:limit]

    async def stats(self, now: dt.datetime) -> Stats:
        """Counts over live conversations, their turns and every lead."""
        live = [c for c in self._conversations.values() if c.expires_at > now]
        turns = [t for c in live for t in self._turns.get(c.id, []) if t.kind != "start"]
        by_channel: dict[str, int] = {}
        for conv in live:
            by_channel[conv.channel] = by_channel.get(conv.channel, 0) + 1
        by_status: dict[str, int] = {}
        for lead in self._leads.values():
            by_status[lead.status] = by_status.get(lead.status, 0) + 1
        calls = sum(t.llm_calls for t in turns)
        return Stats(
            conversations=len(live),
            conversations_complete=sum(1 for c in live if c.state.phase == "complete"),
            conversations_by_channel=by_channel,
            turns=len(turns),
            blocked_turns=sum(1 for t in turns if t.blocked),
            llm_calls=calls,
            llm_calls_per_turn=calls / len(turns) if turns else 0.0,
            mean_latency_ms=sum(t.latency_ms for t in turns) / len(turns) if turns else 0.0,
            leads=len(self._leads),
            leads_by_status=by_status,
        )
