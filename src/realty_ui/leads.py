"""Leads for staff, without Streamlit: table rows, the CSV export, a lead's brief in words."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from realty_ui.client import EXPORT_CAP, ApiClient, ApiProblem, Lead, LeadFilters

CSV_COLUMNS = (
    "id",
    "conversation_id",
    "status",
    "created_at",
    "updated_at",
    "language",
    "channel",
    "contact",
    "city",
    "property_type",
    "budget",
    "size",
    "extras",
    "summary",
)


def field_text(lead: Lead, key: str) -> str:
    """A field of the lead's brief in words (empty when absent)."""
    for value in lead.display.fields:
        if value.key == key:
            return value.text
    return ""


def extras_text(lead: Lead) -> str:
    """The lead's extras in words: ``label: value; …``."""
    return "; ".join(f"{extra.label}: {extra.text}" for extra in lead.display.extras)


def csv_row(lead: Lead) -> dict[str, str]:
    """One lead as a CSV row (the brief in words, dates in ISO 8601 UTC)."""
    return {
        "id": lead.id,
        "conversation_id": lead.conversation_id or "",
        "status": lead.status,
        "created_at": lead.created_at.isoformat(),
        "updated_at": lead.updated_at.isoformat(),
        "language": lead.language,
        "channel": lead.channel,
        "contact": lead.contact or "",
        "city": lead.city or "",
        "property_type": lead.property_type or "",
        "budget": field_text(lead, "budget"),
        "size": field_text(lead, "size"),
        "extras": extras_text(lead),
        "summary": lead.display.summary or "",
    }


def to_csv(leads: Sequence[Lead]) -> str:
    """``leads`` as CSV text with a header row."""
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for lead in leads:
        writer.writerow({key: _defused(value) for key, value in csv_row(lead).items()})
    return sink.getvalue()


def _defused(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (prospects write these texts)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def export_csv(api: ApiClient, filters: LeadFilters, cap: int = EXPORT_CAP) -> bytes:
    """Every lead matching ``filters`` (at most ``cap``) as UTF-8 CSV.

    On failure the file holds one ``error`` column saying what went wrong, because a
    download cannot show a message on the page.
    """
    try:
        leads = api.all_leads(filters, cap=cap)
    except ApiProblem as exc:
        sink = io.StringIO()
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(["error"])
        writer.writerow([f"{exc.title}: {exc.detail}" if exc.detail else exc.title])
        return sink.getvalue().encode("utf-8")
    return to_csv(leads).encode("utf-8")
