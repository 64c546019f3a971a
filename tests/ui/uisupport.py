"""Helpers of the app's tests: seeding and reading the API over HTTP, as other screens do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from livesupport import Server, settings_for_tests
from realty.settings import Settings
from realty_ui import APP_PATH

STAFF = {"x-api-key": "staff-key"}
TIMEOUT_S = 30


def fresh_app() -> AppTest:
    """A new browser session of the app (not yet run), configured by the environment."""
    return AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S)


def sqlite_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """API settings for tests over a SQLite file in ``tmp_path``."""
    return settings_for_tests(tmp_path, f"sqlite:///{tmp_path / 'realty.db'}", **overrides)


@dataclass
class Prospect:
    """A conversation driven over HTTP: what a prospect (or another screen) does."""

    server: Server
    id: str
    token: str
    greeting: str

    @classmethod
    def open(cls, server: Server) -> Prospect:
        """Open a conversation (the greeting only)."""
        with server.client() as http:
            body = http.post("/v1/conversations", json={}).raise_for_status().json()
        return cls(server, body["id"], body["token"], body["reply"])

    @property
    def auth(self) -> dict[str, str]:
        """The bearer header."""
        return {"authorization": f"Bearer {self.token}"}

    def say(self, *texts: str) -> list[dict[str, Any]]:
        """Send messages; their answers."""
        path = f"/v1/conversations/{self.id}/messages"
        with self.server.client() as http:
            return [
                http.post(path, json={"text": t}, headers=self.auth).raise_for_status().json()
                for t in texts
            ]

    def edit(self, patch: dict[str, Any]) -> dict[str, Any]:
        """A direct edit of the brief; its answer."""
        with self.server.client() as http:
            path = f"/v1/conversations/{self.id}/brief"
            answer: dict[str, Any] = (
                http.patch(path, json=patch, headers=self.auth).raise_for_status().json()
            )
        return answer

    def confirm(self) -> dict[str, Any]:
        """Confirm the brief; the answer."""
        with self.server.client() as http:
            path = f"/v1/conversations/{self.id}/confirm"
            answer: dict[str, Any] = http.post(path, headers=self.auth).raise_for_status().json()
        return answer

    def read(self) -> dict[str, Any]:
        """The conversation as the API holds it."""
        with self.server.client() as http:
            path = f"/v1/conversations/{self.id}"
            found: dict[str, Any] = http.get(path, headers=self.auth).raise_for_status().json()
        return found


def leads(server: Server) -> list[dict[str, Any]]:
    """Every lead, through the staff API."""
    with server.client() as http:
        items: list[dict[str, Any]] = (
            http.get("/v1/leads", headers=STAFF).raise_for_status().json()["items"]
        )
    return items
