"""Try providers in order: the first that answers wins."""

from __future__ import annotations

from realty.errors import ConfigurationError, ProviderError
from realty.llm.base import LLM, LLMRequest, LLMResponse


class FallbackLLM:
    """A provider that delegates to ``providers`` in order, moving on when one fails.

    Only :class:`~realty.errors.ProviderError` moves on to the next provider; any other
    exception is a bug and propagates at once. When every provider fails, the last error is
    raised.

    Raises:
        ConfigurationError: no provider was given.
    """

    def __init__(self, *providers: LLM) -> None:
        if not providers:
            raise ConfigurationError("FallbackLLM needs at least one provider")
        self._providers = providers

    @property
    def name(self) -> str:
        """``fallback(<name>,<name>…)``."""
        return "fallback(" + ",".join(p.name for p in self._providers) + ")"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer with the first provider that does not raise a ``ProviderError``."""
        last: ProviderError | None = None
        for provider in self._providers:
            try:
                return await provider.complete(request)
            except ProviderError as exc:
                last = exc
        assert last is not None  # the constructor guarantees at least one provider
        raise last
