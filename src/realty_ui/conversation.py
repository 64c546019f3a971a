"""The chat's state changes, without Streamlit: what each API answer does to a session."""

from __future__ import annotations

import json
from collections.abc import Sequence

from realty_ui.client import Access, Conversation, ConversationCreated, HistoryEntry, Turn
from realty_ui.i18n import Language, text
from realty_ui.state import ChatLine, ChatSession


def apply_turn(session: ChatSession, turn: Turn, lines: Sequence[ChatLine]) -> None:
    """Record ``turn``: its bubbles, the brief after it, whether it confirmed the brief."""
    session.lines.extend(lines)
    session.brief = turn.brief
    session.display = turn.display
    session.last_seq = max(session.last_seq, turn.seq)
    session.refining = turn.refining
    if not turn.blocked:
        session.confirmed = confirms(turn.actions)


def message_lines(sent: str, turn: Turn) -> list[ChatLine]:
    """The bubbles of a message: the prospect's words and the reply."""
    return [ChatLine("user", sent, blocked=turn.blocked), ChatLine("assistant", turn.reply)]


def note_lines(note_key: str, turn: Turn) -> list[ChatLine]:
    """The bubbles of an action from the sidebar: a short note and the reply."""
    return [
        ChatLine("note", text(turn.display.language, note_key)),
        ChatLine("assistant", turn.reply),
    ]


def started(session: ChatSession, created: ConversationCreated, sent: str | None) -> None:
    """Record a new conversation (its greeting, or the reply to its first message)."""
    session.access = Access(created.id, created.token)
    lines = (
        message_lines(sent, created) if sent is not None else [ChatLine("assistant", created.reply)]
    )
    apply_turn(session, created, lines)


def resumed(session: ChatSession, access: Access, conversation: Conversation) -> None:
    """Rebuild the chat from a conversation's stored history (after a reload); ``access``
    opened it, and the next messages go to it."""
    session.access = access
    language = conversation.display.language
    session.lines = [
        line for entry in conversation.history for line in entry_lines(entry, language)
    ]
    session.brief = conversation.brief
    session.display = conversation.display
    session.last_seq = max((entry.seq for entry in conversation.history), default=0)
    session.refining = False
    answered = [entry for entry in conversation.history if not entry.blocked]
    session.confirmed = bool(answered) and confirms(answered[-1].actions)


def caught_up(session: ChatSession, conversation: Conversation) -> bool:
    """Add the entries after the last one shown (a late model reading's ``refine`` entry, or
    turns from another tab); whether anything new arrived."""
    fresh = [entry for entry in conversation.history if entry.seq > session.last_seq]
    if not fresh:
        return False
    language = conversation.display.language
    session.lines.extend(line for entry in fresh for line in entry_lines(entry, language))
    session.brief = conversation.brief
    session.display = conversation.display
    session.last_seq = fresh[-1].seq
    if any(entry.kind == "refine" for entry in fresh):
        session.refining = False
    answered = [entry for entry in fresh if not entry.blocked]
    if answered:
        session.confirmed = confirms(answered[-1].actions)
    return True


def entry_lines(entry: HistoryEntry, language: Language) -> list[ChatLine]:
    """The bubbles of one history entry (notes in ``language``).

    ``start``: the greeting; ``message``: the prospect's words and the reply; ``edit`` and
    ``confirm``: a short note and the reply; ``refine`` (what a late model reading added):
    the reply alone.
    """
    reply = ChatLine("assistant", entry.reply)
    match entry.kind:
        case "start" | "refine":
            return [reply]
        case "message":
            return [ChatLine("user", entry.text, blocked=entry.blocked), reply]
        case "confirm":
            return [ChatLine("note", text(language, "note_confirm")), reply]
        case "edit":
            key = "note_language" if _switches_language(entry.text) else "note_edit"
            return [ChatLine("note", text(language, key)), reply]


def _switches_language(patch: str) -> bool:
    """Whether an edit's patch (stored as JSON) only switched the language."""
    try:
        members = json.loads(patch)
    except ValueError:
        return False
    return isinstance(members, dict) and set(members) == {"language"}


def confirms(actions: Sequence[str]) -> bool:
    """Whether a turn with these action kinds leaves the brief confirmed (a "yes" to a brief
    already confirmed says so)."""
    return "confirmed" in actions or "already_confirmed" in actions
