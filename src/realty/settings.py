"""Settings, read from the environment (prefix ``REALTY_``) or passed explicitly.

Nothing is built at import time: call :func:`get_settings` (cached) or construct
``Settings(...)`` and pass it to the factories that need it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from realty.domain.fields import FieldRegistry
from realty.errors import ConfigurationError


class Settings(BaseSettings):
    """Every tunable of the product, with its limit documented in README.md."""

    model_config = SettingsConfigDict(env_prefix="REALTY_", extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("data"), description="Where local state is kept.")
    fields_file: Path | None = Field(
        default=None, description="YAML field registry; default: the packaged fields.yaml."
    )
    required_fields: list[str] | None = Field(
        default=None,
        description='JSON list overriding which fields are required, e.g. ["budget","city"].',
    )
    max_message_chars: int = Field(
        default=4000, ge=1, le=100_000, description="Longest message accepted, in characters."
    )
    default_language: Literal["en", "es"] = Field(
        default="en", description="Language of the greeting before the prospect writes."
    )
    home_country: str = Field(
        default="MX",
        min_length=2,
        max_length=2,
        description="ISO country whose cities and currency win ties (e.g. a bare '$').",
    )

    # ---- language model (see docs/llm.md) ----
    llm_provider: Literal["auto", "local", "openai", "fake", "none"] = Field(
        default="auto",
        description="auto: the embedded model when installed, else parser only (with a warning).",
    )
    llm_mode: Literal["hybrid", "every_turn"] = Field(
        default="hybrid",
        description="hybrid: call the model only when the parser cannot explain the message.",
    )
    llm_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="Longest wait for one model call, in seconds."
    )
    llm_model_path: Path | None = Field(
        default=None, description="GGUF file for the local provider; default: the installed one."
    )
    llm_threads: int = Field(default=2, ge=1, le=256, description="llama.cpp CPU threads.")
    llm_context: int = Field(default=2048, ge=512, le=32768, description="llama.cpp context.")
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1."
    )
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer key for base_url.")
    llm_model: str | None = Field(default=None, description="Model name for the openai provider.")
    llm_response_format: Literal["auto", "json_schema", "json_object"] = Field(
        default="auto",
        description="Structured-output form; auto tries json_schema, then json_object+schema.",
    )
    llm_fake_responses: Path | None = Field(
        default=None, description="JSON list of scripted answers for the fake provider."
    )

    @property
    def models_dir(self) -> Path:
        """Where ``realty model install`` puts model files."""
        return self.data_dir / "models"

    @field_validator("home_country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def field_registry(self) -> FieldRegistry:
        """Load the field registry this deployment uses (fails fast with the variable name)."""
        if self.fields_file is None:
            text = resources.files("realty.data").joinpath("fields.yaml").read_text("utf-8")
            source = "the packaged fields.yaml"
        else:
            try:
                text = self.fields_file.read_text("utf-8")
            except OSError as exc:
                raise ConfigurationError(
                    f"REALTY_FIELDS_FILE={self.fields_file} cannot be read: {exc}"
                ) from exc
            source = f"REALTY_FIELDS_FILE={self.fields_file}"
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{source} is not valid YAML: {exc}") from exc
        registry = FieldRegistry.from_mapping(data)
        if self.required_fields is not None:
            registry = registry.with_required(self.required_fields)
        if not registry.required:
            raise ConfigurationError(
                f"{source} / REALTY_REQUIRED_FIELDS leave no required field; require at least one"
            )
        return registry


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, validated once per process."""
    try:
        return Settings()
    except ValidationError as exc:
        names = ", ".join(f"REALTY_{str(e['loc'][0]).upper()}" for e in exc.errors() if e["loc"])
        raise ConfigurationError(f"invalid settings ({names}): {exc}") from exc
