"""Request and response bodies of the HTTP API (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import Language
from realty.pipeline.describe import BriefDisplay
from realty.services.conversation import ConversationView, TurnResult
from realty.services.wire import ClientMessageId
from realty.store.base import (
    Channel,
    Lead,
    LeadStatus,
    Stats,
    TranscriptEntry,
)

_IN = ConfigDict(extra="forbid", frozen=True)

BRIEF_EXAMPLE: dict[str, Any] = {
    "fields": {
        "property_type": {"value": "office", "text": "office", "status": "valid"},
        "city": {"value": "Mexico City", "country": "MX", "status": "valid"},
        "budget": {"amount": 20000, "currency": "USD", "period": None, "status": "valid"},
        "size": {"m2": 500, "original": "500m²", "status": "valid"},
    },
    "extras": {},
    "missing": [],
    "complete": True,
    "language": "en",
}


class BriefPublic(BaseModel):
    """The canonical brief (README, "The brief"): values with provenance per field."""

    model_config = ConfigDict(json_schema_extra={"examples": [BRIEF_EXAMPLE]})

    fields: dict[str, dict[str, Any]]
    extras: dict[str, dict[str, Any]]
    missing: list[str]
    complete: bool
    language: Language


class ConversationCreate(BaseModel):
    """Open a conversation, optionally with the prospect's first message."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{}, {"language": "es"}, {"text": "I need an office in Mexico City."}]
        },
    )

    language: Language | None = Field(
        default=None, description="Start in this language; default: detected from the text."
    )
    text: str | None = Field(
        default=None,
        min_length=1,
        description="A first message (at most REALTY_MAX_MESSAGE_CHARS characters).",
    )
    client_message_id: ClientMessageId | None = None


class MessageCreate(BaseModel):
    """One message from the prospect."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"text": "I can spend 20,000 USD for 500m².", "client_message_id": "m-0002"}
            ]
        },
    )

    text: str = Field(
        min_length=1,
        description="At most REALTY_MAX_MESSAGE_CHARS (default 4,000) characters; a longer "
        "text is refused with 413, never truncated.",
    )
    client_message_id: ClientMessageId | None = Field(
        default=None,
        description="Sending the same id again returns the stored result; nothing is "
        "processed twice.",
    )


class TurnPublic(BaseModel):
    """What one message produced."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "turn": 2,
                    "seq": 3,
                    "reply": "Here is your brief: office in Mexico City, budget 20,000 USD, "
                    "500 m². Is everything correct?",
                    "brief": BRIEF_EXAMPLE,
                    "actions": ["summary", "brief_completed"],
                    "blocked": False,
                    "replayed": False,
                    "client_message_id": "m-0002",
                    "llm_calls": 0,
                    "latency_ms": 1.4,
                }
            ]
        }
    )

    turn: int = Field(description="User turns handled so far (blocked ones do not count).")
    seq: int = Field(description="Position in the conversation's log (1: the greeting).")
    reply: str
    brief: BriefPublic
    actions: list[str]
    blocked: bool = Field(
        description="The message was refused (empty, too long, an attack); nothing changed."
    )
    replayed: bool = Field(
        description="Read back for a repeated client_message_id (or Idempotency-Key)."
    )
    client_message_id: str | None = None
    llm_calls: int
    latency_ms: float
    refining: bool = Field(
        default=False,
        description="The model is still reading this message (the reply did not wait past "
        "REALTY_LLM_REPLY_DEADLINE_MS): a `refine` entry may follow, pushed on the WebSocket "
        "and kept in the history.",
    )
    display: BriefDisplay = Field(
        description="The brief in words in the conversation's language, for screens: each "
        "value with its label, source and status, what is missing, progress, the summary."
    )

    @classmethod
    def of(cls, result: TurnResult) -> TurnPublic:
        """From a service result."""
        return cls.model_validate(turn_payload(result))


def turn_payload(result: TurnResult) -> dict[str, Any]:
    """A service result as the JSON of :class:`TurnPublic` (built without validation)."""
    return {
        "turn": result.turn,
        "seq": result.seq,
        "reply": result.reply,
        "brief": result.brief,
        "actions": list(result.actions),
        "blocked": result.blocked,
        "replayed": result.replayed,
        "client_message_id": result.client_message_id,
        "llm_calls": result.llm_calls,
        "latency_ms": result.latency_ms,
        "refining": result.refining,
        "display": result.display.model_dump(mode="json") if result.display else None,
    }


class JSONBody(Response):
    """A JSON response serialised with orjson, for bodies that are already plain data."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """``content`` as compact UTF-8 JSON."""
        return orjson.dumps(content)


class ConversationCreated(TurnPublic):
    """A new conversation: its id, its bearer token (shown once) and the first reply."""

    id: str
    token: str = Field(description="Bearer token for this conversation only; not retrievable.")
    expires_at: dt.datetime = Field(description="Idle expiry; every message extends it.")


class HistoryEntry(TranscriptEntry):
    """One entry of the conversation log, as its owner sees it."""

    accepted: list[str]
    client_message_id: str | None


class ConversationPublic(BaseModel):
    """A conversation: its brief and its history."""

    id: str
    channel: Channel
    language: Language
    turns: int
    brief: BriefPublic
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    history: list[HistoryEntry]
    display: BriefDisplay

    @classmethod
    def of(cls, view: ConversationView) -> ConversationPublic:
        """From a service view."""
        return cls(
            id=view.id,
            channel=view.channel,
            language=view.language,
            turns=view.turns,
            brief=BriefPublic.model_validate(view.brief),
            created_at=view.created_at,
            updated_at=view.updated_at,
            expires_at=view.expires_at,
            history=[HistoryEntry.of(r) for r in view.history],
            display=view.display,
        )


class LeadPublic(BaseModel):
    """A completed brief for brokers."""

    id: str
    conversation_id: str | None = Field(description="null once the conversation expired.")
    status: LeadStatus
    brief: BriefPublic
    language: str
    channel: Channel
    contact: str | None
    city: str | None = Field(description="The brief's city (canonical name).")
    property_type: str | None = Field(description="The brief's property kind.")
    created_at: dt.datetime
    updated_at: dt.datetime
    display: BriefDisplay

    @classmethod
    def of(cls, lead: Lead, display: BriefDisplay) -> LeadPublic:
        """From a stored lead and its brief in words."""
        data = lead.model_dump()
        data["brief"] = BriefPublic.model_validate(lead.brief)
        return cls.model_validate({**data, "display": display})


class LeadDetail(LeadPublic):
    """A lead with its conversation's transcript (kept with the lead after the conversation
    expires)."""

    transcript: list[TranscriptEntry]


class LeadPage(BaseModel):
    """One page of leads, most recently updated first."""

    items: list[LeadPublic]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class StatsPublic(Stats):
    """Aggregate numbers over live conversations, their turns and all leads."""
