"""Fakes that ship with the package: for tests, demos and running without a model.

``FakeLLM`` answers from a script (``enqueue``) and records every request in ``calls``; it
raises when its script runs out instead of inventing an answer. ``FunctionLLM`` answers with
a function of the request.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from realty.errors import BadResponseError, ProviderError
from realty.llm.base import LLMRequest, LLMResponse


class FakeScriptExhaustedError(BadResponseError):
    """The fake was called more often than it was scripted for."""


Scripted = str | dict[str, Any] | ProviderError


class FakeLLM:
    """A scripted model: each call pops the next scripted answer (or raises it)."""

    def __init__(self, *answers: Scripted, model: str = "scripted") -> None:
        self._script: deque[Scripted] = deque(answers)
        self._model = model
        self.calls: list[LLMRequest] = []

    @property
    def name(self) -> str:
        """``fake:<model>``."""
        return f"fake:{self._model}"

    def enqueue(self, *answers: Scripted) -> FakeLLM:
        """Append answers: text, a dict (sent as JSON) or an error to raise."""
        self._script.extend(answers)
        return self

    @property
    def remaining(self) -> int:
        """How many scripted answers are left."""
        return len(self._script)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Record the request and answer with the next scripted item."""
        self.calls.append(request)
        if not self._script:
            raise FakeScriptExhaustedError(
                f"FakeLLM was called {len(self.calls)} times but scripted for fewer"
            )
        answer = self._script.popleft()
        if isinstance(answer, ProviderError):
            raise answer
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        return LLMResponse(text=text, model=self._model)


class FunctionLLM:
    """A model whose answer is computed from the request by ``fn`` (sync or async)."""

    def __init__(
        self,
        fn: Callable[[LLMRequest], str | dict[str, Any] | Awaitable[str | dict[str, Any]]],
        model: str = "function",
    ) -> None:
        self._fn = fn
        self._model = model
        self.calls: list[LLMRequest] = []

    @property
    def name(self) -> str:
        """``function:<model>``."""
        return f"function:{self._model}"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Record the request and answer with ``fn(request)``."""
        self.calls.append(request)
        answer = self._fn(request)
        if not isinstance(answer, str | dict):
            answer = await answer
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        return LLMResponse(text=text, model=self._model)
