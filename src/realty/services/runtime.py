"""What the API's lifespan builds once per process and every request and socket shares."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from realty.llm.base import LLM
from realty.services.admission import Admission
from realty.services.conversation import ConversationService
from realty.services.events import EventBus
from realty.services.matching import MatchService
from realty.services.metrics import Metrics
from realty.services.toolkit import Toolkit
from realty.settings import Settings
from realty.store.sql import SqlStore


@dataclass(slots=True)
class Resources:
    """The service and its collaborators; routes and channels reach them through the app."""

    settings: Settings
    service: ConversationService
    store: SqlStore
    events: EventBus
    admission: Admission
    metrics: Metrics
    redis: Redis | None
    llm: LLM | None
    toolkit: Toolkit
    matching: MatchService | None = None
