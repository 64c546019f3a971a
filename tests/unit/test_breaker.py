"""The circuit breaker: open after repeated failures, one trial after the pause."""

from __future__ import annotations

import asyncio

import pytest

from realty.errors import ProviderUnavailableError
from realty.llm.base import ChatMessage, LLMRequest, LLMResponse
from realty.llm.breaker import BreakerLLM, CircuitBreaker

REQUEST = LLMRequest(messages=(ChatMessage(role="user", content="hola"),), json_schema={})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Flaky:
    """A provider that fails while ``down`` and counts the calls it receives."""

    name = "flaky:test"

    def __init__(self) -> None:
        self.down = True
        self.hang = False
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        if self.hang:
            await asyncio.sleep(60)
        if self.down:
            raise ProviderUnavailableError("HTTP 503")
        return LLMResponse(text="{}", model="test")


def _call(llm: BreakerLLM) -> str:
    async def run() -> str:
        try:
            await asyncio.wait_for(llm.complete(REQUEST), 0.05)
        except ProviderUnavailableError as exc:
            return "circuit open" if "circuit open" in str(exc) else "failed"
        except TimeoutError:
            return "timed out"
        return "answered"

    return asyncio.run(run())


def test_failures_in_a_row_open_the_circuit_and_calls_stop() -> None:
    clock, provider = Clock(), Flaky()
    llm = BreakerLLM(provider, CircuitBreaker(failures=3, reset_s=30, clock=clock))

    assert [_call(llm) for _ in range(5)] == ["failed"] * 3 + ["circuit open"] * 2
    assert provider.calls == 3  # the open circuit did not call the provider
    assert llm.breaker.state == "open"
    assert llm.breaker.opened == 1


def test_after_the_pause_one_trial_goes_out_and_its_success_closes_the_circuit() -> None:
    clock, provider = Clock(), Flaky()
    breaker = CircuitBreaker(failures=2, reset_s=30, clock=clock)
    llm = BreakerLLM(provider, breaker)
    [_call(llm) for _ in range(2)]

    clock.now += 29
    assert _call(llm) == "circuit open"
    clock.now += 1
    assert breaker.state == "half_open"
    provider.down = False
    assert _call(llm) == "answered"
    assert breaker.state == "closed"
    assert [_call(llm) for _ in range(3)] == ["answered"] * 3


def test_a_failed_trial_opens_the_circuit_again_for_a_whole_pause() -> None:
    clock, provider = Clock(), Flaky()
    breaker = CircuitBreaker(failures=2, reset_s=30, clock=clock)
    llm = BreakerLLM(provider, breaker)
    [_call(llm) for _ in range(2)]
    clock.now += 30

    assert _call(llm) == "failed"  # the trial
    assert breaker.state == "open"
    assert breaker.opened == 2
    clock.now += 29
    assert _call(llm) == "circuit open"
    assert provider.calls == 3


def test_only_one_trial_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, reset_s=10, clock=clock)
    breaker.failure()
    clock.now += 10

    assert [breaker.allow(), breaker.allow()] == [True, False]


def test_a_provider_that_hangs_until_the_callers_timeout_counts_as_failing() -> None:
    clock, provider = Clock(), Flaky()
    provider.hang = True
    llm = BreakerLLM(provider, CircuitBreaker(failures=2, reset_s=30, clock=clock))

    assert [_call(llm) for _ in range(3)] == ["timed out", "timed out", "circuit open"]


def test_a_success_resets_the_count_of_failures() -> None:
    clock, provider = Clock(), Flaky()
    llm = BreakerLLM(provider, CircuitBreaker(failures=2, reset_s=30, clock=clock))

    _call(llm)
    provider.down = False
    _call(llm)
    provider.down = True
    assert [_call(llm) for _ in range(2)] == ["failed", "failed"]
    assert llm.breaker.opened == 1


@pytest.mark.parametrize(("failures", "reset_s"), [(0, 30), (3, 0)])
def test_a_breaker_needs_a_threshold_and_a_pause(failures: int, reset_s: float) -> None:
    with pytest.raises(ValueError, match="failures >= 1"):
        CircuitBreaker(failures=failures, reset_s=reset_s)
