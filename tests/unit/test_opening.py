"""Opening a conversation once per Idempotency-Key, over the in-memory store with a clock of the
test's own: what is stored, a repeat that arrives early, and the ways a key is freed."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from realty.errors import StorageError
from realty.llm.base import LLMRequest
from realty.llm.fake import FunctionLLM
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService
from realty.services.factory import build_service
from realty.services.opening import ABANDONED_S, Opened, Opener, Opening
from realty.services.wire import ProblemError
from realty.settings import Settings
from realty.store.memory import InMemoryStore

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(hours=24)
KEY = "0b5c1e1e-8d4f-4b8e-9a57-0e3a4a0c2f11"
FIRST = "I need an office in Monterrey with a rooftop terrace."


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class HangingOnce(InMemoryStore):
    """The first commit after a greeting never returns (the process handling it died)."""

    def __init__(self) -> None:
        super().__init__()
        self.hung = False

    async def commit(self, *args: Any, **kwargs: Any) -> None:
        if not self.hung:
            self.hung = True
            await asyncio.Event().wait()
        await super().commit(*args, **kwargs)


class FailingOnce(InMemoryStore):
    """Fails the first commit after the greeting (a database hiccup on the first message)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def commit(self, *args: Any, **kwargs: Any) -> None:
        if not self.failed:
            self.failed = True
            raise StorageError("cannot save the turn: OperationalError")
        await super().commit(*args, **kwargs)


def _service(
    parser: Parser, clock: Clock, store: InMemoryStore | None = None, llm: Any = None, **kw: Any
) -> ConversationService:
    settings = Settings(llm_provider="none", **kw)
    return build_service(
        settings, store=store or InMemoryStore(), parser=parser, llm=llm, now=clock
    )


async def _admit() -> None:
    return None


def _open(opener: Opener, opening: Opening, key: str = KEY, client: str = "203.0.113.7") -> Any:
    return opener.open(opening, key=key, client=client, admit=_admit)


def test_the_store_keeps_no_token_and_only_the_same_client_and_key_get_it_back(
    parser: Parser,
) -> None:
    clock = Clock()
    store = InMemoryStore()
    opener = Opener(_service(parser, clock, store), TTL)

    async def run() -> tuple[Opened, Opened, Opened, Opened]:
        first = await _open(opener, Opening(text=FIRST))
        again = await _open(opener, Opening(text=FIRST))
        elsewhere = await _open(opener, Opening(text=FIRST), client="203.0.113.8")
        other_key = await _open(opener, Opening(text=FIRST), key=KEY.replace("0", "1"))
        return first, again, elsewhere, other_key

    first, again, elsewhere, other_key = asyncio.run(run())
    assert (again.conversation_id, again.token, again.replayed) == (
        first.conversation_id,
        first.token,
        True,
    )
    assert again.result.reply == first.result.reply
    assert elsewhere.conversation_id != first.conversation_id
    assert other_key.conversation_id != first.conversation_id
    # Everything the store holds (conversations, logs, keys) names neither token nor key.
    held = repr(vars(store))
    assert "sealed_token" in held
    for secret in (first.token, first.token.encode().hex(), KEY):
        assert secret not in held


def test_a_repeat_during_the_first_message_waits_for_it(parser: Parser) -> None:
    """The first request's model takes 0.4 s and its reply waits for it: a repeat that
    arrives meanwhile waits and gets the same answer; one that will not wait long gets 409."""

    async def slow(request: LLMRequest) -> dict[str, Any]:
        await asyncio.sleep(0.4)
        return {}

    clock = Clock()
    service = _service(
        parser, clock, llm=FunctionLLM(slow), llm_reply_deadline_ms=5000, llm_timeout_s=5
    )
    patient, hasty = Opener(service, TTL), Opener(service, TTL, wait_s=0.1)

    async def run() -> tuple[Opened, Opened, ProblemError]:
        first = asyncio.create_task(_open(patient, Opening(text=FIRST)))
        await asyncio.sleep(0.05)
        with pytest.raises(ProblemError) as refused:
            await _open(hasty, Opening(text=FIRST))
        repeat = await _open(patient, Opening(text=FIRST))
        return await first, repeat, refused.value

    first, repeat, refused = asyncio.run(run())
    assert refused.problem.status == 409
    assert refused.headers == {"Retry-After": "1"}
    assert repeat.replayed
    assert repeat.conversation_id == first.conversation_id
    assert repeat.result.seq == first.result.seq == 2
    assert repeat.result.reply == first.result.reply


def test_a_first_message_that_failed_frees_the_key(parser: Parser) -> None:
    clock = Clock()
    opener = Opener(_service(parser, clock, FailingOnce()), TTL)

    async def run() -> tuple[str, Opened]:
        with pytest.raises(StorageError) as failed:
            await _open(opener, Opening(text=FIRST))
        return str(failed.value), await _open(opener, Opening(text=FIRST))

    error, retried = asyncio.run(run())
    assert "cannot save the turn" in error
    assert not retried.replayed  # handled afresh, not waited for
    assert retried.result.seq == 2


def test_a_key_whose_first_message_never_came_is_freed_after_a_while(parser: Parser) -> None:
    """The request that opened the conversation never stores its first message (its process
    died): a repeat gets 409 until ``ABANDONED_S`` have passed, then a new conversation."""
    clock = Clock()
    opener = Opener(_service(parser, clock, HangingOnce()), TTL, wait_s=0.05)

    async def run() -> tuple[int, Opened]:
        dead = asyncio.create_task(_open(opener, Opening(text=FIRST)))
        await asyncio.sleep(0.05)
        with pytest.raises(ProblemError) as refused:
            await _open(opener, Opening(text=FIRST))
        clock.now += dt.timedelta(seconds=ABANDONED_S + 1)
        retried = await _open(opener, Opening(text=FIRST))
        dead.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dead
        return refused.value.problem.status, retried

    status, retried = asyncio.run(run())
    assert status == 409
    assert not retried.replayed
    assert retried.result.seq == 2


def test_a_key_is_forgotten_after_its_lifetime(parser: Parser) -> None:
    clock = Clock()
    opener = Opener(_service(parser, clock), dt.timedelta(minutes=10))

    async def run() -> list[Opened]:
        first = await _open(opener, Opening())
        clock.now += dt.timedelta(minutes=9)
        within = await _open(opener, Opening())
        clock.now += dt.timedelta(minutes=2)
        return [first, within, await _open(opener, Opening())]

    first, within, after = asyncio.run(run())
    assert within.conversation_id == first.conversation_id
    assert after.conversation_id != first.conversation_id
    assert not after.replayed
