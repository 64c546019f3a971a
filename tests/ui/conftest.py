"""Fixtures for the Streamlit app: the real app under ``AppTest`` against a live API.

* ``serve(settings)``: starts the API (``create_app``) under uvicorn on a free port.
* ``api``: the API over a SQLite file in the test's folder (parser only, staff key
  ``staff-key``).
* ``app``: the app's entry script under ``AppTest``, pointed at ``api`` through
  ``REALTY_UI_API_URL`` (call it again for a fresh browser session).
* ``closed_url``: an address where nothing listens (the API down).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from uisupport import fresh_app, sqlite_settings

from livesupport import Serve, Server, serving
from realty.pipeline.parse import Parser

UI_VARIABLES = ("REALTY_UI_API_URL", "REALTY_UI_STAFF_KEY", "REALTY_UI_TIMEOUT_S")


@pytest.fixture
def serve(parser: Parser) -> Iterator[Serve]:
    """Start API servers; every one is stopped after the test."""
    with serving(parser) as start:
        yield start


@pytest.fixture
def api(serve: Serve, tmp_path: Path) -> Server:
    """The API over a fresh SQLite file."""
    return serve(sqlite_settings(tmp_path))


@pytest.fixture
def point_app(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the app at an API base URL (and clear every other app setting)."""

    def point(url: str) -> None:
        for name in UI_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("REALTY_UI_LANGUAGE", "en")
        monkeypatch.setenv("REALTY_UI_API_URL", url)

    return point


@pytest.fixture
def app(api: Server, point_app: Callable[[str], None]) -> Callable[[], AppTest]:
    """A fresh browser session of the app (not yet run), talking to ``api``."""
    point_app(api.url)
    return fresh_app


@pytest.fixture
def closed_url() -> str:
    """A local address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
