"""What both pages share: settings for this rerun, an API client, errors in words."""

from __future__ import annotations

from typing import Literal

import streamlit as st
from pydantic import ValidationError

from realty_ui.client import (
    ApiClient,
    ApiProblem,
    ApiUnavailable,
    InvalidInput,
    MessageTooLong,
    RateLimited,
)
from realty_ui.i18n import Language, text
from realty_ui.markup import verbatim
from realty_ui.settings import UiSettings, get_ui_settings
from realty_ui.state import ChatSession

CHAT_SESSION_KEY = "chat_session"

Doing = Literal["send", "start", "change"]
_UNAVAILABLE: dict[Doing, str] = {
    "send": "err_unavailable",
    "start": "err_unavailable_start",
    "change": "err_unavailable_action",
}


def chat_session() -> ChatSession:
    """This browser session's chat (created on first use)."""
    found = st.session_state.get(CHAT_SESSION_KEY)
    if isinstance(found, ChatSession):
        return found
    session = ChatSession()
    st.session_state[CHAT_SESSION_KEY] = session
    return session


def reset_chat_session(session: ChatSession) -> None:
    """Replace this browser session's chat with ``session``."""
    st.session_state[CHAT_SESSION_KEY] = session


def settings_or_stop(language: Language = "en") -> UiSettings:
    """The settings for this rerun; an invalid one shows what to fix and stops the page."""
    try:
        return get_ui_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"REALTY_UI_{'.'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        st.error(text(language, "err_settings", detail=problems))
        st.stop()


def client_address() -> str | None:
    """The browser's address as Streamlit saw it (``None`` when unknown, as in tests)."""
    try:
        address: object = st.context.ip_address
    except (AttributeError, RuntimeError):
        return None
    # Under AppTest the context is a stand-in object, not an address.
    return address if isinstance(address, str) and address else None


def connect(settings: UiSettings, staff_key: str | None = None) -> ApiClient:
    """A client of the API for this rerun (close it, or use it in a ``with``)."""
    return ApiClient(
        settings.api_url,
        timeout=settings.timeout_s,
        staff_key=staff_key,
        forwarded_for=client_address(),
    )


def problem_message(language: Language, problem: ApiProblem, *, doing: Doing) -> str:
    """A polite sentence for ``problem``: what happened and what to do (as Markdown).

    Args:
        language: The language to say it in.
        problem: The failure.
        doing: What failed: sending a message, starting (or resuming) the conversation, or
            another action (an edit, a confirmation, a staff read).
    """
    if isinstance(problem, RateLimited):
        return text(language, "err_rate_limited", seconds=problem.retry_after)
    if isinstance(problem, MessageTooLong):
        if problem.limit is None:
            return text(language, "err_too_long_unknown")
        return text(language, "err_too_long", limit=f"{problem.limit:,}")
    if isinstance(problem, ApiUnavailable):
        return text(language, _UNAVAILABLE[doing])
    # The API's words may quote what the prospect wrote: shown verbatim, never as Markdown.
    said = text(language, "err_problem", title=verbatim(problem.title))
    if isinstance(problem, InvalidInput) and problem.problems:
        details = "; ".join(f"{verbatim(p.field)}: {verbatim(p.message)}" for p in problem.problems)
        return f"{said} {details}"
    return f"{said} {verbatim(problem.detail)}" if problem.detail else said
