"""The provider Protocol: one async method that turns a chat request into text.

Structured extraction (the schema, the re-ask on a validation error, grounding) lives in the
pipeline, not here: a provider only moves a request to a model and the answer back. Failures
are typed: :class:`~realty.errors.ProviderUnavailableError` (unreachable, timed out, 5xx) and
:class:`~realty.errors.BadResponseError` (an answer that is not usable).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One message of a chat request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str


class LLMRequest(BaseModel):
    """A chat completion request constrained to a JSON schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[ChatMessage, ...] = Field(min_length=1)
    json_schema: dict[str, Any]
    schema_name: str = "extraction"
    max_tokens: int = Field(default=256, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)


class LLMResponse(BaseModel):
    """The model's answer: raw text (JSON when the request had a schema)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    model: str
    latency_ms: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``name`` identifies the provider and model in logs and reports."""

    @property
    def name(self) -> str:
        """``provider:model``."""
        ...

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request``; raise a ``ProviderError`` subclass on failure."""
        ...
