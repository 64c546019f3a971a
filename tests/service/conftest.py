"""Fixtures for the service: real databases, real Redis and a real uvicorn server per test.

* ``database_url``: a SQLite file in the test's folder, or a fresh PostgreSQL database
  (created for the test and dropped afterwards) — tests using it run on both.
* ``redis_url`` / ``redis_prefix``: the real Redis with a key prefix of the test's own.
* ``serve(settings)``: starts ``create_app(settings)`` under uvicorn on a free port in a
  background thread (lifespan, HTTP and WebSocket exactly as ``realty api`` runs them) and
  returns its base URL; several servers over one database stand for several pods.

PostgreSQL and Redis addresses come from ``REALTY_TEST_POSTGRES_URL`` and
``REALTY_TEST_REDIS_URL`` (defaults: the local servers ``.ci/run`` starts).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from livesupport import MakeSettings, Opened, Serve, open_conversation, serving, settings_for_tests
from realty.pipeline.parse import Parser
from realty.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "REALTY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("REALTY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _postgres_database() -> Iterator[str]:
    name = f"realty_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'realty.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file (tests that need only one backend)."""
    return f"sqlite:///{tmp_path / 'realty.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database."""
    yield from _postgres_database()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"realty-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_url() -> str:
    """The real Redis."""
    return REDIS_URL


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Service settings for tests: parser only, no purge loop, generous rate limits."""

    def make(database_url: str, **overrides: Any) -> Settings:
        return settings_for_tests(tmp_path, database_url, **overrides)

    return make


@pytest.fixture
def serve(parser: Parser) -> Iterator[Serve]:
    """Start servers for ``create_app(settings)``; every one is stopped after the test."""
    with serving(parser) as start:
        yield start


@pytest.fixture
def open_conv() -> Callable[..., Opened]:
    """:func:`open_conversation` as a fixture."""
    return open_conversation
