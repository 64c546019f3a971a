"""Shared fixtures: one parser per test session (building it loads the gazetteer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService
from realty.services.factory import build_service
from realty.services.matching import MatchService
from realty.settings import Settings
from realty.store.memory import InMemoryStore

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session")
def parser() -> Parser:
    return Parser.build()


@pytest.fixture
def make_service(parser: Parser) -> Callable[..., ConversationService]:
    """A parser-only service over an in-memory store with a fixed date.

    Settings may be overridden (e.g. ``llm_provider="fake"``); the default never loads a model
    and matches nothing (pass a ``matcher`` for a catalog).
    """

    def make(matcher: MatchService | None = None, **overrides: object) -> ConversationService:
        settings = Settings(**{"llm_provider": "none", **overrides})  # type: ignore[arg-type]
        return build_service(
            settings, store=InMemoryStore(), parser=parser, today=lambda: TODAY, matcher=matcher
        )

    return make
