"""Reply first, refine later: a model reading that misses the reply deadline refines the brief
afterwards (the policy's ``refine`` and the service's ``refine`` entries)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_machine import REGISTRY, budget, cand, city, kinds, office, size, upd

from realty.domain.brief import PropertyType, Scalar
from realty.domain.machine import advance, refine
from realty.domain.state import ConversationState, Refined
from realty.llm.base import LLMRequest
from realty.llm.fake import FakeLLM, FunctionLLM
from realty.pipeline.parse import Parser
from realty.pipeline.respond import Responder
from realty.services.conversation import ConversationService
from realty.services.events import LocalEventBus
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore

TERRACE_TEXT = "I need an office in Monterrey with a rooftop terrace"
TERRACE = {
    "extras": [
        {"key": "rooftop_terrace", "value": True, "type": "bool", "evidence": "rooftop terrace"}
    ]
}


def terrace() -> Any:
    return cand("rooftop_terrace", Scalar(kind="bool", value=True))


# ---- the policy ----


def test_a_refinement_adds_what_the_brief_lacks_without_counting_a_turn() -> None:
    first = advance(ConversationState(), upd(office(), city()), REGISTRY).state

    refined = refine(first, upd(terrace()), REGISTRY, turn=1)

    assert kinds(refined) == ["refined"]
    assert refined.state.turn == first.turn == 1
    slot = refined.state.brief.get("rooftop_terrace")
    assert slot is not None
    assert slot.meta.turn == 1
    assert refined.state.asked == first.asked  # nothing new is asked
    reply = Responder(REGISTRY).render(refined)
    assert reply.startswith("Also noted:")
    assert "rooftop terrace" in reply


def test_a_later_turns_value_stands() -> None:
    first = advance(ConversationState(), upd(office(), city()), REGISTRY).state
    second = advance(first, upd(size(800)), REGISTRY).state

    refined = refine(second, upd(size(500)), REGISTRY, turn=1)

    assert refined.actions == ()
    assert refined.state == second


def test_a_value_from_the_same_turn_is_kept_unless_it_was_a_guess() -> None:
    first = advance(ConversationState(), upd(city(), size(500)), REGISTRY).state
    assert refine(first, upd(size(600)), REGISTRY, turn=1).actions == ()

    guess = cand("property_type", office().value.model_copy(update={"value": "other"}))  # type: ignore[union-attr]
    guessed = advance(ConversationState(), upd(guess, city()), REGISTRY).state
    assert guessed.brief.slots["property_type"].meta.status == "unconfirmed"

    refined = refine(guessed, upd(office()), REGISTRY, turn=1)

    assert refined.state.brief.slots["property_type"].value.value == "office"  # type: ignore[union-attr]


def test_a_refinement_that_completes_the_brief_shows_the_summary() -> None:
    first = advance(ConversationState(), upd(office(), city(), budget(20_000)), REGISTRY).state

    refined = refine(first, upd(size(500)), REGISTRY, turn=1)

    assert kinds(refined) == ["refined", "summary", "brief_completed"]
    assert refined.state.phase == "complete"
    assert refined.state.completed_once
    assert refined.state.asked == ()
    assert isinstance(refined.actions[0], Refined)


# ---- the service ----


class Gate:
    """A model that answers only when the test opens the gate."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.opened = asyncio.Event()
        self.answer = answer

    async def __call__(self, request: LLMRequest) -> dict[str, Any]:
        await self.opened.wait()
        return self.answer


def _service(
    parser: Parser, llm: Any, *, deadline_ms: int = 50, events: Any = None
) -> tuple[ConversationService, InMemoryStore]:
    store = InMemoryStore()
    settings = Settings(llm_provider="none", llm_reply_deadline_ms=deadline_ms)
    service = build_service(settings, store=store, parser=parser, llm=llm, events=events)
    return service, store


def test_the_reply_does_not_wait_and_the_late_answer_refines_the_brief(parser: Parser) -> None:
    gate = Gate(TERRACE)
    events = LocalEventBus()
    service, store = _service(parser, FunctionLLM(gate), events=events)

    async def run() -> tuple[Any, ...]:
        start = await service.start()
        cid = start.conversation_id
        async with events.subscribe(cid) as subscription:
            result = await service.handle_turn(cid, TERRACE_TEXT, access=start.access)
            assert "rooftop_terrace" not in result.brief["extras"]  # replied without the model
            gate.opened.set()
            refinements = await service.settle()
            seen: list[dict[str, Any]] = []
            while len(seen) < 4:
                event = await asyncio.wait_for(subscription.get(), 1)
                if event["type"] != "typing":
                    seen.append(event)
        view = await service.view(cid, access=start.access)
        return result, refinements, seen, view, await store.turns(cid)

    result, refinements, seen, view, log = asyncio.run(run())

    assert result.refining
    assert result.llm_calls == 1  # the call was made on this turn
    assert [r.applied for r in refinements] == [("rooftop_terrace",)]
    assert refinements[0].turn == 1
    assert refinements[0].refined_ms > 0
    assert refinements[0].reply is not None
    assert "rooftop terrace" in refinements[0].reply
    assert view.brief["extras"]["rooftop_terrace"]["source"] == "llm"
    assert view.turns == 1  # a refinement is not a turn
    assert [entry.kind for entry in log] == ["start", "message", "refine"]
    refine_entry = log[-1]
    assert refine_entry.turn == 1
    assert refine_entry.text == TERRACE_TEXT
    assert refine_entry.accepted == ["rooftop_terrace"]
    # Clients see the turn and then its refinement, each as a reply and a brief update.
    types = [(e["type"], e.get("kind")) for e in seen]
    assert types == [("reply", "message"), ("brief", None), ("reply", "refine"), ("brief", None)]
    assert "rooftop_terrace" in seen[3]["brief"]["extras"]


def test_a_model_that_answers_in_time_is_used_in_the_reply(parser: Parser) -> None:
    service, _store = _service(parser, FakeLLM(TERRACE), deadline_ms=5_000)

    async def run() -> Any:
        start = await service.start()
        result = await service.handle_turn(start.conversation_id, TERRACE_TEXT, access=start.access)
        assert await service.settle() == []
        return result

    result = asyncio.run(run())
    assert not result.refining
    assert result.brief["extras"]["rooftop_terrace"]["value"] is True


def test_a_late_answer_for_an_erased_conversation_writes_nothing(parser: Parser) -> None:
    gate = Gate(TERRACE)
    service, store = _service(parser, FunctionLLM(gate))

    async def run() -> Any:
        start = await service.start()
        cid = start.conversation_id
        await service.handle_turn(cid, TERRACE_TEXT, access=start.access)
        await service.erase(cid, access=start.access)
        gate.opened.set()
        return await service.settle(), await store.turns(cid)

    refinements, log = asyncio.run(run())
    assert [r.applied for r in refinements] == [()]
    assert log == []


def test_a_late_answer_with_nothing_new_writes_no_entry(parser: Parser) -> None:
    gate = Gate({"extras": []})
    service, store = _service(parser, FunctionLLM(gate))

    async def run() -> Any:
        start = await service.start()
        await service.handle_turn(start.conversation_id, TERRACE_TEXT, access=start.access)
        gate.opened.set()
        return await service.settle(), await store.turns(start.conversation_id)

    refinements, log = asyncio.run(run())
    assert [r.applied for r in refinements] == [()]
    assert [entry.kind for entry in log] == ["start", "message"]


def test_closing_the_service_stops_readings_still_running(parser: Parser) -> None:
    gate = Gate(TERRACE)  # never opened
    service, store = _service(parser, FunctionLLM(gate))

    async def run() -> Any:
        start = await service.start()
        await service.handle_turn(start.conversation_id, TERRACE_TEXT, access=start.access)
        await service.aclose()
        return await service.settle(), await store.turns(start.conversation_id)

    refinements, log = asyncio.run(run())
    assert refinements == []
    assert [entry.kind for entry in log] == ["start", "message"]


@pytest.mark.parametrize("deadline_ms", [0, 1])
def test_statistics_count_the_turn_once_with_its_model_call(
    parser: Parser, deadline_ms: int
) -> None:
    gate = Gate(TERRACE)
    service, store = _service(parser, FunctionLLM(gate), deadline_ms=deadline_ms)

    async def run() -> Any:
        start = await service.start()
        await service.handle_turn(start.conversation_id, TERRACE_TEXT, access=start.access)
        gate.opened.set()
        await service.settle()
        return await store.stats(service.now())

    stats = asyncio.run(run())
    assert stats.turns == 1
    assert stats.llm_calls == 1
    assert stats.llm_calls_histogram == {"1": 1}


def test_a_kind_the_model_proposes_for_a_business_is_asked_about() -> None:
    first = advance(ConversationState(), upd(city(), size(300)), REGISTRY).state
    proposal = cand(
        "property_type", PropertyType(value="retail", text="escape room", proposed=True)
    )

    refined = refine(first, upd(proposal), REGISTRY, turn=1)

    assert kinds(refined) == ["confirm_type"]  # the question names the kind
    assert refined.state.pending is not None
    assert refined.state.brief.slots["property_type"].meta.status == "unconfirmed"
    reply = Responder(REGISTRY).render(refined)
    assert "escape room" in reply
