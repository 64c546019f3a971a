"""Abuse through the real server: spoofed addresses, floods, hostile text and numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from livesupport import MakeSettings, Opened, Serve, Server

DAY = 86_400  # seconds: the longest rate-limit window the settings allow


def _socket(server: Server, conv: Opened) -> ClientConnection:
    url = f"{server.ws_url}/v1/conversations/{conv.id}/ws"
    return connect(url, additional_headers=conv.auth, open_timeout=10)


def _until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The first event of type ``kind`` (earlier ones are skipped)."""
    while True:
        event: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if event["type"] == kind:
            return event


def test_a_spoofed_forwarded_for_does_not_escape_the_per_client_limit(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    # The test client reaches the server from 127.0.0.1, a trusted proxy by default; the
    # proxy appended the client's real address (203.0.113.7) after what the client wrote.
    # A day's window, so no fixed-window boundary falls inside the test (see ratelimit.py).
    settings = make_settings(
        sqlite_url, rate_limit_conversations=2, trust_forwarded_for=True, rate_limit_window_s=DAY
    )
    server = serve(settings)
    with server.client() as http:
        codes = [
            http.post(
                "/v1/conversations",
                json={},
                headers={"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"},
            ).status_code
            for n in range(4)
        ]
        assert codes == [201, 201, 429, 429]
        # Another client behind the same proxy has its own budget.
        other = {"X-Forwarded-For": "203.0.113.8"}
        assert http.post("/v1/conversations", json={}, headers=other).status_code == 201


def test_messages_per_client_are_limited_across_its_conversations_and_sockets(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, rate_limit_client_messages=3))
    with server.client() as http:
        first, second = open_conv(http), open_conv(http)
        codes = [
            http.post(
                f"/v1/conversations/{conv.id}/messages", json={"text": "hola"}, headers=conv.auth
            ).status_code
            for conv in (first, second, first)
        ]
        assert codes == [200, 200, 200]
        refused = http.post(
            f"/v1/conversations/{second.id}/messages", json={"text": "hola"}, headers=second.auth
        )
        assert refused.status_code == 429
        assert refused.json()["type"] == "/problems/rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    # The same client over a WebSocket shares that budget.
    with _socket(server, first) as ws:
        _until(ws, "ready")
        ws.send(json.dumps({"type": "message", "text": "hola"}))
        error = _until(ws, "error")
        assert error["status"] == 429
        assert error["problem"] == "/problems/rate-limited"
        assert error["retry_after"] >= 1


def test_websocket_connections_per_client_are_limited(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, rate_limit_websockets=2))
    with server.client() as http:
        conv = open_conv(http)
    for _ in range(2):
        with _socket(server, conv) as ws:
            assert _until(ws, "ready")["seq"] == 1
    with _socket(server, conv) as ws:
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error"
        assert error["status"] == 429
        assert error["limit"] == 2
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4429


def _patch(http: httpx.Client, conv: Opened, body: dict[str, Any]) -> httpx.Response:
    return http.patch(f"/v1/conversations/{conv.id}/brief", json=body, headers=conv.auth)


def test_a_brief_holds_at_most_max_extras(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, max_extras=3))
    with server.client() as http:
        conv = open_conv(http)
        assert _patch(http, conv, {"extras": {"a_one": 1, "a_two": 2}}).status_code == 200
        refused = _patch(http, conv, {"extras": {"a_three": 3, "a_four": 4}})
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["type"] == "/problems/invalid-edit"
        assert [e["field"] for e in problem["errors"]] == ["extras.a_four"]
        assert "REALTY_MAX_EXTRAS" in problem["errors"][0]["message"]
        # Nothing of the refused edit was applied; changing or removing a held one still works.
        extras = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["brief"]
        assert sorted(extras["extras"]) == ["a_one", "a_two"]
        assert _patch(http, conv, {"extras": {"a_three": 3}}).status_code == 200
        assert _patch(http, conv, {"extras": {"a_one": 10}}).status_code == 200
        # A message naming one more extra gets a polite reply, and the message is kept.
        said = http.post(
            f"/v1/conversations/{conv.id}/messages",
            json={"text": "I need 10 parking spaces and a loading dock"},
            headers=conv.auth,
        )
        assert said.status_code == 200
        turn = said.json()
        assert "as many details as it can" in turn["reply"]
        assert sorted(turn["brief"]["extras"]) == ["a_one", "a_three", "a_two"]
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        assert history[-1]["text"] == "I need 10 parking spaces and a loading dock"
        # Removing one makes room again.
        assert _patch(http, conv, {"extras": {"a_two": None}}).status_code == 200
        assert _patch(http, conv, {"extras": {"parking_spaces": 10}}).status_code == 200


def test_a_brief_is_bounded_in_bytes(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, max_brief_bytes=4096))
    with server.client() as http:
        conv = open_conv(http)
        codes = [
            _patch(http, conv, {"extras": {f"note_{n}": "x" * 200}}).status_code for n in range(20)
        ]
        assert codes[0] == 200
        assert 422 in codes
        cut = codes.index(422)
        assert codes[cut:] == [422] * (20 - cut)
        brief = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["brief"]
        assert len(brief["extras"]) == cut
        assert len(json.dumps(brief)) <= 4096 + 512  # the stored form is a little terser


@pytest.mark.parametrize("number", [2**53, -(2**53), 2**64, -(2**64), 10**30])
def test_patch_integers_past_2_53_are_refused_not_errors(
    number: int,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        refused = _patch(http, conv, {"extras": {"parking_spaces": number}})
        assert refused.status_code == 422
        assert refused.json()["type"] == "/problems/invalid-request"
        fine = _patch(http, conv, {"extras": {"parking_spaces": 2**53 - 1}})
        assert fine.status_code == 200


@pytest.mark.parametrize("number", [1e20, -1e20, 2.8410486287506785e277])
def test_whole_floats_past_2_53_stay_floats_in_the_brief(
    number: float,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    """An amount of 1e20 (a float with no fraction) was rendered as an int the JSON encoder
    refuses past 2^64: a 500. Past 2^53 it now stays a float in extras; budgets are capped."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        edited = _patch(http, conv, {"extras": {"deposit": number}})
        assert edited.status_code == 200, edited.text
        assert edited.json()["brief"]["extras"]["deposit"]["value"] == number
        # A budget that large is refused as absurd (at most 10^12), with a 422 that says so.
        budget = _patch(http, conv, {"budget": {"amount": abs(number), "currency": "USD"}})
        assert budget.status_code == 422, budget.text
        assert "at most 1,000,000,000,000" in budget.json()["errors"][0]["message"]
        shown = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth)
        assert shown.status_code == 200
        extras = _patch(http, conv, {"extras": {"exact": 2.0**53 - 1, "past": 2.0**53}})
        shown_extras = extras.json()["brief"]["extras"]
        assert type(shown_extras["exact"]["value"]) is int  # reads 9007199254740991
        assert type(shown_extras["past"]["value"]) is float  # reads 9007199254740992.0


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        (
            "office in Mexico City, budget 20000000000000000000000 USD, 500 m2",
            "A budget can't be above one trillion (1,000,000,000,000).",
        ),
        (
            "office in Mexico City, 30k USD a month, 50000000000000000000000 m2",
            "The size must be between 1 and 1,000,000 m².",
        ),
    ],
)
def test_a_figure_of_twenty_digits_and_more_is_refused_by_name_not_dropped(
    text: str,
    refusal: str,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        said = http.post(
            f"/v1/conversations/{conv.id}/messages", json={"text": text}, headers=conv.auth
        )
        assert said.status_code == 200, said.text
        assert refusal in said.json()["reply"]
        assert "reject" in said.json()["actions"]


NUL_TEXT = "I need an office\x00 in Monterrey"
CLEAN_TEXT = "I need an office in Monterrey"


def test_text_postgresql_refuses_is_stored_cleaned_over_http(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=NUL_TEXT)
        assert conv.body["brief"]["fields"]["city"]["value"] == "Monterrey"
        said = http.post(
            f"/v1/conversations/{conv.id}/messages",
            json={"text": "10 parking\x00 spaces\x00"},
            headers=conv.auth,
        )
        assert said.status_code == 200
        edited = _patch(http, conv, {"property_type": "bodega\x00", "extras": {"note": "a\x00b"}})
        assert edited.status_code == 200
        brief = edited.json()["brief"]
        assert brief["fields"]["property_type"]["text"] == "bodega"
        assert brief["extras"]["note"]["value"] == "ab"
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        assert [e["text"] for e in history[1:3]] == [CLEAN_TEXT, "10 parking spaces"]
        assert all("\x00" not in e["text"] for e in history)
        # A lone surrogate is not valid JSON text: refused as a malformed request.
        for raw in ('{"text": "hola \\ud800"}', '{"extras": {"note": "\\udc00"}}'):
            path = "messages" if "text" in raw else "brief"
            method = http.post if path == "messages" else http.patch
            refused = method(
                f"/v1/conversations/{conv.id}/{path}",
                content=raw,
                headers={**conv.auth, "Content-Type": "application/json"},
            )
            assert refused.status_code == 422, raw
        created = http.post(
            "/v1/conversations",
            content='{"text": "oficina \\udfff"}',
            headers={"Content-Type": "application/json"},
        )
        assert created.status_code == 422


def test_text_postgresql_refuses_is_stored_cleaned_over_the_websocket(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http)
    with _socket(server, conv) as ws:
        _until(ws, "ready")
        ws.send(json.dumps({"type": "message", "text": NUL_TEXT}))
        reply = _until(ws, "reply")
        assert reply["text"] == CLEAN_TEXT
        assert _until(ws, "brief")["brief"]["fields"]["city"]["value"] == "Monterrey"
        ws.send('{"type": "message", "text": "x \\ud800"}')
        error = _until(ws, "error")
        assert error["status"] == 422
        ws.send(json.dumps({"type": "ping"}))  # the socket stays open
        assert _until(ws, "pong")["seq"] == 2


@pytest.mark.parametrize("after", ["-1", str(2**31 + 1), str(2**64), "1e3", "x"])
def test_a_websocket_after_out_of_bounds_is_refused_cleanly(
    after: str,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
    url = f"{server.ws_url}/v1/conversations/{conv.id}/ws?after={after}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, additional_headers=conv.auth, open_timeout=10)
    assert refused.value.response.status_code == 403  # the handshake is refused
    ok = f"{server.ws_url}/v1/conversations/{conv.id}/ws?after={2**31}"
    with connect(ok, additional_headers=conv.auth, open_timeout=10) as ws:
        assert _until(ws, "ready")["seq"] == 2**31


def test_a_websocket_frame_is_limited_like_a_request_body(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, max_message_chars=100, max_body_bytes=2048))
    with server.client() as http:
        conv = open_conv(http)
    with _socket(server, conv) as ws:
        _until(ws, "ready")
        # 700 characters of 3 bytes each: under 2,048 characters, over 2,048 bytes.
        ws.send(json.dumps({"type": "message", "text": "€" * 700}, ensure_ascii=False))
        error = _until(ws, "error")
        assert error["status"] == 413
        assert error["limit"] == 2048
        assert "REALTY_MAX_BODY_BYTES" in error["detail"]
        ws.send(json.dumps({"type": "ping"}))
        assert _until(ws, "pong")["seq"] == 1
