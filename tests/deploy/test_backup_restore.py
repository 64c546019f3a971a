"""Backup and restore, with the exact commands docs/deploy.md gives.

Conversations are opened through the real API; the database is backed up while that API still
serves (``pg_dump`` in custom format, or SQLite's online backup API), restored into a fresh
database (``pg_restore``, or the backup API again), and a second API started on the restored
copy, without migrating it, must serve the same conversations, briefs, history and leads, and
accept the conversations' original tokens for new messages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from livesupport import Opened, Serve, Server, open_conversation, settings_for_tests

ROOT = Path(__file__).resolve().parents[2]
TESTED_BLOCK = re.compile(r"<!-- tested: (\S+) -->\n```bash\n(.*?)```", re.DOTALL)
STAFF = {"X-API-Key": "staff-key"}


def documented_commands() -> dict[str, str]:
    """The shell blocks of docs/deploy.md marked ``<!-- tested: NAME -->``, by name."""
    return dict(TESTED_BLOCK.findall((ROOT / "docs" / "deploy.md").read_text("utf-8")))


def run_documented(name: str, **env: str) -> None:
    """Run a documented block with bash (``python`` being this interpreter), as written."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", documented_commands()[name]],
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stderr}"


def test_the_documented_blocks_are_those_the_test_runs() -> None:
    commands = documented_commands()
    assert set(commands) == {
        "backup-postgresql",
        "restore-postgresql",
        "backup-sqlite",
        "restore-sqlite",
    }
    assert commands["backup-postgresql"].startswith("pg_dump --format=custom ")
    assert commands["restore-postgresql"].startswith("pg_restore ")
    assert ".backup(" in commands["backup-sqlite"]


def _converse(http: httpx.Client) -> list[Opened]:
    """Two conversations: one complete and confirmed (a lead), one half-way, in Spanish."""
    done = open_conversation(http, text="I need an office in Mexico City.")
    reply = http.post(
        f"/v1/conversations/{done.id}/messages",
        json={"text": "I can spend 20,000 USD for 500m²."},
        headers=done.auth,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["brief"]["complete"] is True
    confirmed = http.post(f"/v1/conversations/{done.id}/confirm", headers=done.auth)
    assert confirmed.status_code == 200, confirmed.text
    half = open_conversation(http, text="Busco una bodega en Monterrey.")
    return [done, half]


def _snapshot(http: httpx.Client, conversations: list[Opened]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for conv in conversations:
        response = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth)
        assert response.status_code == 200, response.text
        state[conv.id] = response.json()
    leads = http.get("/v1/leads", headers=STAFF)
    assert leads.status_code == 200, leads.text
    state["leads"] = leads.json()
    return state


@dataclass
class Backend:
    """How one kind of database is created, backed up and restored for the test."""

    source: Callable[[Path], str]
    backup: Callable[[str, Path], None]
    restore: Callable[[Path, Path], str]


def _sqlite_backend() -> Backend:
    def restore(backup: Path, folder: Path) -> str:
        folder.mkdir()
        run_documented("restore-sqlite", BACKUP_FILE=str(backup), REALTY_DATA_DIR=str(folder))
        return f"sqlite:///{folder / 'realty.db'}"

    return Backend(
        source=lambda folder: f"sqlite:///{folder / 'realty.db'}",
        backup=lambda url, file: run_documented(
            "backup-sqlite",
            BACKUP_FILE=str(file),
            REALTY_DATA_DIR=str(Path(url.removeprefix("sqlite:///")).parent),
        ),
        restore=restore,
    )


def _postgres_backend(new_database: Callable[[], str]) -> Backend:
    def restore(backup: Path, folder: Path) -> str:
        url = new_database()
        run_documented("restore-postgresql", BACKUP_FILE=str(backup), RESTORE_DATABASE_URL=url)
        return url

    return Backend(
        source=lambda folder: new_database(),
        backup=lambda url, file: run_documented(
            "backup-postgresql", BACKUP_FILE=str(file), DATABASE_URL=url
        ),
        restore=restore,
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_restored_backup_serves_the_same_conversations_with_their_tokens(
    kind: str,
    tmp_path: Path,
    serve: Serve,
    new_postgres_database: Callable[[], str],
) -> None:
    backend = _sqlite_backend() if kind == "sqlite" else _postgres_backend(new_postgres_database)
    (tmp_path / "live").mkdir()
    live_url = backend.source(tmp_path / "live")
    live = serve(settings_for_tests(tmp_path / "live", live_url))
    backup = tmp_path / ("realty.dump" if kind == "postgresql" else "realty-backup.db")
    with live.client() as http:
        conversations = _converse(http)
        before = _snapshot(http, conversations)
        backend.backup(live_url, backup)  # while the API serves
        after_backup = open_conversation(http, text="An office in Guadalajara.")

    restored_url = backend.restore(backup, tmp_path / "restored")
    # Not migrated at start-up: the schema must come from the backup.
    restored = serve(settings_for_tests(tmp_path / "restored", restored_url, db_auto_migrate=False))
    _check_restored(restored, conversations, before, after_backup)


def _check_restored(
    restored: Server, conversations: list[Opened], before: dict[str, Any], later: Opened
) -> None:
    with restored.client() as http:
        assert _snapshot(http, conversations) == before
        assert [lead["conversation_id"] for lead in before["leads"]["items"]] == [
            conversations[0].id
        ]
        # The original tokens still write, and only to their own conversation.
        half = conversations[1]
        reply = http.post(
            f"/v1/conversations/{half.id}/messages",
            json={"text": "Hasta 80 mil pesos al mes, 1,000 m²."},
            headers=half.auth,
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["turn"] == before[half.id]["turns"] + 1
        stolen = http.get(f"/v1/conversations/{half.id}", headers=conversations[0].auth)
        assert stolen.status_code in (401, 403, 404)
        # A conversation opened after the backup is not in it.
        missing = http.get(f"/v1/conversations/{later.id}", headers=later.auth)
        assert missing.status_code in (401, 404)
