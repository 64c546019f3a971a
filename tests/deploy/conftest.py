"""Fixtures for the deployment tests: real servers and fresh PostgreSQL databases.

PostgreSQL's address comes from ``REALTY_TEST_POSTGRES_URL`` (default: the local server
``make services`` starts), as in the service tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from livesupport import Serve, serving
from realty.pipeline.parse import Parser

POSTGRES_ADMIN_URL = os.environ.get(
    "REALTY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def new_postgres_database() -> Iterator[Callable[[], str]]:
    """Creates empty PostgreSQL databases on demand (each dropped after the test); returns
    their URLs."""
    created: list[str] = []

    def create() -> str:
        name = f"realty_deploy_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"

    yield create
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        for name in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def serve(parser: Parser) -> Iterator[Serve]:
    """Start servers for ``create_app(settings)``; every one is stopped after the test."""
    with serving(parser) as start:
        yield start
