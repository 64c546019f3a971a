"""A database that hangs or goes away, for real: PostgreSQL behind a loopback TCP proxy the test
can freeze or cut, and SQLite locked by another process's transaction. Requests get a 503 with
Retry-After within the database timeout, nothing is half-written, and the service resumes
when the database is back."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from livesupport import FreezableProxy, Serve, Server, open_conversation, settings_for_tests
from realty.store.engine import IDLE_PING_S, make_engine, upgrade
from realty.store.sql import SqlStore

TIMEOUT_S = 1.0
FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[tuple[FreezableProxy, str]]:
    parts = urlsplit(postgres_url)
    opened = FreezableProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    user = f"{parts.username}@" if parts.username else ""
    via = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{opened.port}"))
    try:
        yield opened, via
    finally:
        opened.close()


def _api(serve: Serve, tmp_path: Path, url: str) -> Server:
    return serve(settings_for_tests(tmp_path, url, db_timeout_s=TIMEOUT_S, db_pool_size=2))


def _send(
    client: httpx.Client, cid: str, auth: dict[str, str], text: str, mid: str
) -> httpx.Response:
    body = {"text": text, "client_message_id": mid}
    return client.post(f"/v1/conversations/{cid}/messages", json=body, headers=auth)


def _unavailable(response: httpx.Response, started: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) > 0
    # Bounded by the database timeout (plus a pool checkout and the proxy), not a hang.
    assert time.monotonic() - started < TIMEOUT_S * 8


def _history(client: httpx.Client, cid: str, auth: dict[str, str]) -> list[str]:
    response = client.get(f"/v1/conversations/{cid}", headers=auth)
    assert response.status_code == 200
    return [e["text"] for e in response.json()["history"] if e["kind"] == "message"]


@pytest.fixture
def behind_proxy(
    serve: Serve, tmp_path: Path, proxy: tuple[FreezableProxy, str]
) -> tuple[FreezableProxy, Server]:
    """The API over PostgreSQL reached through the proxy."""
    tunnel, url = proxy
    return tunnel, _api(serve, tmp_path, url)


def test_a_hung_postgresql_gets_503_quickly_and_the_service_resumes(
    behind_proxy: tuple[FreezableProxy, Server],
) -> None:
    tunnel, api = behind_proxy
    with api.client() as client:
        opened = open_conversation(client)
        assert _send(client, opened.id, opened.auth, FIRST, "m-1").status_code == 200

        tunnel.freeze()
        started = time.monotonic()
        _unavailable(_send(client, opened.id, opened.auth, SECOND, "m-2"), started)
        assert client.get("/readyz").status_code == 503

        tunnel.thaw()
        retried = _send(client, opened.id, opened.auth, SECOND, "m-2")
        if retried.status_code == 503:  # the pool still held a connection frozen mid-call
            retried = _send(client, opened.id, opened.auth, SECOND, "m-2")
        assert retried.status_code == 200, retried.text
        assert "brief_completed" in retried.json()["actions"]
        # Nothing half-written, nothing twice: the retried message is in the log once.
        assert _history(client, opened.id, opened.auth) == [FIRST, SECOND]


def test_a_postgresql_gone_gets_503_and_the_service_resumes_when_it_returns(
    behind_proxy: tuple[FreezableProxy, Server],
) -> None:
    tunnel, api = behind_proxy
    with api.client() as client:
        opened = open_conversation(client)

        tunnel.cut()
        started = time.monotonic()
        _unavailable(_send(client, opened.id, opened.auth, FIRST, "m-1"), started)
        started = time.monotonic()
        response = client.post("/v1/conversations", json={})
        _unavailable(response, started)

        tunnel.restore()
        assert _send(client, opened.id, opened.auth, FIRST, "m-1").status_code == 200
        assert _history(client, opened.id, opened.auth) == [FIRST]


def test_sqlite_locked_by_another_process_gets_503_and_resumes(
    serve: Serve, tmp_path: Path
) -> None:
    path = tmp_path / "realty.db"
    api = _api(serve, tmp_path, f"sqlite:///{path}")
    with api.client() as client:
        opened = open_conversation(client)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            started = time.monotonic()
            _unavailable(_send(client, opened.id, opened.auth, FIRST, "m-1"), started)
        finally:
            other.execute("ROLLBACK")
            other.close()

        retried = _send(client, opened.id, opened.auth, FIRST, "m-1")
        if retried.status_code == 503:  # the abandoned call may still hold the writer
            time.sleep(TIMEOUT_S)
            retried = _send(client, opened.id, opened.auth, FIRST, "m-1")
        assert retried.status_code == 200, retried.text
        assert _history(client, opened.id, opened.auth) == [FIRST]


def test_a_pooled_connection_ended_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    """An administrator (or a restart) ends the pool's idle connections: the next request
    gets a fresh one instead of a 503."""
    upgrade(postgres_url)
    engine = make_engine(postgres_url, pool_size=2, timeout_s=TIMEOUT_S)
    store = SqlStore(engine, threads=1, timeout_s=TIMEOUT_S)
    now = dt.datetime.now(dt.UTC)
    try:
        assert asyncio.run(store.load("c1", now)) is None  # a connection, back in the pool
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        assert ended == [(True,)]
        time.sleep(IDLE_PING_S + 0.2)
        assert asyncio.run(store.load("c1", now)) is None
    finally:
        store.close()
        engine.dispose()
