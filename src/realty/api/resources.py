"""What the API's lifespan builds once per process and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from realty.api.metrics import Metrics
from realty.llm.base import LLM
from realty.services.conversation import ConversationService
from realty.services.events import EventBus
from realty.services.ratelimit import RateLimiter
from realty.settings import Settings
from realty.store.sql import SqlStore


@dataclass(slots=True)
class Resources:
    """The service and its collaborators; routes reach them through :mod:`realty.api.deps`."""

    settings: Settings
    service: ConversationService
    store: SqlStore
    events: EventBus
    limiter: RateLimiter
    metrics: Metrics
    redis: Redis | None
    llm: LLM | None
