"""Abuse through the real server: spoofed addresses, floods, hostile text and numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from livesupport import MakeSettings, Opened, Serve, Server


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
    settings = make_settings(sqlite_url, rate_limit_conversations=2, trust_forwarded_for=True)
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
