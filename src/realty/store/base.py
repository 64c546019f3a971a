"""What the conversation service needs from a store (in memory now, SQL for the service)."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from realty.domain.state import ConversationState


class TurnRecord(BaseModel):
    """One user turn as audited: what came in, what was understood, what was answered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    turn: int
    text: str
    blocked: bool
    block_reason: str | None = None
    candidates: list[dict[str, Any]] = []
    accepted: list[str] = []
    rejected: list[dict[str, Any]] = []
    actions: list[str] = []
    reply: str
    llm_calls: int = 0
    latency_ms: float


class ConversationStore(Protocol):
    """Persistence of conversation state snapshots and the append-only turn log."""

    async def load(self, conversation_id: str) -> ConversationState | None:
        """The latest state, or ``None`` for an unknown conversation."""
        ...

    async def save(
        self, conversation_id: str, state: ConversationState, record: TurnRecord | None
    ) -> None:
        """Store the new state and append the turn record (if any)."""
        ...
