"""The app's pure parts: labels in both languages, verbatim Markdown, settings, history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import BaseModel, ValidationError

from realty.api import schemas
from realty.domain.brief import PROPERTY_KINDS as API_KINDS
from realty.pipeline import describe
from realty.pipeline.templates import KIND_NAMES as API_KIND_NAMES
from realty.store import base as store
from realty_ui import client
from realty_ui.client import HistoryEntry
from realty_ui.conversation import confirms, entry_lines
from realty_ui.i18n import KIND_NAMES, LANGUAGES, PROPERTY_KINDS, TEXTS, text
from realty_ui.markup import verbatim
from realty_ui.settings import UiSettings
from realty_ui.state import ChatLine

PLACEHOLDER = re.compile(r"\{(\w+)\}")
PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


def test_every_label_exists_in_both_languages_with_the_same_placeholders() -> None:
    english, spanish = TEXTS["en"], TEXTS["es"]

    assert set(english) == set(spanish)
    for key, label in english.items():
        assert set(PLACEHOLDER.findall(label)) == set(PLACEHOLDER.findall(spanish[key])), key
        assert label.strip()
        assert spanish[key].strip()
    for language in LANGUAGES:
        assert set(KIND_NAMES[language]) == set(PROPERTY_KINDS)


def test_the_kinds_and_their_names_match_the_apis() -> None:
    # The app is deployed apart from the API and keeps its own copy; this keeps them equal.
    assert tuple(kind for kind in API_KINDS if kind != "other") == PROPERTY_KINDS
    for language in LANGUAGES:
        assert dict(KIND_NAMES[language]) == {
            kind: name for kind, name in API_KIND_NAMES[language].items() if kind != "other"
        }


def test_labels_are_filled() -> None:
    assert text("en", "progress", filled=2, required=4) == "2 of 4 details"
    assert text("es", "progress", filled=2, required=4) == "2 de 4 datos"


@pytest.mark.parametrize(
    "raw",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "**bold** _it_ `code` [link](http://x) ![i](x)",
        ":red[colour] :smile: $x^2$ \\(y\\)",
        "# heading\n- item\n1. one\n> quote",
        "&lt;b&gt; &amp;",
    ],
)
def test_verbatim_escapes_every_markup_character(raw: str) -> None:
    escaped = verbatim(raw)

    # Read back as CommonMark reads escapes: every punctuation character must come escaped
    # (so nothing can open markup), and the characters read are the text itself.
    read, index = [], 0
    while index < len(escaped):
        char = escaped[index]
        if char == "\\":
            read.append(escaped[index + 1])
            index += 2
            continue
        assert not PUNCTUATION.fullmatch(char), (char, escaped)
        read.append(char)
        index += 1
    assert "".join(read) == raw


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTY_UI_API_URL", "https://api.example.com/")
    monkeypatch.setenv("REALTY_UI_STAFF_KEY", " ")
    monkeypatch.setenv("REALTY_UI_TIMEOUT_S", "5")
    monkeypatch.setenv("REALTY_UI_LANGUAGE", "es")

    settings = UiSettings()

    assert settings.api_url == "https://api.example.com"
    assert settings.staff_key is None
    assert settings.timeout_s == 5
    assert settings.language == "es"


@pytest.mark.parametrize(
    ("name", "value"),
    [("REALTY_UI_API_URL", "ftp://x"), ("REALTY_UI_LANGUAGE", "fr"), ("REALTY_UI_TIMEOUT_S", "0")],
)
def test_invalid_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        UiSettings()


def _entry(kind: str, text_: str, reply: str = "ok") -> HistoryEntry:
    return HistoryEntry.model_validate(
        {
            "seq": 2,
            "turn": 1,
            "kind": kind,
            "text": text_,
            "reply": reply,
            "blocked": False,
            "actions": [],
            "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        }
    )


def test_history_entries_become_bubbles() -> None:
    assert entry_lines(_entry("start", ""), "en") == [ChatLine("assistant", "ok")]
    assert entry_lines(_entry("message", "hi"), "en") == [
        ChatLine("user", "hi"),
        ChatLine("assistant", "ok"),
    ]
    assert entry_lines(_entry("edit", '{"language":"es"}'), "es")[0] == ChatLine(
        "note", "Cambiaste el idioma."
    )
    assert entry_lines(_entry("edit", '{"size":"650 m2"}'), "en")[0] == ChatLine(
        "note", "You edited the brief."
    )
    assert entry_lines(_entry("confirm", ""), "en")[0] == ChatLine(
        "note", "You confirmed the brief."
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (client.ValueView, describe.ValueView),
        (client.MissingView, describe.MissingView),
        (client.BriefDisplay, describe.BriefDisplay),
        (client.Brief, schemas.BriefPublic),
        (client.Turn, schemas.TurnPublic),
        (client.ConversationCreated, schemas.ConversationCreated),
        (client.TranscriptEntry, store.TranscriptEntry),
        (client.HistoryEntry, schemas.HistoryEntry),
        (client.Conversation, schemas.ConversationPublic),
        (client.DayStats, store.DayStats),
        (client.Stats, schemas.StatsPublic),
        (client.Lead, schemas.LeadPublic),
        (client.LeadDetail, schemas.LeadDetail),
        (client.LeadPage, schemas.LeadPage),
    ],
    ids=lambda model: model.__name__,
)
def test_the_clients_models_read_only_what_the_api_sends(
    ours: type[BaseModel], theirs: type[BaseModel]
) -> None:
    # The app keeps its own copy of the wire models (it is deployed apart from the API): every
    # member it reads must exist in the API's model of the same document.
    assert set(ours.model_fields) <= set(theirs.model_fields)


def test_a_yes_to_a_brief_already_confirmed_keeps_it_confirmed() -> None:
    assert confirms(["confirmed"])
    assert confirms(["already_confirmed"])
    assert not confirms(["summary", "brief_completed"])
