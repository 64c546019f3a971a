"""The app factory uvicorn imports (``realty.api.main:app``, with ``factory=True``)."""

from __future__ import annotations

from fastapi import FastAPI

from realty.api.app import create_app
from realty.settings import get_settings


def app() -> FastAPI:
    """The service configured from the environment."""
    return create_app(get_settings())
