"""The chat's sidebar: "Your brief" with progress, values, edits, extras and Confirm.

Values come from the API in words (``display``), in the conversation's language; so do the
labels. Every action (an edit, a removal, Confirm, a language switch) is a callback that calls
the API before the page reruns; its reply joins the chat after a short note.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from realty_ui.client import (
    Access,
    ApiClient,
    ApiProblem,
    BriefEdit,
    FieldProblem,
    InvalidInput,
    NotFound,
    Turn,
    ValueView,
)
from realty_ui.common import chat_session, connect, problem_message, reset_chat_session
from realty_ui.conversation import apply_turn, note_lines
from realty_ui.i18n import (
    LANGUAGE_NAMES,
    LANGUAGES,
    PROPERTY_KINDS,
    Language,
    as_language,
    kind_name,
    text,
)
from realty_ui.markup import verbatim
from realty_ui.settings import get_ui_settings
from realty_ui.state import ChatSession

LANGUAGE_KEY = "brief_language"
# The fields a form can set: words for budget and size, a kind, a city.
WORDS_FIELDS = ("budget", "size", "city")
EDITABLE = ("property_type", "city", "budget", "size")
_HINTS = {"budget": "hint_budget", "size": "hint_size", "city": "hint_city"}

Action = Callable[[ApiClient, Access], Turn]


def render(session: ChatSession, default_language: Language) -> None:
    """Draw the sidebar for ``session``."""
    display = session.display
    language = display.language if display is not None else default_language
    with st.sidebar:
        st.subheader(text(language, "your_brief"), anchor=False)
        if display is not None:
            share = display.filled / display.required if display.required else 1.0
            st.progress(
                min(1.0, share),
                text=text(language, "progress", filled=display.filled, required=display.required),
            )
        if session.sidebar_error:
            st.error(session.sidebar_error, icon=":material/error:")
        if session.edit_errors:
            _edit_refusal(session.edit_errors, language)
        if display is not None:
            for value in display.fields:
                _value_row(value, session, language)
            _still_needed(session, language)
            _extras(display.extras, language)
            _summary(session, language)
        st.divider()
        if display is not None:
            _language_switch(language)
        st.button(
            text(language, "start_over"),
            key="start_over",
            icon=":material/restart_alt:",
            on_click=_start_over,
            args=(language,),
            width="stretch",
        )


def _language_switch(language: Language) -> None:
    # The switch shows the conversation's language, which may also change by writing.
    st.session_state[LANGUAGE_KEY] = language
    st.radio(
        text(language, "language"),
        LANGUAGES,
        format_func=lambda code: LANGUAGE_NAMES[as_language(code)],
        key=LANGUAGE_KEY,
        horizontal=True,
        on_change=_switch_language,
    )


def _value_row(value: ValueView, session: ChatSession, language: Language) -> None:
    """A value: its label, where it came from, the value in words, and its edit control."""
    with st.container(border=True, gap="xxsmall"):
        words, control = st.columns([6, 1], vertical_alignment="center", gap="xsmall")
        with words:
            st.markdown(_heading(value, language))
            st.text(value.text)
        with control:
            if value.key in EDITABLE:
                with st.popover("", icon=":material/edit:", help=text(language, "edit")):
                    _edit_form(value.key, value.label, session, language, removable=True)
            elif not value.required:
                _remove_button(control, f"remove_{value.key}", value.key, language)


def _remove_button(place: DeltaGenerator, widget_key: str, field: str, language: Language) -> None:
    """A bin icon that removes ``field`` (an extra) from the brief."""
    place.button(
        "",
        key=widget_key,
        icon=":material/delete:",
        help=text(language, "remove"),
        type="tertiary",
        on_click=_remove_extra,
        args=(field,),
    )


def _heading(value: ValueView, language: Language) -> str:
    """``**Label** · source`` (+ an "unconfirmed" badge), as Markdown."""
    source = text(language, f"source_{value.source}")
    heading = f"**{verbatim(value.label.capitalize())}** :gray[· {verbatim(source)}]"
    if value.status == "unconfirmed":
        heading += f" :orange-badge[{verbatim(text(language, 'unconfirmed'))}]"
    return heading


def _edit_form(
    key: str, label: str, session: ChatSession, language: Language, *, removable: bool
) -> None:
    """Words (budget, size, city) or a kind (property type), then Save or Remove."""
    with st.form(f"form_{key}", border=False):
        if key == "property_type":
            current = _current_kind(session)
            st.selectbox(
                text(language, "choose_kind"),
                PROPERTY_KINDS,
                index=PROPERTY_KINDS.index(current) if current in PROPERTY_KINDS else 0,
                format_func=lambda kind: kind_name(language, str(kind)),
                key=f"edit_{key}",
            )
        else:
            st.text_input(
                f"{verbatim(label.capitalize())} · {text(language, 'value_words')}",
                key=f"edit_{key}",
                placeholder=text(language, _HINTS[key]),
                max_chars=200,
            )
        save, remove = st.columns(2)
        save.form_submit_button(
            text(language, "save"), key=f"save_{key}", on_click=_save, args=(key,), type="primary"
        )
        if removable:
            remove.form_submit_button(
                text(language, "remove"), key=f"remove_{key}", on_click=_remove, args=(key,)
            )


def _still_needed(session: ChatSession, language: Language) -> None:
    display = session.display
    if display is None or not display.missing:
        return
    st.markdown(f"**{text(language, 'still_needed')}**")
    for missing in display.missing:
        with st.container(border=True, gap="xxsmall"):
            label, control = st.columns([6, 1], vertical_alignment="center", gap="xsmall")
            label.markdown(f":gray[{verbatim(missing.label.capitalize())}]")
            if missing.key in EDITABLE:
                with control.popover("", icon=":material/add:", help=text(language, "add")):
                    _edit_form(missing.key, missing.label, session, language, removable=False)


def _extras(extras: list[ValueView], language: Language) -> None:
    if not extras:
        return
    st.markdown(f"**{text(language, 'extras')}**")
    with st.container(border=True, gap="xxsmall"):
        for extra in extras:
            label, value, action = st.columns([5, 4, 2], vertical_alignment="center", gap="xsmall")
            label.text(extra.label.capitalize())
            value.text(extra.text)
            _remove_button(action, f"remove_extra_{extra.key}", extra.key, language)


def _summary(session: ChatSession, language: Language) -> None:
    display = session.display
    if display is None or not display.complete or display.summary is None:
        return
    with st.container(border=True, gap="xsmall"):
        st.markdown(f"**{text(language, 'summary')}**")
        st.text(display.summary)
        if session.confirmed:
            st.success(text(language, "confirmed"), icon=":material/check_circle:")
            return
        st.button(
            text(language, "confirm"),
            key="confirm",
            type="primary",
            icon=":material/check:",
            on_click=_confirm,
            width="stretch",
        )


def _edit_refusal(problems: list[FieldProblem], language: Language) -> None:
    lines = [f"- {verbatim(p.field)}: {verbatim(p.message)}" for p in problems if p.field]
    lines += [f"- {verbatim(p.message)}" for p in problems if not p.field]
    st.error(text(language, "edit_refused") + "\n" + "\n".join(lines), icon=":material/block:")


def _current_kind(session: ChatSession) -> str | None:
    brief = session.brief
    found = brief.fields.get("property_type") if brief is not None else None
    return str(found.value) if found is not None and found.value is not None else None


# --- callbacks: they run before the page, so the page draws their outcome -----------------


def _act(note_key: str, action: Action) -> None:
    """Call the API for a sidebar action and record its reply (or why it failed)."""
    session = chat_session()
    language = session.display.language if session.display is not None else "en"
    session.sidebar_error = None
    session.edit_errors = []
    if session.access is None:
        return
    try:
        with connect(get_ui_settings()) as api:
            turn = action(api, session.access)
    except InvalidInput as exc:
        session.edit_errors = exc.problems or [
            FieldProblem(field="", message=exc.detail or exc.title)
        ]
        return
    except NotFound:
        _start_over(language, notice="resumed_gone")
        return
    except ApiProblem as exc:
        session.sidebar_error = problem_message(language, exc, doing="change")
        return
    except ValueError as exc:  # settings made invalid since the page was drawn
        session.sidebar_error = str(exc)
        return
    apply_turn(session, turn, note_lines(note_key, turn))


def _save(key: str) -> None:
    raw = st.session_state.get(f"edit_{key}")
    words = raw.strip() if isinstance(raw, str) else ""
    if not words:
        session = chat_session()
        language = session.display.language if session.display is not None else "en"
        session.edit_errors = [FieldProblem(field="", message=text(language, "empty_value"))]
        return
    edit = BriefEdit.model_validate({key: words})
    _act("note_edit", lambda api, access: api.edit(access, edit))
    if not chat_session().edit_errors and key in WORDS_FIELDS:
        st.session_state[f"edit_{key}"] = ""


def _remove(key: str) -> None:
    edit = BriefEdit.model_validate({key: None})
    _act("note_edit", lambda api, access: api.edit(access, edit))


def _remove_extra(key: str) -> None:
    edit = BriefEdit(extras={key: None})
    _act("note_edit", lambda api, access: api.edit(access, edit))


def _confirm() -> None:
    _act("note_confirm", lambda api, access: api.confirm(access))


def _switch_language() -> None:
    language = as_language(st.session_state.get(LANGUAGE_KEY))
    _act("note_language", lambda api, access: api.switch_language(access, language))


def _start_over(language: Language, notice: str = "started_over") -> None:
    """Leave the conversation (it stays on the server) and open a new one on the next run."""
    reset_chat_session(ChatSession(notice=text(language, notice)))
    st.query_params.clear()
