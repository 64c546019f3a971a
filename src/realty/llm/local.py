"""The embedded model, run in-process by llama.cpp (the optional ``local`` extra).

The model is loaded once, in the constructor (several seconds, about 2 GB of memory); the
service builds one provider per process. Calls run in a worker thread so the event loop stays
free, one at a time because a llama.cpp context is not thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from realty.errors import BadResponseError, ConfigurationError
from realty.llm.base import LLMRequest, LLMResponse

_INSTALL_HINT = "install it with `pip install 'realty[local]'`"
_MODEL_HINT = "set REALTY_LLM_MODEL_PATH or run `realty model install`"


class LocalLLM:
    """A GGUF model served by llama-cpp-python, with JSON-schema constrained decoding.

    Args:
        model_path: The GGUF file.
        threads: CPU threads for inference.
        context: Context window in tokens.
        repack: Let llama.cpp repack the weights into CPU-specific buffers (AMX, AVX2
            tiles). Off by default: with llama-cpp-python 0.3.36 the AMX path crashes the
            process (SIGSEGV on the first decode) on CPUs that have AMX, and the plain path
            already meets the latency budget.

    Raises:
        ConfigurationError: llama-cpp-python is not installed, or the model file is missing,
            unreadable or not a model llama.cpp can load.
    """

    def __init__(
        self, model_path: Path, *, threads: int = 2, context: int = 2048, repack: bool = False
    ) -> None:
        if not model_path.is_file():
            raise ConfigurationError(f"no model file at {model_path}: {_MODEL_HINT}")
        try:
            import llama_cpp
        except ImportError as exc:
            raise ConfigurationError(
                f"the local provider needs llama-cpp-python: {_INSTALL_HINT}"
            ) from exc
        try:
            with _extra_buffers(llama_cpp, enabled=repack):
                self._llama: Any = llama_cpp.Llama(
                    model_path=str(model_path), n_ctx=context, n_threads=threads, verbose=False
                )
        except (ValueError, OSError, RuntimeError) as exc:
            raise ConfigurationError(
                f"cannot load the model at {model_path} ({exc}): {_MODEL_HINT}"
            ) from exc
        self._model = model_path.stem
        self._queue = asyncio.Lock()
        # Held by the worker thread itself: a cancelled caller (timeout) leaves the asyncio
        # lock while its thread still runs, and the next call must not enter llama.cpp then.
        self._busy = threading.Lock()

    @property
    def name(self) -> str:
        """``local:<model file stem>``."""
        return f"local:{self._model}"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Generate JSON constrained by ``request.json_schema``.

        A caller that gives up (a timeout cancels this coroutine) stops the generation at the
        next token, so the model is free again for the next turn.

        Raises:
            BadResponseError: llama.cpp failed or returned no text.
        """
        cancelled = threading.Event()
        async with self._queue:
            started = time.perf_counter()
            try:
                text, tokens = await asyncio.to_thread(self._generate, request, cancelled)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            latency_ms = (time.perf_counter() - started) * 1000
        if not text:
            raise BadResponseError("llama.cpp returned no text")
        return LLMResponse(
            text=text,
            model=self._model,
            latency_ms=latency_ms,
            prompt_tokens=self._prompt_tokens(request),
            completion_tokens=tokens,
        )

    def _prompt_tokens(self, request: LLMRequest) -> int | None:
        """Tokens of the messages' text (the chat template adds a few per message)."""
        tokenize = getattr(self._llama, "tokenize", None)
        if tokenize is None:
            return None
        text = "\n".join(m.content for m in request.messages)
        return len(tokenize(text.encode("utf-8"), add_bos=False))

    def _generate(self, request: LLMRequest, cancelled: threading.Event) -> tuple[str, int]:
        """Stream the answer token by token; return its text and the number of tokens."""
        with self._busy:
            try:
                return _collect(self._stream(request), cancelled)
            except BadResponseError:
                raise
            except Exception as exc:  # llama.cpp surfaces many error types; all mean "no answer".
                raise BadResponseError(f"llama.cpp failed: {type(exc).__name__}: {exc}") from exc

    def _stream(self, request: LLMRequest) -> Iterator[Any]:
        # Streaming is what makes a call abortable: create_chat_completion takes no stopping
        # criteria, and exceptions raised in logits processors are swallowed by its C callback.
        stream: Iterator[Any] = self._llama.create_chat_completion(
            messages=[m.model_dump() for m in request.messages],
            response_format={"type": "json_object", "schema": request.json_schema},
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            stream=True,
        )
        return stream


def _collect(stream: Iterator[Any], cancelled: threading.Event) -> tuple[str, int]:
    """Join the streamed content, closing the stream as soon as the caller has gone."""
    pieces: list[str] = []
    for chunk in stream:
        if cancelled.is_set():
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            raise BadResponseError("llama.cpp call abandoned by its caller")
        content = chunk["choices"][0]["delta"].get("content")
        if isinstance(content, str) and content:
            pieces.append(content)
    return "".join(pieces), len(pieces)


@contextlib.contextmanager
def _extra_buffers(library: Any, *, enabled: bool) -> Iterator[None]:
    """Load with or without llama.cpp's extra (repacked) weight buffers.

    ``Llama`` does not expose ``use_extra_bufts``; it takes its model parameters from
    ``llama_model_default_params()``, so that factory is wrapped for the duration of the load.
    Loads are rare (one per process), so the brief swap is not contended in practice.
    """
    low = library.llama_cpp
    params_type = getattr(low, "llama_model_params", None)
    fields = {name for name, *_ in getattr(params_type, "_fields_", ())}
    if enabled or "use_extra_bufts" not in fields:
        yield
        return
    original = low.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        low.llama_model_default_params = original
