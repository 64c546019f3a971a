"""In-process conversation store, used by the terminal chat and batch replay."""

from __future__ import annotations

from realty.domain.state import ConversationState
from realty.store.base import TurnRecord


class InMemoryStore:
    """Keeps states and the append-only turn log in dictionaries."""

    def __init__(self) -> None:
        self._states: dict[str, ConversationState] = {}
        self._turns: dict[str, list[TurnRecord]] = {}

    async def load(self, conversation_id: str) -> ConversationState | None:
        """The latest state, or ``None`` for an unknown conversation."""
        return self._states.get(conversation_id)

    async def save(
        self, conversation_id: str, state: ConversationState, record: TurnRecord | None
    ) -> None:
        """Store the new state and append the turn record (if any)."""
        self._states[conversation_id] = state
        if record is not None:
            self._turns.setdefault(conversation_id, []).append(record)

    async def turns(self, conversation_id: str) -> list[TurnRecord]:
        """Every recorded turn of a conversation, oldest first."""
        return list(self._turns.get(conversation_id, []))
