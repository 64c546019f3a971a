"""Settings, read from the environment (prefix ``REALTY_``) or passed explicitly.

Nothing is built at import time: call :func:`get_settings` (cached) or construct
``Settings(...)`` and pass it to the factories that need it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AliasChoices,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from realty.domain.fields import FieldRegistry
from realty.domain.market import DEFAULT_RATES, DEFAULT_RATES_DATE, Market
from realty.errors import ConfigurationError
from realty.parsing.lexicon import Lexicon, lexicon, parse_lexicon

# Loopback and private ranges: where a deployment's own proxies and load balancers live.
_PRIVATE_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


class Settings(BaseSettings):
    """Every tunable of the product, with its limit documented in README.md."""

    model_config = SettingsConfigDict(
        env_prefix="REALTY_", extra="forbid", frozen=True, populate_by_name=True
    )

    data_dir: Path = Field(default=Path("data"), description="Where local state is kept.")
    vocabulary_file: Path | None = Field(
        default=None,
        description="YAML vocabulary of money, areas, counts and kinds; default: the packaged "
        "vocabulary.yaml.",
    )
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
    max_extras: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Most extras a brief holds; past it a new one is refused (nothing lost).",
    )
    max_brief_bytes: int = Field(
        default=32_768,
        ge=4096,
        le=1_048_576,
        description="Largest brief (its canonical JSON), in bytes; past it a value is refused.",
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

    # ---- simulations and the knowledge base (docs/finance.md, docs/knowledge.md) ----
    default_mortgage_rate: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Annual rate in percent assumed when a purchase simulation names none "
        "(the answer says it was assumed); unset: the rate is asked for.",
    )

    # ---- catalog and matching (see docs/matching.md) ----
    exchange_rates: dict[str, float] | None = Field(
        default=None,
        description="JSON: units of the home currency per unit of each other currency, e.g. "
        '{"USD": 18.0, "EUR": 19.5} for a Mexican market; default: the packaged rates '
        "(MXN 18.0 per USD and 19.5 per EUR, of 2026-11-30).",
    )
    exchange_rates_date: dt.date | None = Field(
        default=None,
        description="The day REALTY_EXCHANGE_RATES were taken (shown with converted figures); "
        "default: the packaged rates' day.",
    )
    catalog_seed_if_empty: bool = Field(
        default=True,
        description="At start-up, fill an empty catalog with the synthetic listings "
        "(REALTY_CATALOG_SEED_COUNT of them).",
    )
    catalog_seed_count: int = Field(
        default=5000, ge=0, le=1_000_000, description="How many synthetic listings to seed."
    )

    # ---- guard (see docs/guard.md) ----
    guard_mode: Literal["on", "off"] = Field(
        default="on",
        description="on: the limits, the heuristic rules and the classifier; off: the limits only.",
    )
    guard_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Classifier score (0–1) at or above which a message is blocked; "
        "default: the model's own, chosen by cross-validation when it was trained.",
    )
    guard_model_path: Path | None = Field(
        default=None,
        description="Guard model (.npz from `realty guard train`); default: the packaged one.",
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
    llm_prompt: Literal["narrow", "full"] = Field(
        default="narrow",
        description=(
            "narrow: ask only about the words the parser could not explain (a kind, extras); "
            "full: the whole message into every field."
        ),
    )
    llm_reply_deadline_ms: int = Field(
        default=900,
        ge=0,
        le=600_000,
        description=(
            "Longest a reply waits for the model, in ms; a later answer refines the brief "
            "(a `refine` entry)."
        ),
    )
    llm_breaker_failures: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="Consecutive model failures (errors or timeouts) after which the model is "
        "not called for REALTY_LLM_BREAKER_RESET_S (turns use the parser alone).",
    )
    llm_breaker_reset_s: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds before one trial call to a failing model."
    )
    llm_max_concurrency: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Model calls running at once in a process; a turn finding none free does "
        "not wait: the parser's reading answers it.",
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

    # ---- service (see docs/api.md and docs/architecture.md) ----
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "REALTY_DATABASE_URL"),
        description="SQLAlchemy URL; default: a SQLite file in the data directory. "
        "postgresql://… uses PostgreSQL through psycopg 3.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "REALTY_REDIS_URL"),
        description="Redis for shared rate limits and cross-process events; default: in-process.",
    )
    redis_timeout_s: float = Field(
        default=0.5,
        gt=0,
        le=30,
        description="Longest wait for Redis per call; past it the process counts rate limits "
        "itself and keeps events local (Redis is optional).",
    )
    redis_prefix: str = Field(
        default="realty", min_length=1, max_length=64, description="Prefix of every Redis key."
    )
    db_auto_migrate: bool = Field(
        default=True, description="Apply database migrations at start-up."
    )
    db_pool_size: int = Field(
        default=20, ge=1, le=500, description="Database connections per process (PostgreSQL)."
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="SQLite durability: NORMAL survives a killed process; FULL also a power cut "
        "(an fsync per commit).",
    )
    db_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Longest wait for the database per call (connecting, a pooled connection, "
        "a statement); past it the request gets 503 with Retry-After and nothing is lost.",
    )
    conversation_ttl_s: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        le=366 * 24 * 3600,
        description="Idle seconds after which a conversation expires and is erased.",
    )
    idempotency_ttl_s: int = Field(
        default=24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="Seconds an Idempotency-Key of POST /v1/conversations is remembered: a "
        "repeat within them gets the same conversation.",
    )
    purge_interval_s: float = Field(
        default=3600.0, ge=0, le=7 * 24 * 3600, description="Seconds between purges; 0: never."
    )
    max_body_bytes: int = Field(
        default=65_536, ge=1024, le=16 * 2**20, description="Largest request body, in bytes."
    )
    rate_limit_messages: int = Field(
        default=30, ge=0, le=1_000_000, description="Messages per conversation per window; 0: off."
    )
    rate_limit_conversations: int = Field(
        default=20,
        ge=0,
        le=1_000_000,
        description="New conversations per client address per window; 0: off.",
    )
    rate_limit_client_messages: int = Field(
        default=120,
        ge=0,
        le=1_000_000,
        description="Messages per client address per window, over all its conversations "
        "(HTTP and WebSocket); 0: off.",
    )
    rate_limit_websockets: int = Field(
        default=30,
        ge=0,
        le=1_000_000,
        description="WebSocket connections opened per client address per window; 0: off.",
    )
    rate_limit_window_s: int = Field(
        default=60, ge=1, le=86_400, description="Rate-limit window in seconds."
    )
    ws_auth_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a WebSocket connected without a token has to send its auth frame; "
        "then it is closed with 4401.",
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Take the client address from X-Forwarded-For: the rightmost hop that is "
        "not a trusted proxy (REALTY_TRUSTED_PROXIES).",
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=lambda: [ipaddress.ip_network(net) for net in _PRIVATE_NETWORKS],
        max_length=256,
        description="JSON list of the networks whose X-Forwarded-For hops are believed "
        "(with REALTY_TRUST_FORWARDED_FOR); default: loopback and private ranges.",
    )
    staff_api_key: SecretStr | None = Field(
        default=None, description="Key for /v1/leads and /v1/stats (X-API-Key); unset: disabled."
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Twilio auth token; unset: the WhatsApp webhook is disabled."
    )
    twilio_signing_key: SecretStr | None = Field(
        default=None,
        description="Twilio webhook shared key, for requests signed with HMAC-SHA256 "
        "(X-Twilio-Webhooks-Signature-Settings); the auth token signs the others.",
    )
    twilio_webhook_url: str | None = Field(
        default=None,
        description="Public URL Twilio posts to (signatures are computed over it); "
        "default: the URL of the request as received.",
    )
    log_format: Literal["console", "json"] = Field(
        default="console",
        description="How `realty api` writes its log on stderr: readable lines (console) or "
        "one JSON object per line for a log shipper (json); docs/observability.md.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="The least severe log records `realty api` writes."
    )
    telemetry: bool = Field(
        default=False,
        description="FastAPI's own OpenTelemetry metrics and logs, and its request spans when "
        "REALTY_OTEL_ENDPOINT is unset, into the providers the process configured.",
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces: the "
        "spans of each request and of its turn's stages go there; unset: no tracing "
        "(docs/observability.md).",
    )
    otel_service_name: str = Field(
        default="realty-api",
        min_length=1,
        max_length=255,
        description="The service.name the spans sent to REALTY_OTEL_ENDPOINT carry.",
    )
    otel_sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of requests traced (0–1) when no caller decided; a request whose "
        "traceparent says sampled (or not) follows its caller.",
    )
    widget_frame_ancestors: str = Field(
        default="*",
        min_length=1,
        max_length=2000,
        pattern=r"^[^;,\r\n]+$",
        description="Who may embed the chat widget (/widget) in a frame: the CSP "
        "frame-ancestors sources, e.g. 'https://listings.example.com' or 'self'; * : any site.",
    )
    host: str = Field(default="127.0.0.1", description="Address `realty api` listens on.")
    port: int = Field(default=8000, ge=1, le=65_535, description="Port `realty api` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="API worker processes.")
    ui_port: int = Field(
        default=8501,
        ge=1,
        le=65_535,
        description="Port `realty run` / `realty ui` serve the app on.",
    )

    @property
    def models_dir(self) -> Path:
        """Where ``realty model install`` puts model files."""
        return self.data_dir / "models"

    @model_validator(mode="after")
    def _body_fits_a_message(self) -> Settings:
        # A message of max_message_chars must fit in a body: JSON may spend 6 bytes on a
        # character (\uXXXX), plus room for the other members.
        needed = 6 * self.max_message_chars + 1024
        if self.max_body_bytes < needed:
            raise ValueError(
                f"REALTY_MAX_BODY_BYTES={self.max_body_bytes} cannot hold a message of "
                f"REALTY_MAX_MESSAGE_CHARS={self.max_message_chars}; raise it to at least {needed}"
            )
        return self

    @model_validator(mode="after")
    def _market_is_known(self) -> Settings:
        # Fail at start-up, naming the variables, rather than at the first conversion.
        try:
            self.market()
        except ValueError as exc:
            raise ValueError(
                f"REALTY_HOME_COUNTRY / REALTY_EXCHANGE_RATES do not make a market: {exc}"
            ) from exc
        return self

    def market(self) -> Market:
        """The market of ``home_country`` with the configured (or packaged) rates.

        Raises:
            ValueError: an unknown country, a non-positive rate, or no rate for USD (the
                catalog's normalised currency) or MXN/USD (the two currencies it holds).
        """
        country = self.home_country.upper()
        if self.exchange_rates is None:
            market = Market.default(country) if country in DEFAULT_RATES else None
            if market is None:
                raise ValueError(f"no market for country {country!r} (known: MX, US)")
        else:
            market = Market(country, self.exchange_rates, DEFAULT_RATES_DATE)
        if self.exchange_rates_date is not None:
            market = Market(country, market.rates, self.exchange_rates_date)
        for code in ("MXN", "USD"):
            if not market.knows(code):
                raise ValueError(f"no exchange rate for {code}; add it to REALTY_EXCHANGE_RATES")
        return market

    @field_validator("otel_endpoint")
    @classmethod
    def _traces_url(cls, value: str | None) -> str | None:
        # Empty is off, as unset is; anything else must be a URL an exporter can post to.
        if value is None or not value.strip():
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"REALTY_OTEL_ENDPOINT={value} is not an http:// or https:// URL")
        if url.path in ("", "/"):
            raise ValueError(
                f"REALTY_OTEL_ENDPOINT={value} has no path: an OTLP/HTTP collector takes "
                "traces at /v1/traces"
            )
        return value.strip()

    @field_validator("home_country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def lexicon(self) -> Lexicon:
        """Load the vocabulary this deployment reads (fails fast with the variable name)."""
        if self.vocabulary_file is None:
            return lexicon()
        try:
            data: Any = yaml.safe_load(self.vocabulary_file.read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(
                f"REALTY_VOCABULARY_FILE={self.vocabulary_file} cannot be read: {exc}"
            ) from exc
        try:
            return parse_lexicon(data)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"REALTY_VOCABULARY_FILE={self.vocabulary_file}: {exc}"
            ) from exc

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


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    alias = (
        Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    )
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"REALTY_{field.upper()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, validated once per process."""
    try:
        return Settings()
    except ValidationError as exc:
        names = ", ".join(env_name(str(e["loc"][0])) for e in exc.errors() if e["loc"])
        raise ConfigurationError(f"invalid settings ({names}): {exc}") from exc
