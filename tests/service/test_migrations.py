"""Database migrations on SQLite and PostgreSQL: what they create, how they re-run and revert,
the ``realty db upgrade`` command, and migrations started by several workers at once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import Connection

from realty.store.engine import (
    alembic_config,
    current_revision,
    downgrade,
    make_engine,
    upgrade,
)
from realty.store.tables import conversations, idempotency_keys, leads, metadata

APPLICATION_TABLES = {"conversations", "turns", "leads", "idempotency_keys", "listings"}
REALTY = Path(sys.executable).with_name("realty")

# Imports first, then waits for the go file, so that every process migrates at the same moment.
_MIGRATE_AT_ONCE = """
import pathlib, sys, time
from realty.store.engine import upgrade
go = pathlib.Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.0005)
try:
    upgrade(sys.argv[1])
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}".splitlines()[0], flush=True)
    sys.exit(2)
print("ok", flush=True)
"""


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    with _connect(url) as connection:
        return set(inspect(connection).get_table_names())


def _versions(url: str) -> list[str]:
    with _connect(url) as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _schema_diff(url: str) -> list[Any]:
    with _connect(url) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _snapshot(url: str) -> dict[str, Any]:
    """Everything reflection says about the application tables."""
    with _connect(url) as connection:
        inspector = inspect(connection)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table),
                "fks": inspector.get_foreign_keys(table),
                "indexes": sorted(inspector.get_indexes(table), key=lambda i: str(i["name"])),
                "uniques": sorted(
                    inspector.get_unique_constraints(table), key=lambda u: str(u["name"])
                ),
            }
            for table in sorted(APPLICATION_TABLES)
        }


def _insert_conversation(url: str, conversation_id: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with _connect(url) as connection:
        connection.execute(
            conversations.insert().values(
                id=conversation_id,
                token_hash="0" * 64,
                channel="api",
                channel_key=None,
                state={},
                version=1,
                language="en",
                turns=0,
                complete=False,
                created_at=now,
                updated_at=now,
                expires_at=now + dt.timedelta(days=1),
            )
        )
        connection.commit()


def _count_conversations(url: str) -> int:
    with _connect(url) as connection:
        return int(connection.execute(select(func.count()).select_from(conversations)).scalar_one())


def _realty(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``realty`` command with only these database settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REALTY_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(DATABASE_URL=database_url, REALTY_DATA_DIR=str(data_dir))
    return subprocess.run(
        [str(REALTY), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _migrate_in_processes(url: str, processes: int, go: Path) -> list[str]:
    """Start ``processes`` interpreters that all call ``upgrade(url)`` at once; their verdicts."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_AT_ONCE, url, str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        go.touch()
        return [child.communicate(timeout=120)[0].strip() for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


# ---- what the migrations create ----------------------------------------------------------


def test_upgrade_creates_exactly_the_application_tables_at_head(database_url: str) -> None:
    """On an empty database, upgrade creates conversations, turns, leads and alembic_version
    only, and the database is then at the head revision."""
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert _tables(database_url) == APPLICATION_TABLES | {"alembic_version"}
    assert current_revision(database_url) == _head()
    assert _versions(database_url) == [_head()]


def test_the_migrated_schema_matches_the_table_metadata(database_url: str) -> None:
    """Alembic's autogenerate finds no difference (tables, columns, types, nullability,
    indexes, unique and foreign keys) between the migrated database and tables.py."""
    upgrade(database_url)
    assert _schema_diff(database_url) == []


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    """A second upgrade leaves the schema, the revision row and the stored data as they were."""
    upgrade(database_url)
    before = _snapshot(database_url)
    _insert_conversation(database_url, "c" * 32)
    upgrade(database_url)
    assert _snapshot(database_url) == before
    assert _versions(database_url) == [_head()]
    assert _count_conversations(database_url) == 1


def test_downgrade_to_base_removes_the_tables_and_upgrade_restores_them(
    database_url: str,
) -> None:
    """downgrade(url, "base") leaves no application table and no revision; upgrading again
    rebuilds the same schema at head."""
    upgrade(database_url)
    downgrade(database_url, "base")
    assert _tables(database_url) & APPLICATION_TABLES == set()
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert _tables(database_url) == APPLICATION_TABLES | {"alembic_version"}
    assert current_revision(database_url) == _head()
    assert _schema_diff(database_url) == []


# ---- realty db upgrade ---------------------------------------------------------------------


def test_db_upgrade_command_migrates_and_prints_the_revision(
    database_url: str, tmp_path: Path
) -> None:
    """`realty db upgrade` exits 0, says which revision the database is at, and it is head."""
    result = _realty("db", "upgrade", database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database at revision {_head()}"
    assert current_revision(database_url) == _head()
    assert _tables(database_url) == APPLICATION_TABLES | {"alembic_version"}


def test_db_upgrade_command_on_an_unreachable_database_exits_2_without_traceback(
    tmp_path: Path,
) -> None:
    """Nothing listens on port 1: exit code 2 and a one-paragraph error, not a traceback."""
    result = _realty(
        "db", "upgrade", database_url="postgresql://postgres@127.0.0.1:1/x", data_dir=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot migrate the database:")
    assert "127.0.0.1" in result.stderr
    assert "port 1" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


@pytest.mark.parametrize("url", ["mysql://x", "not a database url"])
def test_db_upgrade_command_names_database_url_when_it_is_malformed(
    url: str, tmp_path: Path
) -> None:
    """A URL of another database or no URL at all: exit 2 with a message naming DATABASE_URL."""
    result = _realty("db", "upgrade", database_url=url, data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: DATABASE_URL={url!r}")
    assert "Traceback" not in result.stderr + result.stdout


def test_db_upgrade_command_names_database_url_when_its_port_is_not_a_number(
    tmp_path: Path,
) -> None:
    """DATABASE_URL=postgresql://postgres@127.0.0.1:notaport/x is malformed too: exit 2 and a
    message naming DATABASE_URL, no traceback."""
    result = _realty(
        "db",
        "upgrade",
        database_url="postgresql://postgres@127.0.0.1:notaport/x",
        data_dir=tmp_path,
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2
    assert result.stderr.startswith("error: DATABASE_URL=")


# ---- workers migrating together ---------------------------------------------------------------


def test_upgrade_from_several_threads_at_once_on_postgresql(postgres_url: str) -> None:
    """Eight threads upgrading one fresh PostgreSQL database together all succeed (the
    advisory lock serialises them) and leave a single alembic_version row at head."""
    threads = 8
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def migrate() -> None:
        barrier.wait()
        try:
            upgrade(postgres_url)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=migrate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers)
    assert errors == []
    assert _versions(postgres_url) == [_head()]
    assert _tables(postgres_url) == APPLICATION_TABLES | {"alembic_version"}
    assert _schema_diff(postgres_url) == []


def test_upgrade_from_several_processes_at_once_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    """Six processes (pods starting together) upgrading one fresh PostgreSQL database at the
    same moment all succeed and leave a single alembic_version row at head."""
    verdicts = _migrate_in_processes(postgres_url, 6, tmp_path / "go")
    assert verdicts == ["ok"] * 6
    assert _versions(postgres_url) == [_head()]
    assert _schema_diff(postgres_url) == []


def test_upgrade_from_several_processes_at_once_on_sqlite(tmp_path: Path) -> None:
    """Six processes (e.g. `realty api --workers 6` on the default SQLite file, each worker
    migrating at start-up) upgrading one fresh SQLite file at the same moment all succeed.
    Three rounds, each on a new file, because a round without a collision proves little."""
    for round_ in range(3):
        url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
        verdicts = _migrate_in_processes(url, 6, tmp_path / f"go{round_}")
        assert verdicts == ["ok"] * 6
        assert _versions(url) == [_head()]


# ---- 0002: statistics and lead filters derived from what 0001 stored -----------------------


def test_0002_derives_its_columns_from_the_rows_0001_stored(database_url: str) -> None:
    """Upgrading a database with data fills the filled keys, the first completion turn and
    the leads' city and type from the stored JSON; downgrading and upgrading again works."""
    upgrade(database_url, "0001")
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    state = {"brief": {"slots": {"city": {}, "budget": {}}, "language": "en"}, "turn": 3}
    brief = {"fields": {"city": {"value": "Monterrey"}, "property_type": {"value": "office"}}}
    with _connect(database_url) as connection:
        old = MetaData()
        old_conversations = Table("conversations", old, autoload_with=connection)
        old_turns = Table("turns", old, autoload_with=connection)
        old_leads = Table("leads", old, autoload_with=connection)
        for cid, saved in (("a" * 32, state), ("b" * 32, {})):
            connection.execute(
                old_conversations.insert().values(
                    id=cid,
                    token_hash="0" * 64,
                    channel="api",
                    channel_key=None,
                    state=saved,
                    version=1,
                    language="en",
                    turns=3,
                    complete=True,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + dt.timedelta(days=1),
                )
            )
        for seq, turn, actions in (
            (1, 0, []),
            (2, 2, ["summary", "brief_completed"]),
            (3, 3, ["summary", "brief_completed"]),
        ):
            connection.execute(
                old_turns.insert().values(
                    conversation_id="a" * 32,
                    seq=seq,
                    turn=turn,
                    kind="message",
                    client_message_id=None,
                    text="",
                    blocked=False,
                    block_reason=None,
                    candidates=[],
                    accepted=[],
                    rejected=[],
                    actions=actions,
                    reply="",
                    brief={},
                    llm_calls=0,
                    llm_ms=0.0,
                    latency_ms=1.0,
                    created_at=now,
                )
            )
        connection.execute(
            old_leads.insert().values(
                id="l" * 32,
                conversation_id="a" * 32,
                status="new",
                brief=brief,
                language="en",
                channel="api",
                contact=None,
                created_at=now,
                updated_at=now,
            )
        )
        connection.commit()
    upgrade(database_url)
    with _connect(database_url) as connection:
        rows = connection.execute(
            select(
                conversations.c.id, conversations.c.filled, conversations.c.completed_turn
            ).order_by(conversations.c.id)
        ).all()
        lead = connection.execute(select(leads.c.city, leads.c.property_type)).one()
    assert [tuple(r) for r in rows] == [("a" * 32, " budget city ", 2), ("b" * 32, "", None)]
    assert tuple(lead) == ("Monterrey", "office")
    downgrade(database_url, "0001")
    assert current_revision(database_url) == "0001"
    upgrade(database_url)
    assert _schema_diff(database_url) == []


# ---- 0003: idempotency keys --------------------------------------------------------------


def test_0003_adds_idempotency_keys_that_go_with_their_conversation(database_url: str) -> None:
    """On a database at 0002 with data, 0003 adds the table; a key row goes when its
    conversation is deleted (ON DELETE CASCADE); downgrading drops only the new table."""
    upgrade(database_url, "0002")
    _insert_conversation(database_url, "a" * 32)
    _insert_conversation(database_url, "b" * 32)
    upgrade(database_url)
    now = dt.datetime.now(dt.UTC)
    with _connect(database_url) as connection:
        for cid in ("a" * 32, "b" * 32):
            connection.execute(
                idempotency_keys.insert().values(
                    key_hash=cid[0] * 64,
                    fingerprint="f" * 64,
                    conversation_id=cid,
                    sealed_token="00",
                    created_at=now,
                    expires_at=now + dt.timedelta(days=1),
                )
            )
        connection.execute(conversations.delete().where(conversations.c.id == "a" * 32))
        connection.commit()
        kept = connection.execute(select(idempotency_keys.c.conversation_id)).scalars().all()
    assert kept == ["b" * 32]
    downgrade(database_url, "0002")
    assert "idempotency_keys" not in _tables(database_url)
    assert _count_conversations(database_url) == 1
    upgrade(database_url)
    assert _schema_diff(database_url) == []


# ---- 0004: the listing catalog -----------------------------------------------------------


def test_0004_creates_the_listing_indexes_and_reverts_to_0003(database_url: str) -> None:
    """The catalog's indexes lead with type and offer (every matching query names both),
    then the city or the latitude; downgrading to 0003 drops the table and nothing else."""
    upgrade(database_url)
    with _connect(database_url) as connection:
        indexes = {
            i["name"]: i["column_names"] for i in inspect(connection).get_indexes("listings")
        }
    place = ["property_type", "offer", "country", "city"]
    assert indexes == {
        "ix_listings_price": [*place, "price_usd"],
        "ix_listings_size": [*place, "size_m2"],
        "ix_listings_unit_price": [*place, "price_usd_m2"],
        "ix_listings_area": ["property_type", "offer", "lat", "lon"],
        "ix_listings_source": ["source"],
    }
    _insert_conversation(database_url, "d" * 32)
    downgrade(database_url, "0003")
    assert _tables(database_url) == (APPLICATION_TABLES - {"listings"}) | {"alembic_version"}
    assert _count_conversations(database_url) == 1
    upgrade(database_url)
    assert _schema_diff(database_url) == []
