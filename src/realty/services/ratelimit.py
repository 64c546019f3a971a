"""Sliding-window rate limits (the ``limits`` library): in process, or in Redis so every API
process shares the counts.

A key (``msg:<conversation>``, ``new:<client address>``…) may be hit ``limit`` times in any
window of ``window_s`` seconds, approximately: the sliding-window counter weighs the previous
fixed window's count by how much of it still overlaps the sliding one, so a burst at the end
of one window still counts at the start of the next (a fixed window would let it through
twice). The refusal says when the next hit can pass (``Retry-After``, from the window's
statistics). Counting is one atomic Redis script per hit; when Redis fails, the process falls
back to its own counts (logged) rather than refusing every prospect.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from realty.errors import RealtyError

logger = logging.getLogger("realty.ratelimit")


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a hit is allowed; ``retry_after_s`` is set when it is not."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int = 0


ALLOWED = RateDecision(allowed=True, limit=0, remaining=0)


class RateLimitedError(RealtyError):
    """A hit was refused; ``decision`` says when to retry, ``scope`` what was limited."""

    def __init__(self, decision: RateDecision, scope: str, what: str) -> None:
        super().__init__(f"at most {decision.limit} {what} per window")
        self.decision = decision
        self.scope = scope
        self.what = what


class RateLimiter(Protocol):
    """Counts hits per key in a sliding window."""

    async def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit on ``key``; ``limit`` 0 means unlimited."""
        ...


class _WindowLimiter:
    """A sliding-window counter over a ``limits`` storage."""

    def __init__(self, storage: Storage) -> None:
        self._strategy = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit on ``key``; refused hits are not counted."""
        if limit <= 0:
            return ALLOWED
        item = RateLimitItemPerSecond(limit, window_s)
        allowed = await self._strategy.hit(item, key)
        stats = await self._strategy.get_window_stats(item, key)
        if allowed:
            return RateDecision(allowed=True, limit=limit, remaining=stats.remaining)
        wait = math.ceil(stats.reset_time - time.time())
        return RateDecision(
            allowed=False, limit=limit, remaining=0, retry_after_s=min(max(1, wait), window_s)
        )


class LocalRateLimiter(_WindowLimiter):
    """Counts in this process (one API process, tests, or a Redis outage)."""

    def __init__(self) -> None:
        super().__init__(MemoryStorage())


class RedisRateLimiter:
    """Counts in Redis, shared by every process.

    Args:
        redis: A client whose connection pool the counts use (the caller owns and closes it).
        prefix: Prefix of the counter keys (``<prefix>:rate:…``).
        pause_s: After a Redis failure, count locally this long before trying Redis again,
            so an outage costs one timeout, not one per request.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        pause_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{prefix}:rate",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        self._shared = _WindowLimiter(storage)
        self._fallback = LocalRateLimiter()
        self._pause_s = pause_s
        self._clock = clock
        self._local_until = 0.0

    @property
    def counting_locally(self) -> bool:
        """Whether Redis failed recently and hits are counted in this process."""
        return self._clock() < self._local_until

    async def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit on ``key``; falls back to local counts when Redis fails."""
        if self.counting_locally:
            return await self._fallback.hit(key, limit, window_s)
        try:
            return await self._shared.hit(key, limit, window_s)
        except (RedisError, OSError) as exc:
            self._local_until = self._clock() + self._pause_s
            logger.warning(
                "rate limits counted locally for %gs (%s): %s",
                self._pause_s,
                type(exc).__name__,
                exc,
            )
            return await self._fallback.hit(key, limit, window_s)
