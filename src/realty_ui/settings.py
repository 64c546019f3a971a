"""The app's settings, read from the environment (prefix ``REALTY_UI_``).

They are read again on every rerun (:func:`get_ui_settings`), never kept at import time, so a
changed environment takes effect at the next interaction.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["en", "es"]


class UiSettings(BaseSettings):
    """Where the API is and how the app talks to it.

    Attributes:
        api_url: Base URL of the realty API (``REALTY_UI_API_URL``).
        staff_key: The staff key (``REALTY_UI_STAFF_KEY``). When set, the dashboard does not
            ask for it: only for a deployment that staff alone can reach, never a public one.
        timeout_s: Longest wait for one API request, in seconds (``REALTY_UI_TIMEOUT_S``).
        language: Language of the labels before a conversation has one, and of the
            dashboard (``REALTY_UI_LANGUAGE``).
    """

    model_config = SettingsConfigDict(env_prefix="REALTY_UI_", extra="ignore")

    api_url: str = "http://127.0.0.1:8000"
    staff_key: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    language: Language = "en"

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("REALTY_UI_API_URL must start with http:// or https://")
        return url

    @field_validator("staff_key")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return value


def get_ui_settings() -> UiSettings:
    """The settings as the environment says now.

    Raises:
        pydantic.ValidationError: a variable has an invalid value (the message names it).
    """
    return UiSettings()
