"""Request and response bodies of the HTTP API (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import Language, PropertyKind
from realty.domain.listing import Listing, Offer
from realty.domain.market_check import BudgetCheck, Note, OfferQuestion, Verdict
from realty.domain.matching import OfferSource, Relax
from realty.pipeline.describe import BriefDisplay
from realty.pipeline.intent import Intent
from realty.services.conversation import ConversationView, TurnResult
from realty.services.matching import MatchResult
from realty.services.wire import ClientMessageId
from realty.store.base import (
    Channel,
    Lead,
    LeadStatus,
    Stats,
    TranscriptEntry,
)

_IN = ConfigDict(extra="forbid", frozen=True)

BRIEF_EXAMPLE: dict[str, Any] = {
    "fields": {
        "property_type": {"value": "office", "text": "office", "status": "valid"},
        "city": {"value": "Mexico City", "country": "MX", "status": "valid"},
        "budget": {"amount": 20000, "currency": "USD", "period": None, "status": "valid"},
        "size": {"m2": 500, "original": "500m²", "status": "valid"},
    },
    "extras": {},
    "missing": [],
    "complete": True,
    "language": "en",
}


class BriefPublic(BaseModel):
    """The canonical brief (README, "The brief"): values with provenance per field."""

    model_config = ConfigDict(json_schema_extra={"examples": [BRIEF_EXAMPLE]})

    fields: dict[str, dict[str, Any]]
    extras: dict[str, dict[str, Any]]
    missing: list[str]
    complete: bool
    language: Language


class ConversationCreate(BaseModel):
    """Open a conversation, optionally with the prospect's first message."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{}, {"language": "es"}, {"text": "I need an office in Mexico City."}]
        },
    )

    language: Language | None = Field(
        default=None, description="Start in this language; default: detected from the text."
    )
    text: str | None = Field(
        default=None,
        min_length=1,
        description="A first message (at most REALTY_MAX_MESSAGE_CHARS characters).",
    )
    client_message_id: ClientMessageId | None = None


class MessageCreate(BaseModel):
    """One message from the prospect."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"text": "I can spend 20,000 USD for 500m².", "client_message_id": "m-0002"}
            ]
        },
    )

    text: str = Field(
        min_length=1,
        description="At most REALTY_MAX_MESSAGE_CHARS (default 4,000) characters; a longer "
        "text is refused with 413, never truncated.",
    )
    client_message_id: ClientMessageId | None = Field(
        default=None,
        description="Sending the same id again returns the stored result; nothing is "
        "processed twice.",
    )


class TurnPublic(BaseModel):
    """What one message produced."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "turn": 2,
                    "seq": 3,
                    "reply": "Here is your brief: office in Mexico City, budget 20,000 USD, "
                    "500 m². Is everything correct?",
                    "brief": BRIEF_EXAMPLE,
                    "actions": ["summary", "brief_completed"],
                    "blocked": False,
                    "replayed": False,
                    "client_message_id": "m-0002",
                    "llm_calls": 0,
                    "latency_ms": 1.4,
                }
            ]
        }
    )

    turn: int = Field(description="User turns handled so far (blocked ones do not count).")
    seq: int = Field(description="Position in the conversation's log (1: the greeting).")
    reply: str
    brief: BriefPublic
    actions: list[str]
    blocked: bool = Field(
        description="The message was refused (empty, too long, an attack); nothing changed."
    )
    replayed: bool = Field(
        description="Read back for a repeated client_message_id (or Idempotency-Key)."
    )
    client_message_id: str | None = None
    llm_calls: int
    latency_ms: float
    refining: bool = Field(
        default=False,
        description="The model is still reading this message (the reply did not wait past "
        "REALTY_LLM_REPLY_DEADLINE_MS): a `refine` entry may follow, pushed on the WebSocket "
        "and kept in the history.",
    )
    display: BriefDisplay = Field(
        description="The brief in words in the conversation's language, for screens: each "
        "value with its label, source and status, what is missing, progress, the summary."
    )
    intent: IntentPublic | None = Field(
        default=None,
        description="What the message wanted and how it felt (messages that were read).",
    )
    matches: MatchesPublic | None = Field(
        default=None,
        description="The best listings for the brief after this entry (at most 3; all of "
        "them at GET /v1/conversations/{id}/matches), when the brief names a type and a city "
        "and the entry changed it, confirmed it or asked for listings; `complete` is false "
        "for a preview.",
    )

    @classmethod
    def of(cls, result: TurnResult) -> TurnPublic:
        """From a service result."""
        return cls.model_validate(turn_payload(result))


def turn_payload(result: TurnResult) -> dict[str, Any]:
    """A service result as the JSON of :class:`TurnPublic` (built without validation)."""
    return {
        "turn": result.turn,
        "seq": result.seq,
        "reply": result.reply,
        "brief": result.brief,
        "actions": list(result.actions),
        "blocked": result.blocked,
        "replayed": result.replayed,
        "client_message_id": result.client_message_id,
        "llm_calls": result.llm_calls,
        "latency_ms": result.latency_ms,
        "refining": result.refining,
        "display": result.display.model_dump(mode="json") if result.display else None,
        "intent": None if result.intent is None else asdict(result.intent),
        "matches": None if result.matches is None else _matches_json(result),
    }


def _matches_json(result: TurnResult) -> dict[str, Any]:
    assert result.matches is not None
    assert result.state is not None
    state = result.state
    return MatchesPublic.of(
        result.conversation_id,
        result.matches,
        state.language,
        complete=state.phase == "complete",
    ).model_dump(mode="json")


class IntentPublic(BaseModel):
    """A message's intent, how sure the classifier is (0.5–1), and its sentiment (-1–1)."""

    intent: Intent
    confidence: float
    sentiment: float


class JSONBody(Response):
    """A JSON response serialised with orjson, for bodies that are already plain data."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """``content`` as compact UTF-8 JSON."""
        return orjson.dumps(content)


class ConversationCreated(TurnPublic):
    """A new conversation: its id, its bearer token (shown once) and the first reply."""

    id: str
    token: str = Field(description="Bearer token for this conversation only; not retrievable.")
    expires_at: dt.datetime = Field(description="Idle expiry; every message extends it.")


class HistoryEntry(TranscriptEntry):
    """One entry of the conversation log, as its owner sees it."""

    accepted: list[str]
    client_message_id: str | None


class ConversationPublic(BaseModel):
    """A conversation: its brief and its history."""

    id: str
    channel: Channel
    language: Language
    turns: int
    brief: BriefPublic
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    history: list[HistoryEntry]
    display: BriefDisplay

    @classmethod
    def of(cls, view: ConversationView) -> ConversationPublic:
        """From a service view."""
        return cls(
            id=view.id,
            channel=view.channel,
            language=view.language,
            turns=view.turns,
            brief=BriefPublic.model_validate(view.brief),
            created_at=view.created_at,
            updated_at=view.updated_at,
            expires_at=view.expires_at,
            history=[HistoryEntry.of(r) for r in view.history],
            display=view.display,
        )


class LeadPublic(BaseModel):
    """A completed brief for brokers."""

    id: str
    conversation_id: str | None = Field(description="null once the conversation expired.")
    status: LeadStatus
    brief: BriefPublic
    language: str
    channel: Channel
    contact: str | None
    city: str | None = Field(description="The brief's city (canonical name).")
    property_type: str | None = Field(description="The brief's property kind.")
    created_at: dt.datetime
    updated_at: dt.datetime
    display: BriefDisplay

    @classmethod
    def of(cls, lead: Lead, display: BriefDisplay) -> LeadPublic:
        """From a stored lead and its brief in words."""
        data = lead.model_dump()
        data["brief"] = BriefPublic.model_validate(lead.brief)
        return cls.model_validate({**data, "display": display})


class LeadDetail(LeadPublic):
    """A lead with its conversation's transcript (kept with the lead after the conversation
    expires)."""

    transcript: list[TranscriptEntry]


class LeadPage(BaseModel):
    """One page of leads, most recently updated first."""

    items: list[LeadPublic]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class StatsPublic(Stats):
    """Aggregate numbers over live conversations, their turns and all leads."""


# ---- the catalog and matches (docs/matching.md) ----


class ListingPublic(BaseModel):
    """One listing of the catalog. ``price`` is per month for ``rent``, the total for
    ``sale``; ``price_per_m2`` likewise. ``source`` is ``synthetic`` for the generated
    catalog, else the file it was imported from."""

    id: str
    property_type: PropertyKind
    offer: Offer
    title: str
    city: str
    country: str
    admin1: str | None
    zone: str | None
    lat: float
    lon: float
    size_m2: float
    price: float
    currency: str
    price_per_m2: float
    amenities: dict[str, int | float | bool]
    available_from: dt.date | None
    source: str

    @classmethod
    def of(cls, listing: Listing) -> ListingPublic:
        """The public form of ``listing``."""
        return cls(
            id=listing.id,
            property_type=listing.property_type,
            offer=listing.offer,
            title=listing.title,
            city=listing.city.value,
            country=listing.city.country,
            admin1=listing.city.admin1,
            zone=listing.zone,
            lat=listing.lat,
            lon=listing.lon,
            size_m2=listing.size_m2,
            price=listing.price,
            currency=listing.currency,
            price_per_m2=round(listing.price_per_m2, 2),
            amenities=listing.amenities.stated(),
            available_from=listing.available_from,
            source=listing.source,
        )


class MatchPublic(BaseModel):
    """A listing that fits, its score (0–1), distance from the wanted city (0 inside it) and
    why it fits: ``reasons`` one phrase each and ``summary`` on one line, in the language
    asked for."""

    listing: ListingPublic
    score: float
    distance_km: float
    reasons: list[str]
    summary: str


class WantPublic(BaseModel):
    """What was searched. ``offer_source``: ``modality`` (rent/buy said), ``period`` (a
    monthly or total budget) or ``assumed`` (read from the amount against local prices);
    ``budget_home`` is the budget in ``home_currency``."""

    property_type: PropertyKind
    city: str
    country: str
    zone: str | None
    offer: Offer
    offer_source: OfferSource
    size_m2: float | None
    size_min: float | None
    size_max: float | None
    budget: float | None
    budget_currency: str | None
    budget_home: float | None
    home_currency: str
    rates_date: dt.date
    extras: dict[str, int | float | bool]


class RelaxationPublic(BaseModel):
    """One constraint loosened on its own and how many listings that found."""

    relax: Relax
    count: int
    more: bool
    text: str


class RelaxationsPublic(BaseModel):
    """Present when nothing fitted: ``applied`` is the relaxation the listings come from
    (``None``: none found anything); ``tried`` every one; ``text`` all of them in words."""

    applied: Relax | None
    text: str
    tried: list[RelaxationPublic]


class MarketCheckPublic(BaseModel):
    """The budget against the city's median price per m² (``budget``), a question when the
    amount reads as the other offer (``question``), or why there is neither (``note``:
    ``no_budget``, ``no_size``, ``no_data``); ``text`` says it in words."""

    offer: Offer
    verdict: Verdict | None
    text: str | None
    budget: BudgetCheck | None
    question: OfferQuestion | None
    note: Note | None


class MatchesPublic(BaseModel):
    """Listings that fit the conversation's brief, best first."""

    conversation_id: str
    language: Language
    complete: bool = Field(
        description="The brief is complete; false: a preview from its type, city and what "
        "else it has so far."
    )
    want: WantPublic
    total: int
    more: bool
    listings: list[MatchPublic]
    relaxation: RelaxationsPublic | None
    market_check: MarketCheckPublic

    @classmethod
    def of(
        cls, conversation_id: str, result: MatchResult, language: Language, *, complete: bool
    ) -> MatchesPublic:
        """The public form of ``result`` in ``language`` (``complete``: the brief is)."""
        want = result.want
        market = result.market
        assert market is not None
        relaxation = None
        if result.relaxation_text is not None:
            relaxation = RelaxationsPublic(
                applied=result.relaxed,
                text=result.relaxation_text[language],
                tried=[
                    RelaxationPublic(relax=r.relax, count=r.count, more=r.more, text=text)
                    for r, text in result.relaxation_words(language)
                ],
            )
        check = market.check
        return cls(
            conversation_id=conversation_id,
            language=language,
            complete=complete,
            want=WantPublic(
                property_type=want.kind,
                city=want.city.value,
                country=want.city.country,
                zone=want.zone,
                offer=want.offer,
                offer_source=want.offer_source,
                size_m2=want.size_m2,
                size_min=want.size_min,
                size_max=want.size_max,
                budget=want.budget,
                budget_currency=want.budget_currency,
                budget_home=want.budget_home,
                home_currency=result.home_currency,
                rates_date=result.rates_date,
                extras=dict(want.extras),
            ),
            total=result.total,
            more=result.more,
            listings=[
                MatchPublic(
                    listing=ListingPublic.of(m.listing),
                    score=m.score,
                    distance_km=m.distance_km,
                    reasons=list(m.reasons[language]),
                    summary=m.summary[language],
                )
                for m in result.listings
            ],
            relaxation=relaxation,
            market_check=MarketCheckPublic(
                offer=check.offer,
                verdict=check.budget.verdict if check.budget else None,
                text=market.text[language],
                budget=check.budget,
                question=check.question,
                note=check.note,
            ),
        )


# The turn bodies name models defined after them.
TurnPublic.model_rebuild()
ConversationCreated.model_rebuild()
