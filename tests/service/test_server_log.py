"""Conversation tokens never reach the server's log, even from a client that still puts the
token in the WebSocket URL: ``realty api --access-log`` runs in its own process, exactly as
users start it, and everything it prints is read."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from websockets.sync.client import connect

from livesupport import realty_api


def test_a_token_in_the_url_is_redacted_from_every_server_log_line(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    with realty_api(tmp_path, log, "--access-log") as url:
        opened = httpx.post(f"{url}/v1/conversations", json={}, timeout=10)
        assert opened.status_code == 201
        cid, token = opened.json()["id"], opened.json()["token"]
        # An old client: the token in the query string, read by the server all the same.
        ws_url = f"ws{url.removeprefix('http')}/v1/conversations/{cid}/ws?token={token}&after=0"
        with connect(ws_url, open_timeout=10) as ws:
            while json.loads(ws.recv(timeout=10))["type"] != "ready":
                pass
        # A plain HTTP request with a token parameter shows up in the access log.
        assert httpx.get(f"{url}/healthz?token={token}", timeout=10).status_code == 200
    lines = log.read_text(errors="replace").splitlines()
    assert any(f"/v1/conversations/{cid}/ws?token=***&after=0" in line for line in lines), lines
    assert any("GET /healthz?token=*** HTTP/1.1" in line for line in lines), lines
    assert [line for line in lines if token in line] == []
