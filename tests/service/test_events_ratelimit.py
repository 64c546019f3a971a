"""The event bus and the rate limiters, in process and over the real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from realty.services.events import RESYNC, LocalEventBus, RedisEventBus, Subscription
from realty.services.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def _next(subscription: Subscription) -> dict[str, object]:
    return await asyncio.wait_for(subscription.get(), timeout=5)


async def test_local_bus_delivers_to_the_conversations_subscribers_only() -> None:
    bus = LocalEventBus()
    async with bus.subscribe("a") as first, bus.subscribe("a") as second, bus.subscribe("b") as b:
        await bus.publish("a", {"type": "reply", "seq": 2})
        assert await _next(first) == {"type": "reply", "seq": 2}
        assert await _next(second) == {"type": "reply", "seq": 2}
        await bus.publish("b", {"type": "typing"})
        assert await _next(b) == {"type": "typing"}
    assert not bus.has_subscribers("a")


async def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    subscription = Subscription(size=3)
    for seq in range(5):
        subscription.deliver({"type": "reply", "seq": seq})
    assert await _next(subscription) == RESYNC


async def test_redis_bus_crosses_processes_and_stops_after_unsubscribe(
    redis: Redis, redis_url: str, redis_prefix: str
) -> None:
    # Two buses with their own connections stand for two API processes.
    other = Redis.from_url(redis_url)
    sender, receiver = RedisEventBus(other, redis_prefix), RedisEventBus(redis, redis_prefix)
    try:
        async with receiver.subscribe("c1") as subscription:
            await sender.publish("c1", {"type": "reply", "seq": 7, "reply": "hola"})
            await sender.publish("c2", {"type": "reply", "seq": 1})  # not subscribed
            await sender.publish("c1", {"type": "brief", "seq": 7})
            assert await _next(subscription) == {"type": "reply", "seq": 7, "reply": "hola"}
            assert await _next(subscription) == {"type": "brief", "seq": 7}
        channels = await redis.pubsub_channels(f"{redis_prefix}:events:c1")
        assert channels == []
    finally:
        await sender.close()
        await receiver.close()
        await other.aclose()


async def test_redis_bus_ignores_malformed_payloads(redis: Redis, redis_prefix: str) -> None:
    bus = RedisEventBus(redis, redis_prefix)
    try:
        async with bus.subscribe("c1") as subscription:
            await redis.publish(f"{redis_prefix}:events:c1", b"{not json")
            await redis.publish(f"{redis_prefix}:events:c1", b"[1, 2]")
            await bus.publish("c1", {"type": "typing"})
            assert await _next(subscription) == {"type": "typing"}
    finally:
        await bus.close()


async def test_publishing_without_redis_logs_and_does_not_raise(redis_prefix: str) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        await RedisEventBus(dead, redis_prefix).publish("c1", {"type": "typing"})
    finally:
        await dead.aclose()


async def test_without_redis_a_subscriber_still_hears_its_own_process(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    bus = RedisEventBus(dead, redis_prefix)
    try:
        async with bus.subscribe("c1") as subscription:  # no error: degraded, not down
            await bus.publish("c1", {"type": "typing"})
            assert await _next(subscription) == {"type": "typing"}
    finally:
        await bus.close()
        await dead.aclose()
    assert "live events from this process only" in caplog.text


def _after_a_window_starts(window_s: int) -> None:
    """Sleep until just after the in-process storage's next window boundary."""
    time.sleep(window_s - time.time() % window_s + 0.02)


async def _burst(limiter: RateLimiter, key: str, limit: int, window_s: int, n: int) -> list[bool]:
    return [(await limiter.hit(key, limit, window_s)).allowed for _ in range(n)]


async def test_local_limiter_refuses_a_burst_with_retry_after_per_key() -> None:
    limiter = LocalRateLimiter()
    assert await _burst(limiter, "k", 3, 60, 4) == [True, True, True, False]
    refused = await limiter.hit("k", 3, 60)
    assert not refused.allowed
    assert refused.limit == 3
    assert 1 <= refused.retry_after_s <= 60
    assert (await limiter.hit("other", 3, 60)).allowed  # each key has its own count
    assert (await limiter.hit("k", 0, 60)).allowed  # 0: no limit


async def test_local_limiter_slides_a_burst_across_the_window_boundary() -> None:
    # A fixed window would let a full burst through again right after the boundary; the
    # sliding window still counts most of the previous one, so only one more hit passes.
    limiter = LocalRateLimiter()
    _after_a_window_starts(2)
    assert await _burst(limiter, "k", 3, 2, 3) == [True, True, True]
    await asyncio.sleep(2.05)  # just past the next boundary
    assert await _burst(limiter, "k", 3, 2, 3) == [True, False, False]


async def test_redis_limiter_slides_a_burst_across_the_window_boundary(
    redis: Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(redis, redis_prefix)
    assert await _burst(limiter, "k", 3, 2, 3) == [True, True, True]
    await asyncio.sleep(2.05)  # Redis windows start at the first hit
    assert await _burst(limiter, "k", 3, 2, 3) == [True, False, False]


async def test_redis_limiter_is_shared_by_every_process(
    redis: Redis, redis_url: str, redis_prefix: str
) -> None:
    other = Redis.from_url(redis_url)
    try:
        a, b = RedisRateLimiter(redis, redis_prefix), RedisRateLimiter(other, redis_prefix)
        decisions = [await (a if n % 2 else b).hit("msg:c1", 4, 60) for n in range(6)]
        assert [d.allowed for d in decisions] == [True, True, True, True, False, False]
        assert [d.remaining for d in decisions[:4]] == [3, 2, 1, 0]
        assert 59 <= decisions[-1].retry_after_s <= 60
        keys = [key async for key in redis.scan_iter(f"{redis_prefix}:rate:*")]
        assert keys
        ttls = [await redis.pttl(key) for key in keys]
        assert all(0 < ttl <= 120_000 for ttl in ttls)
    finally:
        await other.aclose()


async def test_redis_limiter_falls_back_to_local_counts_when_redis_is_down(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        limiter = RedisRateLimiter(dead, redis_prefix)
        allowed = await _burst(limiter, "k", 2, 60, 3)
        assert allowed == [True, True, False]
    finally:
        await dead.aclose()
    assert "rate limits counted locally" in caplog.text


async def test_after_a_redis_failure_the_limiter_counts_locally_for_a_pause(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        limiter = RedisRateLimiter(dead, redis_prefix, pause_s=5, clock=lambda: now[0])
        await _burst(limiter, "k", 10, 60, 4)
        # One attempt on Redis, then local counts without paying its timeout again.
        assert caplog.text.count("rate limits counted locally") == 1
        assert limiter.counting_locally
        now[0] += 5
        assert not limiter.counting_locally
        await _burst(limiter, "k", 10, 60, 1)  # Redis is tried again (and fails again)
        assert caplog.text.count("rate limits counted locally") == 2
    finally:
        await dead.aclose()
