"""Choose the language-model provider from settings; the one place that knows them all."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from realty.errors import ConfigurationError
from realty.llm.base import LLM
from realty.llm.breaker import BreakerLLM, CircuitBreaker
from realty.llm.fake import FakeLLM, Scripted
from realty.llm.install import default_model_path, is_verified
from realty.llm.local import LocalLLM
from realty.llm.openai_compat import OpenAICompatibleLLM
from realty.settings import Settings

NO_MODEL_WARNING = (
    "No language model installed: running with the deterministic parser only. Install the "
    "embedded model with `realty model install` (or set REALTY_LLM_PROVIDER=openai with "
    "REALTY_LLM_BASE_URL)."
)


def build_llm(settings: Settings) -> tuple[LLM | None, str | None]:
    """Build the provider ``settings.llm_provider`` selects.

    Returns:
        The provider (``None``: run with the parser only) and an optional start-up warning.

    Raises:
        ConfigurationError: the selected provider is misconfigured; the message names the
            variable to set.
    """
    llm: LLM | None
    warning: str | None = None
    match settings.llm_provider:
        case "none":
            return None, None
        case "fake":
            return _fake(settings.llm_fake_responses), None
        case "openai":
            llm = _openai(settings)
        case "local":
            llm = _local(settings)
        case "auto":
            llm, warning = _auto(settings)
    if llm is None:
        return None, warning
    breaker = CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_reset_s)
    return BreakerLLM(llm, breaker), warning


def _fake(script: Path | None) -> FakeLLM:
    # No script is a valid demo setup: the first call raises and the turn falls back to the
    # parser, which is exactly what the pipeline does for any provider failure.
    if script is None:
        return FakeLLM()
    try:
        data: Any = json.loads(script.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"REALTY_LLM_FAKE_RESPONSES={script} is not a readable JSON file: {exc}"
        ) from exc
    if not isinstance(data, list) or not all(isinstance(a, str | dict) for a in data):
        raise ConfigurationError(
            f"REALTY_LLM_FAKE_RESPONSES={script} must hold a JSON list of strings or objects"
        )
    answers: list[Scripted] = list(data)
    return FakeLLM(*answers)


def _openai(settings: Settings) -> OpenAICompatibleLLM:
    missing = [
        name
        for name, value in (
            ("REALTY_LLM_BASE_URL", settings.llm_base_url),
            ("REALTY_LLM_MODEL", settings.llm_model),
        )
        if not value
    ]
    if missing or settings.llm_base_url is None or settings.llm_model is None:
        raise ConfigurationError(f"REALTY_LLM_PROVIDER=openai needs {' and '.join(missing)}")
    return OpenAICompatibleLLM(
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        response_format=settings.llm_response_format,
    )


def _model_path(settings: Settings) -> Path:
    """The configured GGUF file, checked against its pin when it is the installed default."""
    if settings.llm_model_path is not None:
        return settings.llm_model_path
    path = default_model_path(settings.models_dir)
    if path.exists() and not is_verified(path):
        raise ConfigurationError(
            f"the model at {path} fails its integrity check; reinstall it with "
            "`realty model install`"
        )
    return path


def _local(settings: Settings) -> LocalLLM:
    return LocalLLM(
        _model_path(settings), threads=settings.llm_threads, context=settings.llm_context
    )


def _auto(settings: Settings) -> tuple[LLM | None, str | None]:
    path = settings.llm_model_path or default_model_path(settings.models_dir)
    if not path.is_file() or importlib.util.find_spec("llama_cpp") is None:
        return None, NO_MODEL_WARNING
    try:
        return _local(settings), None
    except ConfigurationError as exc:
        # "auto" promises a working service: a broken model degrades to the parser, loudly.
        return None, f"Language model disabled, running with the parser only: {exc}"
