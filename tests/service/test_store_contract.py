"""The store contract, held by the in-memory store and the SQL store on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from realty.domain.brief import Brief, Scalar, Slot
from realty.domain.state import ConversationState
from realty.store.base import (
    ConversationStore,
    DuplicateChannelKeyError,
    DuplicateIdempotencyKeyError,
    DuplicateMessageError,
    IdempotencyRecord,
    LeadChange,
    LeadFilter,
    StoredConversation,
    TurnRecord,
    VersionConflictError,
    lead_cursor,
)
from realty.store.engine import make_engine, upgrade
from realty.store.memory import InMemoryStore
from realty.store.sql import SqlStore

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(hours=1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        yield await _sql(url)
        return
    postgres = request.getfixturevalue("postgres_url")
    yield await _sql(postgres)


_OPENED: list[tuple[Any, SqlStore]] = []


async def _sql(url: str) -> SqlStore:
    upgrade(url)
    engine = make_engine(url)
    store = SqlStore(engine)
    _OPENED.append((engine, store))
    return store


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    yield
    while _OPENED:
        engine, store = _OPENED.pop()
        store.close()
        engine.dispose()


def _conversation(cid: str, *, key: str | None = None, at: dt.datetime = T0) -> StoredConversation:
    return StoredConversation(
        id=cid,
        state=ConversationState(),
        version=1,
        token_hash="0" * 64,
        channel="whatsapp" if key else "api",
        channel_key=key,
        created_at=at,
        updated_at=at,
        expires_at=at + TTL,
    )


def _record(
    seq: int, text: str = "hola", cmid: str | None = None, at: dt.datetime = T0
) -> TurnRecord:
    return TurnRecord(
        seq=seq, turn=seq - 1, text=text, reply="ok", client_message_id=cmid, created_at=at
    )


def _state(turn: int) -> ConversationState:
    return ConversationState(turn=turn, phase="complete" if turn > 2 else "collecting")


async def _open(
    store: ConversationStore, cid: str, idempotency: IdempotencyRecord | None = None, **kwargs: Any
) -> None:
    greeting = _record(1, "").model_copy(update={"kind": "start"})
    await store.create(_conversation(cid, **kwargs), greeting, idempotency)


def _key(
    cid: str, key: str = "k", at: dt.datetime = T0, ttl: dt.timedelta = TTL
) -> IdempotencyRecord:
    return IdempotencyRecord(
        key_hash=key * 64,
        fingerprint="f" * 64,
        conversation_id=cid,
        sealed_token="00" * 43,
        created_at=at,
        expires_at=at + ttl,
    )


async def test_commit_advances_the_version_and_appends(store: Any) -> None:
    await _open(store, "c1")
    await store.commit("c1", 1, _state(1), _record(2, "I need an office"), expires_at=T0 + TTL)
    loaded = await store.load("c1", T0)
    assert loaded.version == 2
    assert loaded.state.turn == 1
    assert [t.text for t in await store.history("c1")] == ["", "I need an office"]


async def test_a_stale_version_is_refused_and_stores_nothing(store: Any) -> None:
    await _open(store, "c1")
    await store.commit("c1", 1, _state(1), _record(2, "first"), expires_at=T0 + TTL)
    with pytest.raises(VersionConflictError):
        await store.commit("c1", 1, _state(1), _record(2, "stale"), expires_at=T0 + TTL)
    assert [t.text for t in await store.history("c1")] == ["", "first"]
    assert (await store.load("c1", T0)).version == 2


async def test_a_repeated_client_message_id_is_refused_atomically(store: Any) -> None:
    await _open(store, "c1")
    await store.commit("c1", 1, _state(1), _record(2, cmid="m1"), expires_at=T0 + TTL)
    with pytest.raises(DuplicateMessageError):
        await store.commit("c1", 2, _state(2), _record(3, cmid="m1"), expires_at=T0 + TTL)
    assert (await store.load("c1", T0)).version == 2  # the state was not saved either
    found = await store.find_turn("c1", "m1")
    assert found is not None
    assert found.seq == 2
    assert await store.find_turn("c1", "m2") is None


async def test_expired_conversations_are_invisible_then_purged_keeping_leads(store: Any) -> None:
    await _open(store, "done")
    lead = LeadChange(status="new", brief={"complete": True}, language="en", channel="api")
    await store.commit("done", 1, _state(3), _record(2), expires_at=T0 + TTL, lead=lead)
    await _open(store, "fresh", at=T0 + dt.timedelta(minutes=30))
    later = T0 + TTL + dt.timedelta(seconds=1)
    assert await store.load("done", later) is None
    assert await store.load("fresh", later) is not None
    assert await store.purge_expired(later) == ["done"]
    assert await store.history("done") == []
    (kept,) = await store.leads()
    assert kept.conversation_id is None
    assert kept.brief == {"complete": True}


async def test_one_live_conversation_per_channel_key(store: Any) -> None:
    await _open(store, "a", key="whatsapp:+5215500000000")
    with pytest.raises(DuplicateChannelKeyError):
        await _open(store, "b", key="whatsapp:+5215500000000")
    found = await store.find_by_channel("whatsapp", "whatsapp:+5215500000000", T0)
    assert found is not None
    assert found.id == "a"
    # Once it expired, the same prospect starts afresh even before a purge.
    later = T0 + TTL
    await _open(store, "c", key="whatsapp:+5215500000000", at=later)
    again = await store.find_by_channel("whatsapp", "whatsapp:+5215500000000", later)
    assert again is not None
    assert again.id == "c"


async def test_an_idempotency_key_opens_one_conversation(store: Any) -> None:
    """The key is stored with the conversation; a second conversation with the same key is
    refused and nothing of it is stored."""
    await _open(store, "c1", _key("c1"))
    assert await store.find_idempotency("k" * 64, T0) == _key("c1")
    assert await store.find_idempotency("j" * 64, T0) is None
    with pytest.raises(DuplicateIdempotencyKeyError):
        await _open(store, "c2", _key("c2"))
    assert await store.load("c2", T0) is None
    assert await store.history("c2") == []
    assert (await store.find_idempotency("k" * 64, T0)) == _key("c1")
    await _open(store, "c3", _key("c3", key="j"))  # another key, another conversation
    assert (await store.find_idempotency("j" * 64, T0)) == _key("c3", key="j")


async def test_an_expired_key_is_invisible_reusable_and_purged(store: Any) -> None:
    short = dt.timedelta(minutes=5)
    await _open(store, "c1", _key("c1", ttl=short))
    later = T0 + short
    assert await store.find_idempotency("k" * 64, later) is None
    await _open(store, "c2", _key("c2", at=later, ttl=short), at=later)  # before any purge
    assert await store.find_idempotency("k" * 64, later) == _key("c2", at=later, ttl=short)
    await _open(store, "c3", _key("c3", key="j", ttl=short))
    # The purge erases expired keys, not only those of expired conversations.
    assert await store.purge_expired(later + dt.timedelta(seconds=1)) == []
    assert await store.find_idempotency("j" * 64, T0) is None
    assert await store.load("c3", T0) is not None
    assert await store.find_idempotency("k" * 64, later) is not None  # c2's is not expired


async def test_erasing_or_purging_a_conversation_frees_its_key(store: Any) -> None:
    await _open(store, "c1", _key("c1"))
    await _open(store, "c2", _key("c2", key="j", ttl=TTL * 48), at=T0)
    assert await store.delete("c1") is True
    assert await store.find_idempotency("k" * 64, T0) is None
    assert await store.purge_expired(T0 + TTL) == ["c2"]  # the key outlived its conversation
    assert await store.find_idempotency("j" * 64, T0) is None


async def test_forgetting_a_key_needs_its_conversation(store: Any) -> None:
    await _open(store, "c1", _key("c1"))
    await store.forget_idempotency("k" * 64, "c2")  # a newer conversation's key is kept
    assert await store.find_idempotency("k" * 64, T0) is not None
    await store.forget_idempotency("k" * 64, "c1")
    assert await store.find_idempotency("k" * 64, T0) is None
    assert await store.load("c1", T0) is not None  # the conversation stays


async def test_leads_page_by_cursor_most_recent_first(store: Any) -> None:
    for n in range(5):
        cid = f"c{n}"
        await _open(store, cid)
        status = "confirmed" if n % 2 else "new"
        change = LeadChange(status=status, brief={"n": n}, language="es", channel="api")
        at = T0 + dt.timedelta(minutes=n)
        await store.commit(cid, 1, _state(3), _record(2, at=at), expires_at=at + TTL, lead=change)
    first = await store.leads(limit=2)
    second = await store.leads(limit=2, before=lead_cursor(first[-1]))
    third = await store.leads(limit=2, before=lead_cursor(second[-1]))
    assert [lead.brief["n"] for lead in first + second + third] == [4, 3, 2, 1, 0]
    assert [lead.brief["n"] for lead in await store.leads(LeadFilter(status="confirmed"))] == [3, 1]
    with pytest.raises(ValueError, match="invalid cursor"):
        await store.leads(before="bm90LWEtY3Vyc29y")


async def test_a_lead_is_updated_in_place(store: Any) -> None:
    await _open(store, "c1")
    new = LeadChange(status="new", brief={"v": 1}, language="en", channel="api")
    done = LeadChange(status="confirmed", brief={"v": 2}, language="en", channel="api")
    await store.commit("c1", 1, _state(3), _record(2), expires_at=T0 + TTL, lead=new)
    later = T0 + dt.timedelta(minutes=1)
    await store.commit("c1", 2, _state(4), _record(3, at=later), expires_at=T0 + TTL, lead=done)
    (lead,) = await store.leads()
    assert (lead.status, lead.brief, lead.created_at, lead.updated_at) == (
        "confirmed",
        {"v": 2},
        T0,
        later,
    )


async def test_delete_erases_everything(store: Any) -> None:
    await _open(store, "c1")
    lead = LeadChange(status="new", brief={}, language="en", channel="api")
    await store.commit("c1", 1, _state(3), _record(2), expires_at=T0 + TTL, lead=lead)
    assert await store.delete("c1") is True
    assert await store.load("c1", T0) is None
    assert await store.history("c1") == []
    assert await store.leads() == []
    assert await store.delete("c1") is False


async def test_a_key_with_a_nul_names_nothing(store: Any) -> None:
    """PostgreSQL cannot hold a NUL in text, so no stored key has one: a lookup by such a key
    (a fuzzed ``/v1/conversations/c1%00``) finds nothing, as on every store, instead of
    failing as a storage error (a 503)."""
    await _open(store, "c1", key="whatsapp:+1")
    lead = LeadChange(status="new", brief={}, language="en", channel="api")
    await store.commit("c1", 1, _state(3), _record(2, cmid="m1"), expires_at=T0 + TTL, lead=lead)
    (stored,) = await store.leads()
    assert await store.load("c1\x00", T0) is None
    assert await store.find_by_channel("whatsapp", "whatsapp:+1\x00", T0) is None
    assert await store.find_turn("c1\x00", "m1") is None
    assert await store.find_turn("c1", "m1\x00") is None
    assert await store.history("c1\x00") == []
    assert await store.delete("c1\x00") is False
    assert await store.lead(stored.id + "\x00") is None
    assert await store.leads(LeadFilter(city="\x00")) == []
    assert await store.leads(LeadFilter(property_type="office\x00")) == []
    nul_cursor = lead_cursor(stored.model_copy(update={"id": stored.id + "\x00"}))
    with pytest.raises(ValueError, match="invalid cursor"):
        await store.leads(before=nul_cursor)
    assert await store.load("c1", T0) is not None  # nothing was erased


async def test_stats_count_live_conversations_turns_and_leads(store: Any) -> None:
    await _open(store, "c1")
    await _open(store, "c2", key="whatsapp:+1")
    lead = LeadChange(status="new", brief={}, language="en", channel="api")
    blocked = _record(2).model_copy(update={"blocked": True, "latency_ms": 2.0})
    await store.commit("c1", 1, _state(0), blocked, expires_at=T0 + TTL)
    ok = _record(3).model_copy(update={"llm_calls": 2, "latency_ms": 4.0})
    await store.commit("c1", 2, _state(3), ok, expires_at=T0 + TTL, lead=lead)
    stats = await store.stats(T0)
    assert stats.conversations == 2
    assert stats.conversations_by_channel == {"api": 1, "whatsapp": 1}
    assert stats.conversations_complete == 1
    assert (stats.turns, stats.blocked_turns, stats.llm_calls) == (2, 1, 2)
    assert stats.llm_calls_per_turn == 1.0
    assert stats.mean_latency_ms == 3.0
    assert stats.leads_by_status == {"new": 1}


def _brief(city: str, kind: str) -> dict[str, Any]:
    return {"fields": {"city": {"value": city}, "property_type": {"value": kind}}}


def _slots(*keys: str) -> ConversationState:
    """A state whose brief holds ``keys`` (the values do not matter to statistics)."""
    slots = {k: Slot(value=Scalar(kind="int", value=1)) for k in keys}
    return ConversationState(turn=1, brief=Brief(slots=slots))


async def test_every_store_computes_the_same_statistics(store: Any) -> None:
    """Completion, fill rate, blocking, model calls, latency percentiles and days."""
    day2 = T0 + dt.timedelta(days=1)
    await _open(store, "c1")
    done = _record(2).model_copy(update={"actions": ["summary", "brief_completed"]})
    done = done.model_copy(update={"turn": 2, "latency_ms": 10.0, "llm_calls": 1})
    lead = LeadChange(
        status="new", brief=_brief("Monterrey", "office"), language="en", channel="api"
    )
    await store.commit("c1", 1, _slots("budget", "city"), done, expires_at=day2 + TTL, lead=lead)
    again = _record(3, at=day2).model_copy(
        update={"turn": 3, "actions": ["summary", "brief_completed"], "latency_ms": 30.0}
    )
    await store.commit("c1", 2, _slots("budget", "city"), again, expires_at=day2 + TTL)
    await _open(store, "c2", at=day2)
    blocked = _record(2, at=day2).model_copy(
        update={"blocked": True, "block_reason": "empty", "latency_ms": 20.0, "turn": 0}
    )
    await store.commit("c2", 1, _slots("city"), blocked, expires_at=day2 + TTL)
    await _open(store, "c3", at=day2)  # greeting only

    stats = await store.stats(day2, days=3, fields=("budget", "city", "size"))
    assert (stats.conversations, stats.conversations_engaged) == (3, 2)
    assert stats.conversations_completed == 1
    assert stats.completion_rate == 0.5
    assert stats.turns_to_completion == {"2": 1}  # the first completion counts
    assert stats.fill_rate == {"budget": 0.5, "city": 1.0, "size": 0.0}
    assert stats.blocked_by_reason == {"empty": 1}
    assert stats.llm_calls_histogram == {"0": 2, "1": 1}
    assert (stats.p50_latency_ms, stats.p95_latency_ms) == (20.0, 30.0)
    assert stats.leads_by_city == {"Monterrey": 1}
    assert stats.leads_by_type == {"office": 1}
    assert [d.date.isoformat() for d in stats.days] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    empty, first, second = stats.days
    assert (empty.conversations, empty.turns, empty.p50_latency_ms) == (0, 0, None)
    assert (first.conversations, first.completed, first.turns) == (1, 1, 1)
    assert (first.p50_latency_ms, first.p95_latency_ms, first.llm_calls) == (10.0, 10.0, 1)
    assert (second.conversations, second.completed, second.turns) == (2, 0, 2)
    assert (second.blocked_turns, second.p50_latency_ms, second.p95_latency_ms) == (1, 20.0, 30.0)


async def test_leads_filter_and_detail_with_a_transcript_kept_after_purge(store: Any) -> None:
    for n, (city, kind) in enumerate([("Monterrey", "office"), ("Mexico City", "warehouse")]):
        cid = f"c{n}"
        at = T0 + dt.timedelta(days=n)
        await _open(store, cid, at=at)
        change = LeadChange(status="new", brief=_brief(city, kind), language="es", channel="api")
        record = _record(2, f"mensaje {n}", at=at)
        await store.commit(cid, 1, _state(3), record, expires_at=at + TTL, lead=change)
    everything = await store.leads()
    assert [lead.city for lead in everything] == ["Mexico City", "Monterrey"]
    by_city = await store.leads(LeadFilter(city="Monterrey"))
    assert [lead.property_type for lead in by_city] == ["office"]
    assert await store.leads(LeadFilter(property_type="warehouse", city="Monterrey")) == []
    from_day2 = await store.leads(LeadFilter(created_from=(T0 + dt.timedelta(days=1)).date()))
    assert [lead.conversation_id for lead in from_day2] == ["c1"]
    until_day1 = await store.leads(LeadFilter(created_to=T0.date()))
    assert [lead.conversation_id for lead in until_day1] == ["c0"]

    lead_id = by_city[0].id
    found = await store.lead(lead_id)
    assert found is not None
    lead, transcript = found
    assert lead.conversation_id == "c0"
    assert [(e.seq, e.kind, e.text) for e in transcript] == [
        (1, "start", ""),
        (2, "message", "mensaje 0"),
    ]
    assert len(await store.purge_expired(T0 + TTL)) == 1
    kept = await store.lead(lead_id)
    assert kept is not None
    assert kept[0].conversation_id is None
    assert kept[1] == transcript
    assert await store.lead("nope") is None
