"""Every response carries its request id, the 500 of a bug included, and so does its log."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from realty.api.app import create_app
from realty.pipeline.parse import Parser
from realty.settings import Settings


class _Bound(logging.Handler):
    """Keeps what the request had bound when each record was logged."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.getMessage(), structlog.contextvars.get_contextvars()))


Headers = dict[str, str]


@pytest.fixture
def app(tmp_path: Path, parser: Parser) -> FastAPI:
    settings = Settings(
        llm_provider="none",
        database_url=f"sqlite:///{tmp_path / 'realty.db'}",
        purge_interval_s=0,
        catalog_seed_if_empty=False,
    )
    app = create_app(settings, parser=parser, llm=None)

    @app.get("/v1/conversations/{conversation_id}/boom")
    async def boom(conversation_id: str) -> None:
        raise RuntimeError(f"a bug while serving {conversation_id}")

    return app


def get(app: FastAPI, *requests: tuple[str, Headers]) -> list[httpx.Response]:
    """Each GET through the started app, as an HTTP client gets it (a bug is a 500)."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://realty") as client,
        ):
            return [await client.get(path, headers=headers) for path, headers in requests]

    return asyncio.run(run())


@pytest.fixture
def bound() -> Iterator[_Bound]:
    handler = _Bound()
    logger = logging.getLogger("realty.api")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_an_unhandled_error_answers_500_with_the_clients_request_id(
    app: FastAPI, bound: _Bound
) -> None:
    [response] = get(app, ("/v1/conversations/c0ffee/boom", {"X-Request-ID": "req-5000-a"}))
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-5000-a"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/internal"
    assert "a bug while serving" not in response.text  # the body says only that it was logged
    logged = [context for message, context in bound.seen if message == "unhandled error"]
    assert logged == [{"request_id": "req-5000-a", "conversation_id": "c0ffee"}]


def test_an_unhandled_error_without_an_id_gets_a_new_one_in_header_and_log(
    app: FastAPI, bound: _Bound
) -> None:
    [response] = get(app, ("/v1/conversations/c0ffee/boom", {}))
    assert response.status_code == 500
    generated = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    logged = [context for message, context in bound.seen if message == "unhandled error"]
    assert [context["request_id"] for context in logged] == [generated]


def test_ids_differ_from_request_to_request(app: FastAPI) -> None:
    responses = get(app, *[("/healthz", {})] * 50)
    assert len({response.headers["X-Request-ID"] for response in responses}) == 50
