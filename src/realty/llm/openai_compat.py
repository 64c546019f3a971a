"""Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server) by base URL.

Servers disagree on how to ask for structured output: OpenAI takes ``{"type": "json_schema",
"json_schema": {...}}`` while the llama.cpp server answers 500 to it and takes ``{"type":
"json_object", "schema": ...}``. In ``auto`` mode the first form is tried and, when the server
rejects it, the second is used and remembered for the life of the provider. OpenAI's strict
mode accepts only a subset of JSON Schema, without string lengths: those bounds are sent in the
``json_object`` form only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from realty.errors import BadResponseError, ProviderUnavailableError
from realty.llm.base import LLMRequest, LLMResponse

ResponseFormat = Literal["auto", "json_schema", "json_object"]

# Statuses with which servers reject a response_format they do not understand.
_FORM_REJECTED = frozenset({400, 422, 500})
_AUTH_FAILED = frozenset({401, 403})
_SNIPPET = 200  # Characters of an error body worth quoting in a message.
# Keywords OpenAI's strict mode rejects; the answer is validated again on our side anyway.
_NOT_STRICT = ("minLength", "maxLength")


class OpenAICompatibleLLM:
    """Chat completions over HTTP against an OpenAI-compatible server.

    Args:
        base_url: The API root, e.g. ``https://api.openai.com/v1`` or
            ``http://127.0.0.1:11434/v1``; ``/chat/completions`` is appended.
        api_key: Bearer key; ``None`` sends no ``Authorization`` header (local servers).
        model: Model name sent in every request.
        timeout_s: Longest wait for one HTTP exchange.
        response_format: ``json_schema``, ``json_object`` (with ``schema``) or ``auto``.
        transport: httpx transport to use instead of the network (tests, proxies).
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        model: str,
        *,
        timeout_s: float = 30.0,
        response_format: ResponseFormat = "auto",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._model = model
        self._timeout_s = timeout_s
        self._transport = transport
        self._fallback_allowed = response_format == "auto"
        self._form: Literal["json_schema", "json_object"] = (
            "json_object" if response_format == "json_object" else "json_schema"
        )
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def name(self) -> str:
        """``openai:<model>``."""
        return f"openai:{self._model}"

    @property
    def response_form(self) -> Literal["json_schema", "json_object"]:
        """The structured-output form the next request will use."""
        return self._form

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` and return the model's text.

        Raises:
            ProviderUnavailableError: unreachable server, timeout, 429 or 5xx.
            BadResponseError: rejected key (401/403), other 4xx, or an unusable 200 body.
        """
        started = time.perf_counter()
        response = await self._post(request, self._form)
        if (
            self._fallback_allowed
            and self._form == "json_schema"
            and response.status_code in _FORM_REJECTED
        ):
            retry = await self._post(request, "json_object")
            if retry.is_success:
                self._form = "json_object"
            response = retry
        self._raise_for_status(response)
        return self._parse(response, (time.perf_counter() - started) * 1000)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._client_loop = None

    def _client_for_running_loop(self) -> httpx.AsyncClient:
        # Pooled connections belong to the event loop that opened them; a caller that runs
        # each turn under its own asyncio.run() would otherwise reuse dead connections.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout_s)
            self._client_loop = loop
        return self._client

    def _headers(self) -> dict[str, str]:
        if self._api_key is None:
            return {}
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}

    def _body(self, request: LLMRequest, form: str) -> dict[str, Any]:
        response_format: dict[str, Any]
        if form == "json_schema":
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": _strict_subset(request.json_schema),
                    "strict": True,
                },
            }
        else:
            response_format = {"type": "json_object", "schema": request.json_schema}
        return {
            "model": self._model,
            "messages": [m.model_dump() for m in request.messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "response_format": response_format,
        }

    async def _post(self, request: LLMRequest, form: str) -> httpx.Response:
        client = self._client_for_running_loop()
        try:
            return await client.post(
                self._url, json=self._body(request, form), headers=self._headers()
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(
                f"{self.name} timed out after {self._timeout_s:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailableError(
                f"{self.name} unreachable at {self._url}: {type(exc).__name__}"
            ) from exc

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if response.is_success:
            return
        snippet = response.text[:_SNIPPET]
        if status in _AUTH_FAILED:
            raise BadResponseError(
                f"{self.name} refused the request (HTTP {status}): check REALTY_LLM_API_KEY"
            )
        if status == 429 or status >= 500:
            raise ProviderUnavailableError(f"{self.name} answered HTTP {status}: {snippet}")
        raise BadResponseError(f"{self.name} answered HTTP {status}: {snippet}")

    def _parse(self, response: httpx.Response, latency_ms: float) -> LLMResponse:
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BadResponseError(
                f"{self.name} answered without choices[0].message.content"
            ) from exc
        if not isinstance(content, str):
            raise BadResponseError(f"{self.name} answered with non-text content")
        usage = body.get("usage")
        model = body.get("model")
        return LLMResponse(
            text=content,
            model=model if isinstance(model, str) and model else self._model,
            latency_ms=latency_ms,
            prompt_tokens=_token_count(usage, "prompt_tokens"),
            completion_tokens=_token_count(usage, "completion_tokens"),
        )


def _strict_subset(node: Any) -> Any:
    """A copy of ``node`` without the keywords strict mode rejects (property names are kept)."""
    if isinstance(node, dict):
        return {
            key: _strict_subset(value)
            for key, value in node.items()
            if key not in _NOT_STRICT or isinstance(value, dict)
        }
    if isinstance(node, list):
        return [_strict_subset(child) for child in node]
    return node


def _token_count(usage: object, key: str) -> int | None:
    if not isinstance(usage, dict):
        return None
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
