"""Providers: the OpenAI-compatible adapter over a stub transport, fallback, the registry."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from realty.errors import (
    BadResponseError,
    ConfigurationError,
    ProviderError,
    ProviderUnavailableError,
)
from realty.llm.base import LLM, ChatMessage, LLMRequest, LLMResponse
from realty.llm.breaker import BreakerLLM
from realty.llm.fake import FakeLLM, FakeScriptExhaustedError, FunctionLLM
from realty.llm.fallback import FallbackLLM
from realty.llm.install import default_model_path
from realty.llm.local import LocalLLM
from realty.llm.openai_compat import OpenAICompatibleLLM, ResponseFormat
from realty.llm.registry import NO_MODEL_WARNING, build_llm
from realty.settings import Settings

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": ["string", "null"]}},
    "required": ["city"],
}
REQUEST = LLMRequest(
    messages=(
        ChatMessage(role="system", content="Extract the city."),
        ChatMessage(role="user", content="Busco oficina en Monterrey"),
    ),
    json_schema=SCHEMA,
    schema_name="brief",
    max_tokens=64,
)
ANSWER = '{"city": "Monterrey"}'


def _ok(content: object = ANSWER, **extra: object) -> httpx.Response:
    body = {
        "model": "served-model",
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 31, "completion_tokens": 7},
        **extra,
    }
    return httpx.Response(200, json=body)


class Server:
    """A stub endpoint: answers from a script and keeps every request it receives."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def forms(self) -> list[str]:
        return [b["response_format"]["type"] for b in self.bodies()]


def _provider(
    server: Server, *, key: str | None = "sk-test", form: ResponseFormat = "auto"
) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        "http://models.test/v1/",
        SecretStr(key) if key else None,
        "qwen-test",
        timeout_s=5,
        response_format=form,
        transport=httpx.MockTransport(server),
    )


def _ask(llm: OpenAICompatibleLLM, times: int = 1) -> list[LLMResponse]:
    async def run() -> list[LLMResponse]:
        try:
            return [await llm.complete(REQUEST) for _ in range(times)]
        finally:
            await llm.aclose()

    return asyncio.run(run())


# ---- the outgoing request -------------------------------------------------------------


def test_request_carries_url_key_model_messages_and_json_schema_form() -> None:
    server = Server(_ok())
    [answer] = _ask(_provider(server))
    [request] = server.requests
    assert request.method == "POST"
    assert str(request.url) == "http://models.test/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert server.bodies()[0] == {
        "model": "qwen-test",
        "messages": [
            {"role": "system", "content": "Extract the city."},
            {"role": "user", "content": "Busco oficina en Monterrey"},
        ],
        "temperature": 0.0,
        "max_tokens": 64,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "brief", "schema": SCHEMA, "strict": True},
        },
    }
    assert (answer.text, answer.model) == (ANSWER, "served-model")
    assert (answer.prompt_tokens, answer.completion_tokens) == (31, 7)
    assert answer.latency_ms >= 0


BOUNDED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "maxLength": {"type": "integer"},
        "notes": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 9}},
    },
    "required": ["maxLength", "notes"],
}


def test_strict_form_drops_string_lengths_and_json_object_form_keeps_them() -> None:
    server = Server(_ok(), _ok())
    bounded = REQUEST.model_copy(update={"json_schema": BOUNDED})
    for form in ("json_schema", "json_object"):
        asyncio.run(_provider(server, form=form).complete(bounded))
    strict, loose = (body["response_format"] for body in server.bodies())
    assert strict["json_schema"]["schema"] == {
        "type": "object",
        "properties": {
            "maxLength": {"type": "integer"},  # a property of that name is not a keyword
            "notes": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
        },
        "required": ["maxLength", "notes"],
    }
    assert loose["schema"] == BOUNDED
    assert BOUNDED["properties"]["notes"]["items"]["maxLength"] == 9  # the request is not mutated


def test_no_key_sends_no_authorization_header() -> None:
    server = Server(_ok())
    _ask(_provider(server, key=None))
    assert "Authorization" not in server.requests[0].headers


def test_json_object_form_when_configured() -> None:
    server = Server(_ok())
    _ask(_provider(server, form="json_object"))
    assert server.bodies()[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}


@pytest.mark.parametrize("status", [400, 422, 500])
def test_auto_falls_back_to_json_object_and_remembers(status: int) -> None:
    server = Server(httpx.Response(status, text="unsupported response_format"), _ok(), _ok())
    llm = _provider(server)
    answers = _ask(llm, times=2)
    assert [a.text for a in answers] == [ANSWER, ANSWER]
    assert server.forms() == ["json_schema", "json_object", "json_object"]
    assert llm.response_form == "json_object"


def test_fixed_json_schema_form_does_not_fall_back() -> None:
    server = Server(httpx.Response(400, text="bad form"))
    with pytest.raises(BadResponseError, match="HTTP 400"):
        _ask(_provider(server, form="json_schema"))
    assert server.forms() == ["json_schema"]


def test_failed_fallback_is_not_remembered() -> None:
    server = Server(httpx.Response(500), httpx.Response(503), _ok())
    llm = _provider(server)
    with pytest.raises(ProviderUnavailableError, match="HTTP 503"):
        _ask(llm)
    assert llm.response_form == "json_schema"


# ---- failures -----------------------------------------------------------------------------

FAILURES = [
    pytest.param(httpx.Response(401), BadResponseError, "REALTY_LLM_API_KEY", id="401"),
    pytest.param(httpx.Response(403), BadResponseError, "REALTY_LLM_API_KEY", id="403"),
    pytest.param(httpx.Response(404, text="no such model"), BadResponseError, "404", id="404"),
    pytest.param(httpx.Response(429), ProviderUnavailableError, "429", id="429"),
    pytest.param(httpx.Response(502), ProviderUnavailableError, "502", id="502"),
    pytest.param(
        httpx.ReadTimeout("slow"), ProviderUnavailableError, "timed out after 5 s", id="timeout"
    ),
    pytest.param(
        httpx.ConnectError("refused"), ProviderUnavailableError, "unreachable", id="connect"
    ),
    pytest.param(httpx.Response(200, text="<html>"), BadResponseError, "choices", id="garbage"),
    pytest.param(httpx.Response(200, json=[1, 2]), BadResponseError, "choices", id="json-list"),
    pytest.param(
        httpx.Response(200, json={"choices": []}), BadResponseError, "choices", id="no-choice"
    ),
    pytest.param(
        httpx.Response(200, json={"choices": [{"message": {}}]}),
        BadResponseError,
        "choices",
        id="no-content",
    ),
    pytest.param(_ok(content=None), BadResponseError, "non-text", id="null-content"),
]


@pytest.mark.parametrize(("answer", "error", "message"), FAILURES)
def test_failures_are_typed(
    answer: httpx.Response | Exception, error: type[ProviderError], message: str
) -> None:
    # form="json_schema" so a 5xx is not retried with the other form.
    server = Server(answer)
    with pytest.raises(error, match=message) as caught:
        _ask(_provider(server, key="sk-secret-123", form="json_schema"))
    assert "sk-secret-123" not in str(caught.value)


def test_missing_usage_gives_no_token_counts() -> None:
    body = {"choices": [{"message": {"content": ANSWER}}]}
    [answer] = _ask(_provider(Server(httpx.Response(200, json=body))))
    assert (answer.model, answer.prompt_tokens, answer.completion_tokens) == (
        "qwen-test",
        None,
        None,
    )


def test_provider_survives_successive_event_loops() -> None:
    server = Server(_ok(), _ok())
    llm = _provider(server)
    # No aclose between the runs: the second loop must not reuse the first loop's pool.
    first = asyncio.run(llm.complete(REQUEST))
    second = asyncio.run(llm.complete(REQUEST))
    asyncio.run(llm.aclose())
    assert (first.text, second.text, len(server.requests)) == (ANSWER, ANSWER, 2)


def test_name() -> None:
    assert _provider(Server()).name == "openai:qwen-test"


# ---- fallback -----------------------------------------------------------------------------


def _run(llm: LLM) -> LLMResponse:
    return asyncio.run(llm.complete(REQUEST))


FALLBACKS = [
    pytest.param(["a"], "a", [1, 0], id="first-answers"),
    pytest.param([ProviderUnavailableError("down"), "b"], "b", [1, 1], id="unavailable"),
    pytest.param([BadResponseError("junk"), "b"], "b", [1, 1], id="bad-response"),
]


@pytest.mark.parametrize(("first", "expected", "calls"), FALLBACKS)
def test_fallback_tries_in_order(first: list[Any], expected: str, calls: list[int]) -> None:
    one, two = FakeLLM(*first[:1]), FakeLLM(*first[1:], "b")
    assert _run(FallbackLLM(one, two)).text == expected
    assert [len(one.calls), len(two.calls)] == calls


def test_fallback_reraises_the_last_error() -> None:
    last = ProviderUnavailableError("second down")
    chain = FallbackLLM(FakeLLM(BadResponseError("first junk")), FakeLLM(last))
    with pytest.raises(ProviderUnavailableError) as caught:
        _run(chain)
    assert caught.value is last


def test_fallback_lets_bugs_through() -> None:
    def broken(request: LLMRequest) -> str:
        raise RuntimeError("bug")

    spare = FakeLLM("never used")
    with pytest.raises(RuntimeError, match="bug"):
        _run(FallbackLLM(FunctionLLM(broken), spare))
    assert spare.calls == []


def test_fallback_needs_a_provider_and_names_its_chain() -> None:
    with pytest.raises(ConfigurationError):
        FallbackLLM()
    assert FallbackLLM(FakeLLM(model="a"), FakeLLM(model="b")).name == "fallback(fake:a,fake:b)"


# ---- registry -----------------------------------------------------------------------------


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path, **values)


def test_none_means_parser_only(tmp_path: Path) -> None:
    assert build_llm(_settings(tmp_path, llm_provider="none")) == (None, None)


def test_fake_reads_its_script(tmp_path: Path) -> None:
    script = tmp_path / "answers.json"
    script.write_text(json.dumps([{"city": "Monterrey"}, "plain"]), encoding="utf-8")
    llm, warning = build_llm(_settings(tmp_path, llm_provider="fake", llm_fake_responses=script))
    assert warning is None
    assert isinstance(llm, FakeLLM)
    assert [_run(llm).text, _run(llm).text] == ['{"city": "Monterrey"}', "plain"]


def test_fake_without_script_raises_on_call(tmp_path: Path) -> None:
    llm, warning = build_llm(_settings(tmp_path, llm_provider="fake"))
    assert (isinstance(llm, FakeLLM), warning) == (True, None)
    assert llm is not None
    with pytest.raises(FakeScriptExhaustedError):
        _run(llm)


@pytest.mark.parametrize(
    "content", ["not json", '{"a": 1}', "[1, 2]"], ids=["invalid", "object", "numbers"]
)
def test_fake_rejects_bad_scripts(tmp_path: Path, content: str) -> None:
    script = tmp_path / "answers.json"
    script.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="REALTY_LLM_FAKE_RESPONSES"):
        build_llm(_settings(tmp_path, llm_provider="fake", llm_fake_responses=script))


def test_fake_with_unreadable_script(tmp_path: Path) -> None:
    settings = _settings(tmp_path, llm_provider="fake", llm_fake_responses=tmp_path / "no.json")
    with pytest.raises(ConfigurationError, match="REALTY_LLM_FAKE_RESPONSES"):
        build_llm(settings)


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({}, "REALTY_LLM_BASE_URL and REALTY_LLM_MODEL"),
        ({"llm_model": "qwen-x"}, "needs REALTY_LLM_BASE_URL$"),
        ({"llm_base_url": "http://h/v1"}, "needs REALTY_LLM_MODEL$"),
        ({"llm_base_url": "", "llm_model": "qwen-x"}, "needs REALTY_LLM_BASE_URL$"),
    ],
)
def test_openai_requires_url_and_model(
    tmp_path: Path, values: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        build_llm(_settings(tmp_path, llm_provider="openai", **values))


def test_openai_is_configured_from_settings(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        llm_provider="openai",
        llm_base_url="http://127.0.0.1:8080/v1",
        llm_model="qwen",
        llm_response_format="json_object",
    )
    llm, warning = build_llm(settings)
    assert warning is None
    assert isinstance(llm, BreakerLLM)
    assert isinstance(llm.inner, OpenAICompatibleLLM)
    assert (llm.name, llm.inner.response_form) == ("openai:qwen", "json_object")


def test_local_without_model_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"REALTY_LLM_MODEL_PATH.*realty model install"):
        build_llm(_settings(tmp_path, llm_provider="local"))


def test_local_refuses_a_default_model_that_fails_its_check(tmp_path: Path) -> None:
    path = default_model_path(tmp_path / "models")
    path.parent.mkdir()
    path.write_bytes(b"GGUF but truncated")
    with pytest.raises(ConfigurationError, match="integrity check"):
        build_llm(_settings(tmp_path, llm_provider="local"))


def test_auto_without_model_warns_and_runs_parser_only(tmp_path: Path) -> None:
    assert build_llm(_settings(tmp_path)) == (None, NO_MODEL_WARNING)
    assert "realty model install" in NO_MODEL_WARNING


def test_auto_with_a_broken_model_degrades_with_a_warning(tmp_path: Path) -> None:
    path = default_model_path(tmp_path / "models")
    path.parent.mkdir()
    path.write_bytes(b"GGUF but truncated")
    llm, warning = build_llm(_settings(tmp_path))
    assert llm is None
    assert warning is not None
    assert "integrity check" in warning


def test_auto_without_llama_cpp_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "custom.gguf"
    model.write_bytes(b"weights")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    assert build_llm(_settings(tmp_path, llm_model_path=model)) == (None, NO_MODEL_WARNING)


# ---- LocalLLM errors (the real model is exercised in tests/slow) -------------------------


def test_local_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"REALTY_LLM_MODEL_PATH.*realty model install"):
        LocalLLM(tmp_path / "absent.gguf")


def test_local_without_llama_cpp_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'realty\[local\]'"):
        LocalLLM(model)


def test_local_unloadable_file(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python (the 'local' extra) not installed")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"this is not a GGUF file")
    with pytest.raises(ConfigurationError, match="cannot load the model"):
        LocalLLM(model)


# ---- LocalLLM over a stand-in llama_cpp module (request shape, streaming, cancellation) ---


class _Params:
    _fields_ = (("n_gpu_layers", int), ("use_extra_bufts", bool))

    def __init__(self) -> None:
        self.use_extra_bufts = True


class _LowLevel:
    """The ``llama_cpp.llama_cpp`` module: the params factory the loader reads."""

    llama_model_params = _Params

    @staticmethod
    def llama_model_default_params() -> _Params:
        return _Params()


class _Llama:
    """Streams scripted pieces; sleeps between them when told to, like a slow model."""

    instances: list[_Llama]
    pieces: list[str]
    delay: float

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.extra_buffers = _LowLevel.llama_model_default_params().use_extra_bufts
        self.calls: list[dict[str, Any]] = []
        self.streamed = 0
        self.closed = False
        type(self).instances.append(self)

    def create_chat_completion(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self._chunks()

    def _chunks(self) -> Any:
        try:
            yield {"choices": [{"delta": {"role": "assistant"}}]}
            for piece in self.pieces:
                time.sleep(self.delay)
                self.streamed += 1
                yield {"choices": [{"delta": {"content": piece}}]}
            yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}
        except GeneratorExit:
            self.closed = True
            raise


@pytest.fixture
def fake_llama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[type[_Llama], Path]:
    module = types.ModuleType("llama_cpp")
    llama = type(
        "Llama", (_Llama,), {"instances": [], "pieces": ['{"city": ', '"Monterrey"}'], "delay": 0.0}
    )
    module.Llama = llama  # type: ignore[attr-defined]
    module.llama_cpp = _LowLevel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    model = tmp_path / "tiny-model.gguf"
    model.write_bytes(b"GGUF")
    return llama, model


@pytest.mark.parametrize(("repack", "extra_buffers"), [(False, False), (True, True)])
def test_local_loads_once_with_settings(
    fake_llama: tuple[type[_Llama], Path], repack: bool, extra_buffers: bool
) -> None:
    llama, model = fake_llama
    local = LocalLLM(model, threads=3, context=1024, repack=repack)
    [loaded] = llama.instances
    assert loaded.kwargs == {
        "model_path": str(model),
        "n_ctx": 1024,
        "n_threads": 3,
        "verbose": False,
    }
    assert loaded.extra_buffers is extra_buffers
    assert _LowLevel.llama_model_default_params().use_extra_bufts is True  # restored
    assert local.name == "local:tiny-model"


def test_local_sends_schema_constrained_chat(fake_llama: tuple[type[_Llama], Path]) -> None:
    llama, model = fake_llama
    answer = _run(LocalLLM(model))
    [call] = llama.instances[0].calls
    assert call == {
        "messages": [
            {"role": "system", "content": "Extract the city."},
            {"role": "user", "content": "Busco oficina en Monterrey"},
        ],
        "response_format": {"type": "json_object", "schema": SCHEMA},
        "temperature": 0.0,
        "max_tokens": 64,
        "stream": True,
    }
    assert (answer.text, answer.model, answer.completion_tokens) == (
        '{"city": "Monterrey"}',
        "tiny-model",
        2,
    )


def test_local_empty_answer_is_bad(fake_llama: tuple[type[_Llama], Path]) -> None:
    llama, model = fake_llama
    llama.pieces = []
    with pytest.raises(BadResponseError, match="no text"):
        _run(LocalLLM(model))


def test_local_timeout_stops_generation(fake_llama: tuple[type[_Llama], Path]) -> None:
    llama, model = fake_llama
    llama.pieces = ["x"] * 200
    llama.delay = 0.01
    local = LocalLLM(model)

    async def give_up_then_ask_again() -> LLMResponse:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(local.complete(REQUEST), 0.05)
        llama.pieces = ["{}"]
        return await local.complete(REQUEST)

    answer = asyncio.run(give_up_then_ask_again())
    first = llama.instances[0]
    assert answer.text == "{}"
    assert first.closed
    assert first.streamed < 50  # stopped long before its 200 pieces
