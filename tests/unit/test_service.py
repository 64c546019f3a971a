"""The conversation service over the in-memory store: versions, retries, access and leads."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from realty.domain.state import ConversationState
from realty.llm.fake import FakeLLM
from realty.pipeline.parse import Parser
from realty.services.conversation import (
    MAX_ATTEMPTS,
    Bearer,
    ChannelIdentity,
    ConversationBusyError,
    ConversationService,
    TurnResult,
    UnknownConversationError,
)
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.base import LeadChange, TurnRecord
from realty.store.memory import InMemoryStore

FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."


class RacingStore(InMemoryStore):
    """Lets another writer commit just before each of the service's first ``races`` commits."""

    def __init__(self, races: int, rival: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self.races = races
        self.rival = rival
        self.commits = 0

    async def commit(
        self, conversation_id: str, expected_version: int, *args: Any, **kw: Any
    ) -> None:
        self.commits += 1
        if self.races > 0:
            self.races -= 1
            if self.rival is not None:
                await self.rival()
            else:  # another process saved a version of its own
                current = self._conversations[conversation_id]
                self._conversations[conversation_id] = current.model_copy(
                    update={"version": current.version + 1}
                )
        await super().commit(conversation_id, expected_version, *args, **kw)


def _service(parser: Parser, store: InMemoryStore, **settings: Any) -> ConversationService:
    return build_service(
        Settings(llm_provider="none", **settings),
        store=store,
        parser=parser,
        llm=settings.pop("llm", None),
    )


def test_a_lost_version_check_reruns_the_turn_on_the_newer_state(parser: Parser) -> None:
    store = RacingStore(races=0)
    service = _service(parser, store)
    other_process = _service(parser, store)

    async def run() -> tuple[TurnResult, list[TurnRecord]]:
        start = await service.start()

        async def rival() -> None:
            # The other process handled the first message meanwhile.
            store.rival = None
            await other_process.handle_turn(start.conversation_id, FIRST, access=start.access)

        store.races, store.rival = 1, rival
        result = await service.handle_turn(start.conversation_id, SECOND, access=start.access)
        return result, await store.turns(start.conversation_id)

    result, turns = asyncio.run(run())
    assert [t.text for t in turns] == ["", FIRST, SECOND]
    assert result.seq == 3
    assert result.brief["complete"] is True  # computed on the state the rival left
    assert service.version_conflicts == 1


def test_endless_conflicts_give_up_without_storing(parser: Parser) -> None:
    store = RacingStore(races=10**6)
    service = _service(parser, store)

    async def run() -> None:
        start = await service.start()
        with pytest.raises(ConversationBusyError):
            await service.handle_turn(start.conversation_id, FIRST, access=start.access)
        assert [t.kind for t in await store.turns(start.conversation_id)] == ["start"]

    asyncio.run(run())
    assert store.commits == MAX_ATTEMPTS


def test_access_is_by_token_or_by_channel_identity(parser: Parser) -> None:
    store = InMemoryStore()
    service = _service(parser, store)

    async def run() -> None:
        api = await service.start()
        wa_id, created = await service.open_channel("whatsapp", "whatsapp:+5215512345678")
        assert created is True
        assert await service.open_channel("whatsapp", "whatsapp:+5215512345678") == (wa_id, False)
        whatsapp = ChannelIdentity("whatsapp", "whatsapp:+5215512345678")
        await service.handle_turn(wa_id, "Busco una bodega", access=whatsapp)
        for cid, access in (
            (api.conversation_id, Bearer("wrong")),
            (api.conversation_id, whatsapp),
            (wa_id, api.access),
            (wa_id, ChannelIdentity("whatsapp", "whatsapp:+1")),
            ("nope", api.access),
        ):
            with pytest.raises(UnknownConversationError):
                await service.handle_turn(cid, "hola", access=access)

    asyncio.run(run())


def test_the_lead_follows_the_brief_new_then_confirmed(parser: Parser) -> None:
    store = InMemoryStore()
    service = _service(parser, store)

    async def run() -> list[str]:
        start = await service.start()
        statuses = []
        for text in (FIRST, SECOND, "yes, that's right", "actually make it 600 m2"):
            await service.handle_turn(start.conversation_id, text, access=start.access)
            leads = await store.leads()
            statuses.append(leads[0].status if leads else "-")
        return statuses

    assert asyncio.run(run()) == ["-", "new", "confirmed", "new"]


def test_llm_calls_and_their_time_are_recorded_per_turn(parser: Parser) -> None:
    store = InMemoryStore()
    llm = FakeLLM(
        {
            "extras": [
                {
                    "key": "rooftop_terrace",
                    "value": True,
                    "type": "bool",
                    "evidence": "rooftop terrace",
                }
            ]
        }
    )
    service = build_service(Settings(llm_provider="none"), store=store, parser=parser, llm=llm)

    async def run() -> TurnRecord:
        start = await service.start()
        await service.handle_turn(
            start.conversation_id,
            "I need an office in Monterrey with a rooftop terrace",
            access=start.access,
        )
        return (await store.turns(start.conversation_id))[-1]

    record = asyncio.run(run())
    assert record.llm_calls == 1
    assert record.llm_ms >= 0
    sources = {c["key"]: c["source"] for c in record.candidates}
    assert sources == {"property_type": "parser", "city": "parser", "rooftop_terrace": "llm"}
    assert record.brief["extras"]["rooftop_terrace"]["source"] == "llm"


def test_a_turn_record_says_what_was_understood(parser: Parser) -> None:
    store = InMemoryStore()
    service = _service(parser, store)

    async def run() -> list[TurnRecord]:
        start = await service.start()
        await service.handle_turn(
            start.conversation_id, "budget -5 USD", access=start.access, client_message_id="x"
        )
        return await store.turns(start.conversation_id)

    greeting, turn = asyncio.run(run())
    assert greeting.kind == "start"
    assert greeting.seq == 1
    assert turn.client_message_id == "x"
    assert turn.rejected[0]["reason"] == "non_positive_amount"
    assert turn.brief["fields"] == {}


def test_conversations_expire_after_the_ttl(parser: Parser) -> None:
    now = [dt.datetime(2026, 12, 1, tzinfo=dt.UTC)]
    store = InMemoryStore()
    service = build_service(
        Settings(llm_provider="none", conversation_ttl_s=600),
        store=store,
        parser=parser,
        llm=None,
        now=lambda: now[0],
    )

    async def run() -> None:
        start = await service.start()
        now[0] += dt.timedelta(seconds=599)
        await service.handle_turn(start.conversation_id, FIRST, access=start.access)
        now[0] += dt.timedelta(seconds=601)
        with pytest.raises(UnknownConversationError):
            await service.handle_turn(start.conversation_id, SECOND, access=start.access)
        assert await service.purge() == 1

    asyncio.run(run())


def test_lead_changes_carry_the_channel_contact() -> None:
    change = LeadChange(
        status="new", brief={}, language="es", channel="whatsapp", contact="whatsapp:+52"
    )
    assert change.contact == "whatsapp:+52"
    assert ConversationState().phase == "collecting"


def test_a_new_date_reschedules_the_visit_the_brief_holds(parser: Parser) -> None:
    service = build_service(
        Settings(llm_provider="none"),
        store=InMemoryStore(),
        parser=parser,
        today=lambda: dt.date(2026, 3, 10),
    )

    async def run() -> list[object]:
        start = await service.start()
        dates = []
        for text in ("I'd like to visit it on the 12th", "No, make it the 19th instead."):
            out = await service.handle_turn(start.conversation_id, text, access=start.access)
            assert out.state is not None
            slot = out.state.brief.slots.get("visit_date")
            dates.append(slot.value.value if slot is not None else None)  # type: ignore[union-attr]
        return dates

    assert asyncio.run(run()) == ["2026-03-12", "2026-03-19"]
