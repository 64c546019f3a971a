"""The staff dashboard page: key numbers, charts over a window of days, and the leads.

Streamlit runs this file as a page script (``__name__ == "__main__"``); importing it has no
side effect. The staff key is asked for and kept in this browser session only, unless the
deployment sets ``REALTY_UI_STAFF_KEY`` (a staff-only deployment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import altair as alt
import streamlit as st

from realty_ui import charts
from realty_ui.client import (
    EXPORT_CAP,
    ApiClient,
    ApiProblem,
    ApiUnavailable,
    Forbidden,
    Lead,
    LeadFilters,
    NotFound,
    Stats,
    TranscriptEntry,
    Unauthorized,
)
from realty_ui.common import client_address, connect, problem_message, settings_or_stop
from realty_ui.i18n import Language, kind_name, text
from realty_ui.leads import export_csv, field_text
from realty_ui.settings import UiSettings

KEY_STATE = "staff_key"
KEY_INPUT = "staff_key_input"
KEY_ERROR = "staff_key_error"
WINDOWS = (7, 14, 30, 90)
DEFAULT_WINDOW = 14
TABLE_LIMIT = 200  # one API page: the table shows the most recently updated leads
ANY = ""

Chart = Callable[[Stats, Language], alt.Chart | None]


def main() -> None:
    """Render the page."""
    settings = settings_or_stop()
    language = settings.language
    st.title(text(language, "dash_title"), anchor=False)
    key = staff_key(settings)
    if key is None:
        _sign_in(language)
        return
    with connect(settings, staff_key=key) as api:
        _dashboard(api, settings, key, language)


def staff_key(settings: UiSettings) -> str | None:
    """The deployment's key, or the one entered in this browser session."""
    if settings.staff_key is not None:
        return settings.staff_key.get_secret_value()
    entered = st.session_state.get(KEY_STATE)
    return entered if isinstance(entered, str) and entered else None


def _sign_in(language: Language) -> None:
    error = st.session_state.get(KEY_ERROR)
    if isinstance(error, str):
        st.error(error, icon=":material/key_off:")
    with st.form("staff_sign_in", width=420):
        st.text_input(
            text(language, "staff_key"),
            type="password",
            key=KEY_INPUT,
            help=text(language, "staff_key_help"),
        )
        st.form_submit_button(text(language, "sign_in"), key="sign_in", on_click=_keep_key)


def _keep_key() -> None:
    entered = st.session_state.get(KEY_INPUT)
    key = entered.strip() if isinstance(entered, str) else ""
    st.session_state[KEY_INPUT] = ""
    st.session_state.pop(KEY_ERROR, None)
    if key:
        st.session_state[KEY_STATE] = key


def _sign_out() -> None:
    st.session_state.pop(KEY_STATE, None)
    st.session_state.pop(KEY_ERROR, None)


def _dashboard(api: ApiClient, settings: UiSettings, key: str, language: Language) -> None:
    top = st.container(horizontal=True, vertical_alignment="bottom")
    with top:
        chosen = st.segmented_control(
            text(language, "window"),
            WINDOWS,
            default=DEFAULT_WINDOW,
            format_func=lambda days: text(language, "days_n", days=days),
            key="window",
        )
        if settings.staff_key is None:
            st.button(text(language, "sign_out"), key="sign_out", on_click=_sign_out)
    days = chosen if isinstance(chosen, int) else DEFAULT_WINDOW
    try:
        stats = api.stats(days)
    except ApiProblem as exc:
        _refused(exc, language)
        return
    _key_numbers(stats, language)
    _charts(stats, language)
    st.divider()
    _leads(api, stats, settings, key, language)


def _refused(problem: ApiProblem, language: Language) -> None:
    """Why the staff API said no, and what to do."""
    if isinstance(problem, Unauthorized):
        _sign_out()
        st.session_state[KEY_ERROR] = text(language, "err_wrong_key")
        st.error(text(language, "err_wrong_key"), icon=":material/key_off:")
        _sign_in_again(language)
    elif isinstance(problem, Forbidden):
        st.error(text(language, "err_staff_disabled"), icon=":material/block:")
    elif isinstance(problem, ApiUnavailable):
        st.error(text(language, "err_dash_unavailable"), icon=":material/cloud_off:")
    else:
        st.error(problem_message(language, problem, doing="change"), icon=":material/error:")


def _sign_in_again(language: Language) -> None:
    st.session_state.pop(KEY_ERROR, None)  # already shown above
    with st.form("staff_sign_in_again", width=420):
        st.text_input(text(language, "staff_key"), type="password", key=KEY_INPUT)
        st.form_submit_button(text(language, "sign_in"), key="sign_in", on_click=_keep_key)


def _key_numbers(stats: Stats, language: Language) -> None:
    with st.container(horizontal=True):
        st.metric(text(language, "m_conversations"), f"{stats.conversations:,}", border=True)
        st.metric(text(language, "m_engaged"), f"{stats.conversations_engaged:,}", border=True)
        st.metric(text(language, "m_completion"), f"{stats.completion_rate:.0%}", border=True)
        st.metric(text(language, "m_leads"), f"{stats.leads:,}", border=True)
        st.metric(text(language, "m_blocked"), f"{stats.blocked_turns:,}", border=True)
        st.metric(text(language, "m_llm_per_turn"), f"{stats.llm_calls_per_turn:.2f}", border=True)
        st.metric(text(language, "m_p50"), _ms(stats.p50_latency_ms), border=True)
        st.metric(text(language, "m_p95"), _ms(stats.p95_latency_ms), border=True)
        st.metric(text(language, "m_sentiment"), _sentiment(stats.mean_sentiment), border=True)


def _sentiment(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _charts(stats: Stats, language: Language) -> None:
    grid: list[tuple[str, Chart, str | None]] = [
        ("c_per_day", charts.per_day, None),
        ("c_completion", charts.completion_per_day, None),
        ("c_turns_to_completion", charts.turns_to_completion, None),
        ("c_fill_rate", charts.fill_rate, None),
        ("c_blocked_day", charts.blocked_per_day, None),
        ("c_blocked_reason", charts.blocked_by_reason, None),
        (
            "c_llm_histogram",
            charts.llm_calls_histogram,
            text(language, "mean_calls", mean=f"{stats.llm_calls_per_turn:.2f}"),
        ),
        ("c_latency", charts.latency_per_day, None),
        ("c_intents", charts.turns_by_intent, None),
    ]
    for start in range(0, len(grid), 2):
        for column, (title, build, note) in zip(
            st.columns(2, gap="medium"), grid[start : start + 2], strict=False
        ):
            with column.container(border=True):
                st.subheader(text(language, title), anchor=False)
                if note:
                    st.caption(note)
                chart = build(stats, language)
                if chart is None:
                    st.info(text(language, "no_data"), icon=":material/hourglass_empty:")
                else:
                    st.altair_chart(chart, width="stretch")


def _leads(
    api: ApiClient, stats: Stats, settings: UiSettings, key: str, language: Language
) -> None:
    st.header(text(language, "leads"), anchor=False)
    filters = _filters(stats, language)
    try:
        page = api.leads(filters, limit=TABLE_LIMIT)
    except ApiProblem as exc:
        _refused(exc, language)
        return
    if not page.items:
        st.info(text(language, "no_leads"), icon=":material/search_off:")
        return
    st.dataframe([_table_row(lead, language) for lead in page.items], hide_index=True)
    address = client_address()

    def export() -> bytes:
        # Runs when the button is clicked: fetches every matching lead (up to the cap).
        client = ApiClient(
            settings.api_url, timeout=settings.timeout_s, staff_key=key, forwarded_for=address
        )
        with client:
            return export_csv(client, filters)

    st.download_button(
        text(language, "download_csv"),
        data=export,
        file_name=f"leads-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.csv",
        mime="text/csv",
        key="download_csv",
        icon=":material/download:",
        on_click="ignore",
    )
    st.caption(text(language, "export_capped", cap=f"{EXPORT_CAP:,}"))
    _detail(api, page.items, language)


def _filters(stats: Stats, language: Language) -> LeadFilters:
    cities = [ANY, *sorted(stats.leads_by_city)]
    kinds = [ANY, *sorted(stats.leads_by_type)]
    statuses = [ANY, "new", "confirmed", "handoff"]
    city, kind, status, start, end = st.columns(5)
    chosen_city = city.selectbox(
        text(language, "f_city"),
        cities,
        format_func=lambda value: value or text(language, "any"),
        key="filter_city",
    )
    chosen_kind = kind.selectbox(
        text(language, "f_type"),
        kinds,
        format_func=lambda value: kind_name(language, value) if value else text(language, "any"),
        key="filter_type",
    )
    chosen_status = status.selectbox(
        text(language, "f_status"),
        statuses,
        format_func=lambda value: (
            text(language, f"status_{value}") if value else text(language, "any")
        ),
        key="filter_status",
    )
    created_from = start.date_input(
        text(language, "f_created_from"), value=None, key="filter_from", format="YYYY-MM-DD"
    )
    created_to = end.date_input(
        text(language, "f_created_to"), value=None, key="filter_to", format="YYYY-MM-DD"
    )
    if created_from and created_to and created_from > created_to:
        created_from, created_to = created_to, created_from
    return LeadFilters.model_validate(
        {
            "city": chosen_city or None,
            "property_type": chosen_kind or None,
            "status": chosen_status or None,
            "created_from": created_from,
            "created_to": created_to,
        }
    )


def _table_row(lead: Lead, language: Language) -> dict[str, str]:
    return {
        text(language, "col_updated"): f"{lead.updated_at:%Y-%m-%d %H:%M}",
        text(language, "col_status"): text(language, f"status_{lead.status}"),
        text(language, "col_city"): field_text(lead, "city") or (lead.city or ""),
        text(language, "col_type"): field_text(lead, "property_type"),
        text(language, "col_summary"): lead.display.summary or "",
        text(language, "col_contact"): lead.contact or "",
        text(language, "col_channel"): lead.channel,
        text(language, "col_created"): f"{lead.created_at:%Y-%m-%d %H:%M}",
        text(language, "col_id"): lead.id,
    }


def _lead_title(lead: Lead) -> str:
    summary = lead.display.summary or lead.id
    return f"{lead.updated_at:%Y-%m-%d %H:%M} · {summary}"


def _detail(api: ApiClient, leads: list[Lead], language: Language) -> None:
    st.subheader(text(language, "lead_detail"), anchor=False)
    by_id = {lead.id: lead for lead in leads}
    chosen = st.selectbox(
        text(language, "choose_lead"),
        list(by_id),
        format_func=lambda lead_id: _lead_title(by_id[lead_id]),
        key="lead_choice",
    )
    if chosen is None:
        return
    try:
        lead = api.lead(chosen)
    except NotFound:
        st.warning(text(language, "lead_gone"), icon=":material/search_off:")
        return
    except ApiProblem as exc:
        _refused(exc, language)
        return
    about, talk = st.columns([2, 3], gap="large")
    with about.container(border=True):
        st.markdown(f"**{text(language, 'lead_brief')}**")
        for shown in [*lead.display.fields, *lead.display.extras]:
            st.text(f"{shown.label}: {shown.text}")
        st.divider()
        facts = [
            ("lead_status", text(language, f"status_{lead.status}")),
            ("lead_contact", lead.contact or text(language, "none")),
            ("lead_channel", lead.channel),
            ("lead_language", lead.language),
            ("lead_created", f"{lead.created_at:%Y-%m-%d %H:%M} UTC"),
            ("lead_updated", f"{lead.updated_at:%Y-%m-%d %H:%M} UTC"),
        ]
        for label, value in facts:
            st.text(f"{text(language, label)}: {value}")
    with talk.container(border=True, height=520, autoscroll=False):
        st.markdown(f"**{text(language, 'transcript')}**")
        for entry in lead.transcript:
            kind = text(language, f"kind_{entry.kind}")
            if entry.kind != "start":
                with st.chat_message("user"):
                    st.caption(f"{kind} · {entry.created_at:%Y-%m-%d %H:%M:%S}")
                    st.text(entry.text)
                    if entry.intent is not None:
                        st.caption(_intent_note(entry, language))
                    if entry.blocked:
                        st.caption(text(language, "blocked_note"))
            with st.chat_message("assistant"):
                st.text(entry.reply)


def _intent_note(entry: TranscriptEntry, language: Language) -> str:
    """ "search (0.83) · sentiment +0.40": what a message wanted and how it felt."""
    assert entry.intent is not None
    note = text(language, f"intent_{entry.intent}")
    if entry.intent_confidence is not None:
        note += f" ({entry.intent_confidence:.2f})"
    if entry.sentiment is not None:
        note += f" · {text(language, 'm_sentiment').lower()} {entry.sentiment:+.2f}"
    return note


if __name__ == "__main__":
    main()
