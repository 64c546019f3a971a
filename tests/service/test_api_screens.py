"""What the interfaces need from the API: the brief in words (``display``) everywhere a brief
is sent, a language switch, the "Confirm" button, and live events a screen can render alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from websockets.sync.client import connect

from livesupport import MakeSettings, Opened, Serve

FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."

OpenConv = Callable[..., Opened]


def _post(http: httpx.Client, conv: Opened, path: str, **body: Any) -> httpx.Response:
    return http.post(f"/v1/conversations/{conv.id}{path}", json=body or None, headers=conv.auth)


def _field(display: dict[str, Any], key: str) -> dict[str, Any]:
    return next(v for v in display["fields"] + display["extras"] if v["key"] == key)


def test_every_turn_carries_the_brief_in_words_and_progress(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http)
        assert conv.body["display"] == {
            "language": "en",
            "required": 4,
            "filled": 0,
            "complete": False,
            "fields": [],
            "extras": [],
            "missing": [
                {"key": "property_type", "label": "property type"},
                {"key": "city", "label": "city"},
                {"key": "budget", "label": "budget"},
                {"key": "size", "label": "total size"},
            ],
            "summary": None,
        }
        first = _post(http, conv, "/messages", text=FIRST).json()["display"]
        assert (first["filled"], first["complete"]) == (2, False)
        assert _field(first, "property_type")["text"] == "office"
        assert _field(first, "city") == {
            "key": "city",
            "label": "city",
            "text": "Mexico City",
            "source": "parser",
            "status": "valid",
            "required": True,
        }
        assert [m["key"] for m in first["missing"]] == ["budget", "size"]
        second = _post(http, conv, "/messages", text=SECOND).json()["display"]
        read = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["display"]
    assert (second["filled"], second["complete"], second["missing"]) == (4, True, [])
    assert _field(second, "budget")["text"] == "20,000 USD"
    assert _field(second, "size")["text"] == "500 m²"
    assert second["summary"] == "office in Mexico City, budget 20,000 USD, 500 m²"
    assert read == second


def test_an_edit_is_shown_as_edited_in_compact_words(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
        budget = {"amount": 20000, "currency": "USD", "period": "month", "modality": "rent"}
        response = http.patch(
            f"/v1/conversations/{conv.id}/brief",
            json={"budget": budget, "extras": {"parking_spaces": 4}},
            headers=conv.auth,
        )
    assert response.status_code == 200, response.text
    display = response.json()["display"]
    assert _field(display, "budget")["text"] == "20,000 USD / month, rent"
    assert _field(display, "budget")["source"] == "user_edit"
    assert _field(display, "parking_spaces")["label"] == "parking spaces"
    assert [m["key"] for m in display["missing"]] == ["size"]


def test_the_language_switch_continues_in_the_new_language(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """PATCH {"language": "es"} re-asks what is missing in Spanish; nothing else changes."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
        before = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()
        switched = http.patch(
            f"/v1/conversations/{conv.id}/brief", json={"language": "es"}, headers=conv.auth
        )
        assert switched.status_code == 200, switched.text
        turn = switched.json()
        after = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()
        # Once complete, a switch repeats the summary in the new language.
        done = _post(http, conv, "/messages", text="20 mil dólares, 500 m²").json()
        back = http.patch(
            f"/v1/conversations/{conv.id}/brief", json={"language": "en"}, headers=conv.auth
        ).json()
    assert turn["reply"] == (
        "¿Cuál es tu presupuesto (monto y moneda) y la superficie total que necesitas en m²?"
    )
    assert turn["actions"] == ["ask"]
    assert turn["brief"]["language"] == "es"
    assert turn["display"]["language"] == "es"
    assert [m["label"] for m in turn["display"]["missing"]] == ["presupuesto", "superficie total"]
    assert after["language"] == "es"
    assert after["brief"]["fields"] == before["brief"]["fields"]
    assert after["history"][-1]["kind"] == "edit"
    assert done["display"]["complete"] is True
    assert back["actions"] == ["summary"]
    assert back["reply"].startswith("Here is your brief: office in Mexico City")


def test_confirm_needs_a_complete_brief_then_confirms_the_lead(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
        early = _post(http, conv, "/confirm")
        assert early.status_code == 409
        assert early.headers["content-type"] == "application/problem+json"
        problem = early.json()
        assert problem["type"] == "/problems/brief-incomplete"
        assert [e["field"] for e in problem["errors"]] == ["budget", "size"]
        assert http.get("/v1/leads", headers={"X-API-Key": "staff-key"}).json()["items"] == []

        _post(http, conv, "/messages", text=SECOND)
        confirmed = _post(http, conv, "/confirm")
        assert _post(http, conv, "/confirm", **{}).status_code == 200  # idempotent in effect
        lead = http.get("/v1/leads", headers={"X-API-Key": "staff-key"}).json()["items"][0]
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        stranger = http.post(
            f"/v1/conversations/{conv.id}/confirm", headers={"Authorization": "Bearer nope"}
        )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["actions"] == ["confirmed"]
    assert confirmed.json()["reply"].startswith("Great, your brief is confirmed.")
    assert lead["status"] == "confirmed"
    assert [h["kind"] for h in history] == ["start", "message", "message", "confirm", "confirm"]
    assert stranger.status_code == 404


def test_socket_events_carry_the_message_text_kind_and_display(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """A screen can render a conversation from the events alone: the prospect's text, the
    reply, the entry's kind and the brief in words (replayed and live alike)."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
    url = f"{server.ws_url}/v1/conversations/{conv.id}/ws"
    with connect(url, additional_headers=conv.auth, open_timeout=10) as ws:
        replayed = [json.loads(ws.recv(timeout=10)) for _ in range(5)]
        with server.client() as http:
            _post(http, conv, "/messages", text=SECOND)
        live = []
        while len(live) < 2:
            event = json.loads(ws.recv(timeout=10))
            if event["type"] != "typing":
                live.append(event)
            else:
                assert event == {"type": "typing"}
    greeting, _, first, first_brief, ready = replayed
    assert (greeting["kind"], greeting["text"]) == ("start", "")
    assert (first["kind"], first["text"]) == ("message", FIRST)
    assert first_brief["display"]["filled"] == 2
    assert ready == {"type": "ready", "seq": 2}
    reply, brief = live
    assert (reply["type"], reply["seq"], reply["text"]) == ("reply", 3, SECOND)
    assert brief["display"]["complete"] is True
    assert brief["display"]["summary"] == "office in Mexico City, budget 20,000 USD, 500 m²"
