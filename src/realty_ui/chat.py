"""The prospect's chat page (the app's default page).

Streamlit runs this file as a page script (``__name__ == "__main__"``); importing it has no
side effect. The conversation's id and token live in the session and in the URL (``?c=…&t=…``)
so a reload resumes it from the API's history. Every text a person or the model wrote is shown
with ``st.text``: never parsed as Markdown or HTML.
"""

from __future__ import annotations

import time
import uuid

import streamlit as st

from realty_ui import brief_panel, listings_panel
from realty_ui.client import Access, ApiClient, ApiProblem, MessageTooLong, NotFound
from realty_ui.common import chat_session, connect, problem_message, settings_or_stop
from realty_ui.conversation import apply_turn, caught_up, message_lines, resumed, started
from realty_ui.i18n import Language, text
from realty_ui.settings import UiSettings
from realty_ui.state import ChatLine, ChatSession, Pending

PROMPT_KEY = "chat_prompt"
RETRY_KEY = "chat_retry"
NOTE_AVATAR = ":material/edit_note:"
SIDEBAR_WIDTH = 400  # pixels: the brief's values fit on one line
# While the model still reads the last message, the page asks for its refinement this often
# (seconds), and gives up after REFINE_WAIT_S (the API's model timeout is 30 s by default).
REFINE_POLL_S = 1.5
REFINE_WAIT_S = 60.0


def language_of(session: ChatSession, default: Language) -> Language:
    """The conversation's language (the labels follow it), or ``default`` before one exists."""
    return session.display.language if session.display is not None else default


def main() -> None:
    """Render the page."""
    st.set_page_config(initial_sidebar_state=SIDEBAR_WIDTH)
    session = chat_session()
    settings = settings_or_stop()
    heading = st.container()  # filled once the conversation (and its language) is known
    with connect(settings) as api:
        if session.access is None:
            _begin(api, session, language_of(session, settings.language))
        language = language_of(session, settings.language)
        with heading:
            st.title(text(language, "chat_title"))
            st.caption(text(language, "chat_caption"))
        _prefill_unsent(session)
        prompt = st.chat_input(text(language, "chat_placeholder"), key=PROMPT_KEY)
        _keep_in_url(session.access)
        _show_notices(session, language)
        for line in session.lines:
            show_line(line, language)
        retry = session.pending if st.session_state.pop(RETRY_KEY, False) else None
        if prompt:
            again = session.pending if session.pending and session.pending.text == prompt else None
            message_id = again.client_message_id if again else None
            _send(api, session, prompt, message_id, language)
        elif retry is not None:
            _send(api, session, retry.text, retry.client_message_id, language)
        elif session.pending is not None:
            _show_unsent(session.pending, language)
        # After the turn, so its change of the brief shows at once (fetched only on a change).
        listings_panel.refresh(api, session)
    listings_panel.render(session, language_of(session, settings.language))
    if session.refining:
        _await_refinement(settings, language, time.monotonic())
    brief_panel.render(session, settings.language)


@st.fragment(run_every=REFINE_POLL_S)
def _await_refinement(settings: UiSettings, language: Language, since: float) -> None:
    """While the model reads the last message, fetch what it adds (a ``refine`` entry) and
    redraw the page with it; the chat stays usable meanwhile."""
    session = chat_session()
    if not session.refining or session.access is None:
        return
    if time.monotonic() - since > REFINE_WAIT_S:
        session.refining = False
        return
    try:
        with connect(settings) as api:
            conversation = api.read(session.access, after=session.last_seq)
    except ApiProblem:
        conversation = None  # tried again on the next tick
    if conversation is not None and caught_up(session, conversation):
        st.rerun(scope="app")
    st.caption(text(language, "refining"))


def show_line(line: ChatLine, language: Language) -> None:
    """One bubble; the words as plain text."""
    if line.role == "note":
        with st.chat_message("user", avatar=NOTE_AVATAR):
            st.caption(line.text)
        return
    with st.chat_message(line.role):
        if line.text.strip():
            st.text(line.text)
        else:
            st.caption(text(language, "empty_message"))
        if line.blocked:
            st.caption(text(language, "blocked_note"))


def _begin(api: ApiClient, session: ChatSession, language: Language) -> None:
    """Resume the conversation named in the URL, or open a new one (shows its greeting)."""
    params = st.query_params
    cid, token = params.get("c"), params.get("t")
    if cid and token:
        try:
            with st.spinner(text(language, "connecting")):
                access = Access(cid, token)
                resumed(session, access, api.read(access))
            session.open_error = None
            return
        except NotFound:
            session.notice = text(language, "resumed_gone")
        except ApiProblem as exc:
            _not_started(session, language, exc)
            return
    try:
        with st.spinner(text(language, "connecting")):
            created = api.open_conversation()
    except ApiProblem as exc:
        _not_started(session, language, exc)
        return
    session.open_error = None
    started(session, created, None)


def _not_started(session: ChatSession, language: Language, problem: ApiProblem) -> None:
    # An unsent message already says what is wrong (and opens the conversation when resent).
    pending = session.pending is not None
    session.open_error = None if pending else problem_message(language, problem, doing="start")


def _keep_in_url(access: Access | None) -> None:
    """Put the conversation in the URL, so a reload resumes it."""
    if access is None:
        return
    params = st.query_params
    if params.get("c") != access.conversation_id or params.get("t") != access.token:
        params.update({"c": access.conversation_id, "t": access.token})


def _show_notices(session: ChatSession, language: Language) -> None:
    if session.notice:
        st.info(session.notice, icon=":material/info:")
    if session.open_error:
        st.error(session.open_error, icon=":material/cloud_off:")
        st.caption(text(language, "not_started"))


def _send(
    api: ApiClient,
    session: ChatSession,
    prompt: str,
    client_message_id: str | None,
    language: Language,
) -> None:
    """Send ``prompt`` (the typing state shows meanwhile); keep it to retry if it fails.

    A failure reruns the page, which shows the unsent message, why, and "Send again" (with
    the same ``client_message_id``: the API never handles one message twice).
    """
    message_id = client_message_id or uuid.uuid4().hex
    show_line(ChatLine("user", prompt), language)
    with st.chat_message("assistant"):
        try:
            with st.spinner(text(language, "typing")):
                reply = _exchange(api, session, prompt, message_id)
        except NotFound:
            # The conversation expired meanwhile: start afresh and keep the words to resend.
            session.access = None
            session.lines = []
            session.notice = text(language, "resumed_gone")
            session.pending = Pending(prompt, message_id, text(language, "resumed_gone"))
            st.rerun()
        except ApiProblem as exc:
            error = problem_message(language, exc, doing="send")
            # Sent again as it is, a message over the limit would be refused again.
            retry = not isinstance(exc, MessageTooLong)
            session.pending = Pending(prompt, message_id, error, retryable=retry)
            st.rerun()
        st.text(reply)
    session.pending = None
    session.notice = None


def _exchange(api: ApiClient, session: ChatSession, prompt: str, message_id: str) -> str:
    """Send ``prompt`` (opening the conversation with it if none is open); the reply."""
    if session.access is None:
        created = api.open_conversation(prompt, client_message_id=message_id)
        started(session, created, prompt)
        session.open_error = None
        return created.reply
    turn = api.send(session.access, prompt, message_id)
    apply_turn(session, turn, message_lines(prompt, turn))
    return turn.reply


def _show_unsent(pending: Pending, language: Language) -> None:
    """The message that was not sent, why, and a way to send it again (or to drop it)."""
    with st.chat_message("user"):
        st.text(pending.text)
        st.caption(text(language, "unsent"))
    st.error(pending.error, icon=":material/error:")
    with st.container(horizontal=True):
        if pending.retryable:
            st.button(
                text(language, "send_again"),
                key="send_again",
                type="primary",
                icon=":material/send:",
                on_click=_ask_retry,
            )
        st.button(text(language, "discard"), key="discard_unsent", on_click=_discard)


def _ask_retry() -> None:
    st.session_state[RETRY_KEY] = True


def _discard() -> None:
    chat_session().pending = None


def _prefill_unsent(session: ChatSession) -> None:
    """Put an unsent message back in the input box once, so it can be edited and resent."""
    pending = session.pending
    if pending is not None and not pending.prefilled:
        st.session_state[PROMPT_KEY] = pending.text
        pending.prefilled = True


if __name__ == "__main__":
    main()
