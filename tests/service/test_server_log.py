"""Conversation tokens never reach the server's log, even from a client that still puts the
token in the WebSocket URL: ``realty api --access-log`` runs in its own process, exactly as
users start it, and everything it prints is read."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _realty_api(data_dir: Path, log: Path) -> Iterator[str]:
    """``realty api --access-log`` on a free port; its output goes to ``log``."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALTY_")}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(REALTY_DATA_DIR=str(data_dir), REALTY_LLM_PROVIDER="none")
    command = [sys.executable, "-m", "realty", "api", "--port", str(port), "--access-log"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the API did not start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # a clean stop flushes every line
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_token_in_the_url_is_redacted_from_every_server_log_line(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    with _realty_api(tmp_path, log) as url:
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
