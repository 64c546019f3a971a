"""Builds the conversation service from settings (used by the CLI; the API's lifespan later)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from realty.llm.base import LLM
from realty.llm.registry import build_llm
from realty.pipeline.ground import Grounder
from realty.pipeline.guard import Guard
from realty.pipeline.llm_extract import LLMExtractor
from realty.pipeline.parse import Parser
from realty.pipeline.respond import Responder
from realty.services.conversation import ConversationService
from realty.settings import Settings
from realty.store.base import ConversationStore
from realty.store.memory import InMemoryStore


def build_service(
    settings: Settings,
    *,
    store: ConversationStore | None = None,
    parser: Parser | None = None,
    today: Callable[[], date] = date.today,
    llm: LLM | None = None,
) -> ConversationService:
    """Assemble every stage once.

    Pass ``parser`` to share one across services (tests) and ``llm`` to use a given provider
    instead of the one the settings select (tests, evaluations with a shared loaded model).
    """
    registry = settings.field_registry()
    parser = parser or Parser.build()
    if llm is None:
        llm, warning = build_llm(settings)
        if warning:
            logging.getLogger("realty").warning(warning)
    extractor = None
    if llm is not None:
        extractor = LLMExtractor(
            llm,
            Grounder(parser.cities.gazetteer.resolve),
            timeout_s=settings.llm_timeout_s,
            mode=settings.llm_mode,
        )
    return ConversationService(
        registry=registry,
        guard=Guard(settings.max_message_chars),
        parser=parser,
        extractor=extractor,
        responder=Responder(registry),
        store=store or InMemoryStore(),
        home_country=settings.home_country,
        default_language=settings.default_language,
        today=today,
    )
