"""What a browser session keeps between reruns (in ``st.session_state``), typed.

The classes live here, not in the page scripts, because Streamlit executes a page script
afresh on every rerun: a class defined there would be a new class each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from realty_ui.client import Access, Brief, BriefDisplay, FieldProblem, Matches

Role = Literal["user", "assistant", "note"]


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One bubble of the chat: the prospect's words, the assistant's, or a short note."""

    role: Role
    text: str
    blocked: bool = False


@dataclass(slots=True)
class Pending:
    """A message that could not be sent, kept to retry with the same idempotency key.

    ``retryable`` is false when sending the same words again cannot succeed (over the length
    limit): they stay in the input box to be shortened.
    """

    text: str
    client_message_id: str
    error: str
    retryable: bool = True
    prefilled: bool = False


@dataclass(slots=True)
class ChatSession:
    """The prospect's conversation as this browser session shows it."""

    access: Access | None = None
    lines: list[ChatLine] = field(default_factory=list)
    brief: Brief | None = None
    display: BriefDisplay | None = None
    confirmed: bool = False
    pending: Pending | None = None
    notice: str | None = None
    sidebar_error: str | None = None
    edit_errors: list[FieldProblem] = field(default_factory=list)
    open_error: str | None = None
    last_seq: int = 0  # the newest log entry shown
    refining: bool = False  # the model is still reading the last message
    matches: Matches | None = None  # the listings that fit the brief, when the API gave them
    matches_for: str | None = None  # the brief (and language) ``matches`` were fetched for
    matches_failed: bool = False  # the last fetch failed: tried again on the next change
