"""The dashboard's charts, built from :class:`~realty_ui.client.Stats` (Altair, no Streamlit).

Each function returns a chart, or ``None`` when the window holds nothing to draw. Data is
passed inline as rows, so no data-frame library is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt

from realty_ui.client import Stats
from realty_ui.i18n import Language, text

Row = Mapping[str, str | int | float]

HEIGHT = 240
BAR = 36  # bar thickness in pixels: a lone bar does not fill the chart
CORE_FIELDS = ("property_type", "city", "budget", "size")
_BLUE = "#1f6feb"
_GREEN = "#2da44e"
_ORANGE = "#d4760a"
_RED = "#cf222e"


def _data(rows: Sequence[Row]) -> alt.InlineData:
    return alt.InlineData(values=[dict(row) for row in rows])


def _day_axis(language: Language) -> alt.X:
    # Whole UTC days: bars get a day's width, and dates are not shifted by the viewer's zone.
    return alt.X(
        "utcyearmonthdate(date):T",
        title=text(language, "ax_date"),
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %d", labelAngle=0),
    )


def _count(
    channel: type[alt.X] | type[alt.Y], language: Language, key: str = "ax_count"
) -> alt.X | alt.Y:
    return channel("count:Q", title=text(language, key), axis=alt.Axis(tickMinStep=1))


def _date_tip(language: Language) -> alt.Tooltip:
    return alt.Tooltip("utcyearmonthdate(date):T", title=text(language, "ax_date"))


def _histogram(
    counts: Mapping[str, int], field: str, titles: tuple[str, str], color: str, language: Language
) -> alt.Chart | None:
    """Bars of how many items had each whole-number value of ``field``."""
    rows: list[Row] = [
        {field: int(value), "count": count}
        for value, count in sorted(counts.items(), key=lambda kv: int(kv[0]))
        if value.isdigit()
    ]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=HEIGHT)
        .mark_bar(color=color, size=BAR)
        .encode(
            x=alt.X(f"{field}:O", title=text(language, titles[0]), axis=alt.Axis(labelAngle=0)),
            y=_count(alt.Y, language, titles[1]),
            tooltip=[f"{field}:O", "count:Q"],
        )
    )
    return chart


def per_day(stats: Stats, language: Language) -> alt.Chart | None:
    """Conversations opened per day, and how many of them completed their brief."""
    opened, completed = text(language, "s_opened"), text(language, "s_completed")
    rows: list[Row] = []
    for day in stats.days:
        rows.append({"date": day.date.isoformat(), "series": opened, "count": day.conversations})
        rows.append({"date": day.date.isoformat(), "series": completed, "count": day.completed})
    if not any(row["count"] for row in rows):
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=HEIGHT)
        .mark_line(point=True)
        .encode(
            x=_day_axis(language),
            y=_count(alt.Y, language),
            color=alt.Color(
                "series:N",
                title=None,
                sort=[opened, completed],
                scale=alt.Scale(domain=[opened, completed], range=[_BLUE, _GREEN]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                _date_tip(language),
                "series:N",
                "count:Q",
            ],
        )
    )
    return chart


def completion_per_day(stats: Stats, language: Language) -> alt.Chart | None:
    """The share of each day's conversations that completed their brief."""
    rows: list[Row] = [
        {"date": day.date.isoformat(), "rate": day.completed / day.conversations}
        for day in stats.days
        if day.conversations
    ]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=HEIGHT)
        .mark_line(point=True, color=_GREEN)
        .encode(
            x=_day_axis(language),
            y=alt.Y(
                "rate:Q",
                title=text(language, "ax_rate"),
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            tooltip=[
                _date_tip(language),
                alt.Tooltip("rate:Q", format=".0%"),
            ],
        )
    )
    return chart


def turns_to_completion(stats: Stats, language: Language) -> alt.Chart | None:
    """How many conversations first completed at each user turn."""
    return _histogram(stats.turns_to_completion, "turns", ("ax_turns", "ax_count"), _BLUE, language)


def fill_rate(stats: Stats, language: Language) -> alt.Chart | None:
    """The share of engaged conversations holding each field (fields never filled left out,
    except the core ones)."""
    rows: list[Row] = [
        {"field": key.replace("_", " "), "rate": rate}
        for key, rate in stats.fill_rate.items()
        if rate > 0 or key in CORE_FIELDS
    ]
    if not rows or stats.conversations_engaged == 0:
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=max(HEIGHT, 26 * len(rows)))
        .mark_bar(color=_BLUE, size=18)
        .encode(
            y=alt.Y("field:N", title=text(language, "ax_field"), sort="-x"),
            x=alt.X(
                "rate:Q",
                title=text(language, "ax_rate"),
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            tooltip=["field:N", alt.Tooltip("rate:Q", format=".0%")],
        )
    )
    return chart


def blocked_per_day(stats: Stats, language: Language) -> alt.Chart | None:
    """Messages the guard refused, per day."""
    rows: list[Row] = [
        {"date": day.date.isoformat(), "count": day.blocked_turns} for day in stats.days
    ]
    if not any(row["count"] for row in rows):
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=HEIGHT)
        .mark_bar(color=_RED)
        .encode(
            x=_day_axis(language),
            y=_count(alt.Y, language),
            tooltip=[
                _date_tip(language),
                "count:Q",
            ],
        )
    )
    return chart


def blocked_by_reason(stats: Stats, language: Language) -> alt.Chart | None:
    """Messages the guard refused, by reason (``empty``, ``too_long``, ``injection``, …)."""
    counts = {reason.replace("_", " "): n for reason, n in stats.blocked_by_reason.items()}
    return _bars(counts, "reason", _RED, language)


def turns_by_intent(stats: Stats, language: Language) -> alt.Chart | None:
    """User messages by what they wanted (give details, ask a question, search…)."""
    counts = {text(language, f"intent_{i}"): n for i, n in stats.turns_by_intent.items()}
    return _bars(counts, "intent", _ORANGE, language)


def _bars(counts: dict[str, int], name: str, color: str, language: Language) -> alt.Chart | None:
    """One horizontal bar per label with a count, longest first (``None``: all zero)."""
    rows: list[Row] = [{name: label, "count": n} for label, n in counts.items() if n]
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=HEIGHT)
        .mark_bar(color=color, size=BAR)
        .encode(
            y=alt.Y(f"{name}:N", title=text(language, f"ax_{name}"), sort="-x"),
            x=_count(alt.X, language),
            tooltip=[f"{name}:N", "count:Q"],
        )
    )
    return chart


def llm_calls_histogram(stats: Stats, language: Language) -> alt.Chart | None:
    """How many user turns made 0, 1, 2… model calls."""
    return _histogram(
        stats.llm_calls_histogram, "calls", ("ax_calls", "ax_turns"), _ORANGE, language
    )


def latency_per_day(stats: Stats, language: Language) -> alt.Chart | None:
    """The p50 and p95 turn latency of each day with turns."""
    rows: list[Row] = []
    for day in stats.days:
        for name, value in (("p50", day.p50_latency_ms), ("p95", day.p95_latency_ms)):
            if value is not None:
                rows.append({"date": day.date.isoformat(), "series": name, "ms": value})
    if not rows:
        return None
    chart: alt.Chart = (
        alt.Chart(_data(rows), height=HEIGHT)
        .mark_line(point=True)
        .encode(
            x=_day_axis(language),
            y=alt.Y("ms:Q", title=text(language, "ax_ms")),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=["p50", "p95"], range=[_BLUE, _ORANGE]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                _date_tip(language),
                "series:N",
                alt.Tooltip("ms:Q", format=".1f"),
            ],
        )
    )
    return chart
