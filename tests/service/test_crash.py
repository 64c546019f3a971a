"""``kill -9`` of the API process under load: every message that got a 2xx is in the database
after a restart, on SQLite and PostgreSQL. The service runs as users run it, in its own uvicorn
process; the load is several prospects writing at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from realty.store.engine import SqliteSynchronous, make_engine

LOAD_S = 2.0
PROSPECTS = 8
MESSAGES = ("I need an office in Mexico City.", "20,000 USD", "500 m2", "yes", "gracias")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _api(
    database_url: str, data_dir: Path, log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALTY_")}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url,
        REALTY_DATA_DIR=str(data_dir),
        REALTY_LLM_PROVIDER="none",
        REALTY_RATE_LIMIT_MESSAGES="0",
        REALTY_RATE_LIMIT_CONVERSATIONS="0",
        REALTY_RATE_LIMIT_CLIENT_MESSAGES="0",
        REALTY_PURGE_INTERVAL_S="0",
    )
    command = [sys.executable, "-m", "uvicorn", "realty.api.main:app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


class Load:
    """What the prospects were told was stored: conversation → token, and its message ids."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.acknowledged: dict[str, set[str]] = {}


async def _prospect(client: httpx.AsyncClient, n: int, load: Load, stop: asyncio.Event) -> None:
    opened = await client.post("/v1/conversations", json={})
    if opened.status_code != 201:
        return
    data = opened.json()
    cid, auth = data["id"], {"Authorization": f"Bearer {data['token']}"}
    load.tokens[cid] = data["token"]
    load.acknowledged[cid] = set()
    sent = 0
    while not stop.is_set():
        mid = f"p{n}-{sent}"
        body = {"text": MESSAGES[sent % len(MESSAGES)], "client_message_id": mid}
        sent += 1
        try:
            response = await client.post(
                f"/v1/conversations/{cid}/messages", json=body, headers=auth
            )
        except httpx.HTTPError:
            return  # the process died under this request: it was never acknowledged
        if response.is_success:
            load.acknowledged[cid].add(mid)


async def _load_then_kill(url: str, process: subprocess.Popen[bytes]) -> Load:
    load = Load()
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        tasks = [asyncio.create_task(_prospect(client, n, load, stop)) for n in range(PROSPECTS)]
        await asyncio.sleep(LOAD_S)
        os.kill(process.pid, signal.SIGKILL)  # mid-load: requests are in flight
        await asyncio.gather(*tasks)
    return load


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_acknowledged_message_survives_kill_9(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'realty.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    log = tmp_path / "api.log"
    with _api(url, tmp_path, log) as (api, process):
        load = asyncio.run(_load_then_kill(api, process))
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert sum(len(v) for v in load.acknowledged.values()) >= PROSPECTS  # there was real load
    with _api(url, tmp_path, log) as (api, _):
        for cid, ids in load.acknowledged.items():
            auth = {"Authorization": f"Bearer {load.tokens[cid]}"}
            response = httpx.get(f"{api}/v1/conversations/{cid}", headers=auth)
            assert response.status_code == 200, response.text
            stored = {e["client_message_id"] for e in response.json()["history"]}
            assert ids <= stored, f"acknowledged but lost after kill -9: {sorted(ids - stored)}"


@pytest.mark.parametrize(("mode", "code"), [("NORMAL", 1), ("FULL", 2)])
def test_sqlite_durability_is_the_configured_synchronous_mode(
    tmp_path: Path, mode: SqliteSynchronous, code: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'realty.db'}", sqlite_synchronous=mode)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == code
    finally:
        engine.dispose()
