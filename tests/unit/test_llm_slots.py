"""REALTY_LLM_MAX_CONCURRENCY: with every model slot taken a turn does not wait for the model,
the parser's reading answers it at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from realty.llm.base import LLMRequest
from realty.llm.fake import FunctionLLM
from realty.pipeline.parse import Parser
from realty.services.factory import build_service
from realty.services.slots import CallSlots
from realty.settings import Settings
from realty.store.memory import InMemoryStore

# The parser cannot explain "rooftop terrace": hybrid mode asks the model about it.
NEEDS_MODEL = "I need an office in Monterrey with a rooftop terrace"
TERRACE = {
    "extras": [
        {"key": "rooftop_terrace", "value": True, "type": "bool", "evidence": "rooftop terrace"}
    ]
}


def test_slots_never_wait_and_count_what_they_turn_away() -> None:
    slots = CallSlots(2)
    assert [slots.take(), slots.take(), slots.take()] == [True, True, False]
    assert slots.skipped == 1
    slots.give_back()
    assert slots.take()
    with pytest.raises(ValueError, match="at least one"):
        CallSlots(0)


def test_a_turn_finding_every_model_slot_busy_is_answered_by_the_parser_at_once(
    parser: Parser,
) -> None:
    async def run() -> None:
        release = asyncio.Event()

        async def slow_model(request: LLMRequest) -> dict[str, object]:
            await release.wait()
            return TERRACE

        llm = FunctionLLM(slow_model)
        # The reply would wait up to 30 s for the model: only a free slot lets it try.
        settings = Settings(
            llm_provider="none", llm_max_concurrency=1, llm_reply_deadline_ms=30_000
        )
        service = build_service(settings, store=InMemoryStore(), parser=parser, llm=llm)
        first, second = await service.start(), await service.start()

        holder = asyncio.create_task(
            service.handle_turn(first.conversation_id, NEEDS_MODEL, access=first.access)
        )
        while not llm.calls:
            await asyncio.sleep(0.001)  # the first turn now holds the only slot

        began = time.perf_counter()
        answered = await service.handle_turn(
            second.conversation_id, NEEDS_MODEL, access=second.access
        )
        waited = time.perf_counter() - began

        assert waited < 2  # far below the 30 s the reply would otherwise wait
        assert answered.llm_calls == 0
        assert not answered.refining
        assert answered.brief["fields"]["city"]["value"] == "Monterrey"
        assert "rooftop_terrace" not in answered.brief["extras"]
        assert len(llm.calls) == 1  # the second turn never reached the model
        assert service.llm_slots.skipped == 1

        release.set()
        held = await holder
        assert held.llm_calls == 1
        assert held.brief["extras"]["rooftop_terrace"]["value"] is True
        assert service.llm_slots.in_use == 0  # the slot is free again

        third = await service.start()
        release.set()
        again = await service.handle_turn(third.conversation_id, NEEDS_MODEL, access=third.access)
        assert again.llm_calls == 1

    asyncio.run(run())
