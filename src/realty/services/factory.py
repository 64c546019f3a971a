"""Builds the conversation service from settings (used by the CLI; the API's lifespan later)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from realty.pipeline.guard import Guard
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
) -> ConversationService:
    """Assemble every stage once; pass ``parser`` to share one across services (tests)."""
    registry = settings.field_registry()
    return ConversationService(
        registry=registry,
        guard=Guard(settings.max_message_chars),
        parser=parser or Parser.build(),
        responder=Responder(registry),
        store=store or InMemoryStore(),
        home_country=settings.home_country,
        default_language=settings.default_language,
        today=today,
    )
