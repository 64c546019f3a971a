"""The app factory uvicorn imports (``realty.api.main:app``, with ``factory=True``)."""

from __future__ import annotations

from fastapi import FastAPI

from realty import logs
from realty.api.app import create_app
from realty.settings import get_settings


def app() -> FastAPI:
    """The service configured from the environment, logging as REALTY_LOG_FORMAT says."""
    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)
    return create_app(settings)
