"""Fixed-window rate limits: in-process, or in Redis so every API process shares the counts.

A key (``msg:<conversation>``, ``new:<client address>``) may be hit ``limit`` times per window
of ``window_s`` seconds; the next hit is refused with the seconds until the window ends
(``Retry-After``). Counting is one atomic Redis script per hit. When Redis fails, the process
falls back to its own counts (logged) rather than refusing every prospect.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from realty.errors import RealtyError

logger = logging.getLogger("realty.ratelimit")

# INCR the window's counter, start its expiry on the first hit; return the count and the TTL.
_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""
_PRUNE_EVERY = 1024


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
    """Counts hits per key and window."""

    async def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit on ``key``; ``limit`` 0 means unlimited."""
        ...


def _decision(count: int, limit: int, ttl_s: float) -> RateDecision:
    if count <= limit:
        return RateDecision(allowed=True, limit=limit, remaining=limit - count)
    return RateDecision(
        allowed=False, limit=limit, remaining=0, retry_after_s=max(1, math.ceil(ttl_s))
    )


class LocalRateLimiter:
    """Counts in this process (one API process, tests, or a Redis outage)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key → (window end, count)
        self._hits = 0

    async def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit on ``key`` in the current window."""
        if limit <= 0:
            return ALLOWED
        now = self._clock()
        self._hits += 1
        if self._hits % _PRUNE_EVERY == 0:
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        end, count = self._windows.get(key, (0.0, 0))
        if end <= now:
            end, count = now + window_s, 0
        count += 1
        self._windows[key] = (end, count)
        return _decision(count, limit, end - now)


class RedisRateLimiter:
    """Counts in Redis, shared by every process.

    Args:
        redis: A client (the caller owns and closes it).
        prefix: Prefix of the counter keys.
    """

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_SCRIPT)
        self._fallback = LocalRateLimiter()

    async def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit on ``key``; falls back to local counts when Redis fails."""
        if limit <= 0:
            return ALLOWED
        name = f"{self._prefix}:rate:{key}"
        try:
            count, ttl_ms = await self._script(keys=[name], args=[window_s * 1000])
        except (RedisError, OSError) as exc:
            logger.warning("rate limit counted locally (%s): %s", type(exc).__name__, exc)
            return await self._fallback.hit(key, limit, window_s)
        return _decision(int(count), limit, int(ttl_ms) / 1000)
