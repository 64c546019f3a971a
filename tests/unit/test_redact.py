"""Secrets never reach a log or start-up line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from realty.api.app import create_app
from realty.services.redact import redacted_url
from realty.settings import Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://app:s3cret@cache/1", "redis://app:***@cache/1"),
        ("rediss://u:p%40ss@[::1]:6380", "rediss://u:***@[::1]:6380"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("redis://user@cache", "redis://user@cache"),
    ],
)
def test_a_url_loses_its_password(url: str, expected: str) -> None:
    assert redacted_url(url) == expected


def test_an_unreachable_redis_is_reported_without_its_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        llm_provider="none",
        database_url=f"sqlite:///{tmp_path / 'realty.db'}",
        redis_url="redis://:hunter2-secret@127.0.0.1:1/0",
        purge_interval_s=0,
    )
    app = create_app(settings, llm=None)

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start())  # Redis is optional: the process starts, degraded
    assert "hunter2-secret" not in caplog.text
    assert "REDIS_URL=redis://:***@127.0.0.1:1/0 is unreachable" in caplog.text
