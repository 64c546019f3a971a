"""A circuit breaker around a provider: stop calling a model that keeps failing.

A provider that is down, overloaded or hanging costs every turn its full timeout before the
parser's reading is used anyway. After ``failures`` failures in a row (a ``ProviderError``, or
a call cancelled by the caller's timeout) the breaker *opens*: calls fail at once with
:class:`~realty.errors.ProviderUnavailableError` and the turn is answered from the parser
without waiting. After ``reset_s`` seconds one trial call is let through (*half-open*): its
success closes the breaker, its failure opens it again for another ``reset_s``.

The state machine is small enough to keep here rather than depend on a breaker library (the
maintained ones are synchronous or tied to another event loop), and it is tested with a clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from realty.errors import ProviderUnavailableError
from realty.llm.base import LLM, LLMRequest, LLMResponse

logger = logging.getLogger("realty.llm")

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Counts consecutive failures and decides whether the next call may go out.

    Args:
        failures: Consecutive failures that open the circuit (at least 1).
        reset_s: Seconds the circuit stays open before one trial call.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self, failures: int, reset_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1 or reset_s <= 0:
            raise ValueError("a breaker needs failures >= 1 and reset_s > 0")
        self._threshold = failures
        self._reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is out
        self.opened = 0  # times the circuit opened (for metrics and tests)

    @property
    def state(self) -> BreakerState:
        """``closed`` (calls go out), ``open`` (refused) or ``half_open`` (one trial)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go out now (a half-open circuit lets one trial through)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial:
            self._trial = True
            return True
        return False

    def success(self) -> None:
        """A call answered: the circuit closes."""
        if self._opened_at is not None:
            logger.info("model provider answered again: circuit closed")
        self._failures, self._opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        """A call failed: count it, and open (or re-open) the circuit at the threshold."""
        self._failures += 1
        if self._trial or self._failures >= self._threshold:
            if self._opened_at is None or self._trial:
                self.opened += 1
                logger.warning(
                    "model provider failed %d times in a row: not called for %gs",
                    self._failures,
                    self._reset_s,
                )
            self._opened_at, self._trial = self._clock(), False


class BreakerLLM:
    """``inner`` behind a :class:`CircuitBreaker`."""

    def __init__(self, inner: LLM, breaker: CircuitBreaker) -> None:
        self._inner = inner
        self.breaker = breaker

    @property
    def name(self) -> str:
        """The inner provider's name."""
        return self._inner.name

    @property
    def inner(self) -> LLM:
        """The provider behind the breaker."""
        return self._inner

    async def aclose(self) -> None:
        """Close the inner provider when it holds connections."""
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Call the inner provider unless the circuit is open.

        Raises:
            ProviderUnavailableError: the circuit is open (no call was made).
            ProviderError: the inner provider failed (counted).
        """
        if not self.breaker.allow():
            raise ProviderUnavailableError(f"{self.name}: circuit open after repeated failures")
        try:
            response = await self._inner.complete(request)
        except BaseException:
            # A ProviderError, or cancelled: the caller's timeout ran out while it hung.
            self.breaker.failure()
            raise
        self.breaker.success()
        return response
