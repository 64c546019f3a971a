"""Database engines and migrations: a SQLite file (WAL) by default, PostgreSQL by URL.

URLs are accepted as operators write them (``postgresql://…``, ``postgres://…``,
``sqlite:///path``) and mapped to the drivers the project ships: psycopg 3 for PostgreSQL and
the standard library's sqlite3 for SQLite. Engines are built by the caller (the API's
lifespan, the CLI), never at import time.
"""

from __future__ import annotations

import fcntl
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
import psycopg
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError

from realty.errors import ConfigurationError
from realty.settings import Settings

# Any fixed number works; it only has to be the same for every process of the deployment.
_MIGRATION_LOCK = 7_303_011
_SQLITE_BUSY_MS = 10_000
# A pooled PostgreSQL connection idle longer than this is pinged before use (see _ping_idle).
IDLE_PING_S = 1.0
# A primitive, not a resource: guards Alembic's module-global command state (see _local_lock).
_ALEMBIC_LOCK = threading.Lock()


def database_url(settings: Settings) -> str:
    """The configured database URL as written (default: ``data_dir/realty.db``)."""
    if settings.database_url is None:
        return f"sqlite:///{settings.data_dir / 'realty.db'}"
    return settings.database_url


def driver_url(url: str) -> str:
    """``url`` with the driver the project ships (psycopg 3, or the standard sqlite3).

    Raises:
        ConfigurationError: not a PostgreSQL or SQLite URL.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"DATABASE_URL={url!r} is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    raise ConfigurationError(
        f"DATABASE_URL={parsed.render_as_string()!r}: only postgresql:// and sqlite:/// are "
        "supported"
    )


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


SqliteSynchronous = Literal["NORMAL", "FULL"]


def _sqlite_pragmas(synchronous: SqliteSynchronous) -> Callable[[Any, Any], None]:
    # WAL lets readers proceed while one writer commits. NORMAL is durable across process
    # crashes (kill -9 included: a commit has reached the operating system when it returns);
    # a power cut may lose the last commits, never corrupt the file. FULL also survives that,
    # at the cost of an fsync per commit (benchmarks/api_load.py --sqlite-full measures it).
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.close()

    return apply


def _ping_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle over ``idle_s``.

    A server restart or a dropped idle connection is then found before a request uses it,
    as ``pool_pre_ping`` would, without a round trip on every checkout under load, where
    connections come back within milliseconds. One that dies in between fails its request
    (503, and the pool is invalidated).
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the driver's error: the connection is gone
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the pooled connection does not answer")

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    timeout_s: float | None = None,
    sqlite_synchronous: SqliteSynchronous = "NORMAL",
) -> Engine:
    """An engine for ``url`` (SQLite files get WAL, foreign keys and a busy timeout).

    ``timeout_s`` bounds, on PostgreSQL, connecting, waiting for a pooled connection and each
    statement (server-side ``statement_timeout`` and ``lock_timeout``).

    Raises:
        ConfigurationError: the URL is malformed, of another database, or its folder cannot be
            created.
    """
    driver = driver_url(url)
    options: dict[str, Any] = {
        "json_serializer": _dumps,
        "json_deserializer": orjson.loads,
        "pool_size": pool_size,
        "max_overflow": pool_size,
    }
    if is_sqlite(url):
        _ensure_folder(url)
        # Connections move between the store's worker threads (never two at once).
        options["connect_args"] = {"timeout": _SQLITE_BUSY_MS / 1000, "check_same_thread": False}
    else:
        if timeout_s is not None:
            ms = max(1, round(timeout_s * 1000))
            options["pool_timeout"] = timeout_s
            options["connect_args"] = {
                "connect_timeout": max(1, math.ceil(timeout_s)),
                "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
            }
    engine = create_engine(driver, **options)
    if is_sqlite(url):
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous))
    else:
        _ping_idle(engine, IDLE_PING_S)
    return engine


def _ensure_folder(url: str) -> None:
    path = _sqlite_file(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the database folder {path.parent}: {exc}") from exc


@contextmanager
def _database_lock(connection: Connection) -> Iterator[None]:
    """Serialise migrations of pods starting together (PostgreSQL advisory lock)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
    try:
        yield
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})


@contextmanager
def _local_lock(url: str) -> Iterator[None]:
    """Serialise migrations within this process and, for a SQLite file, on this machine.

    Alembic's command API keeps module-global state, so one migration runs per process at a
    time; SQLite runs DDL outside transactions, so processes sharing a file (``realty api
    --workers N``) take an exclusive lock on a file beside it.
    """
    with _ALEMBIC_LOCK:
        path = _sqlite_file(url) if is_sqlite(url) else None
        if path is None:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.with_name(path.name + ".migrate.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def alembic_config(url: str) -> Any:
    """An Alembic configuration for ``url`` using the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("realty.store") / "migrations"))
    config.set_main_option("sqlalchemy.url", driver_url(url).replace("%", "%%"))
    return config


def _migrate(url: str, action: Callable[[Any], None]) -> None:
    config = alembic_config(url)
    try:
        with _local_lock(url):
            engine = make_engine(url, pool_size=1)
            try:
                with engine.connect() as connection, _database_lock(connection):
                    config.attributes["connection"] = connection
                    action(config)
                    connection.commit()
            finally:
                engine.dispose()
    except (OSError, sqlite3.Error, SQLAlchemyError, psycopg.Error) as exc:
        raise ConfigurationError(f"cannot migrate the database: {exc}") from exc


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent; safe for pods starting together).

    Raises:
        ConfigurationError: the database cannot be reached or migrated.
    """
    from alembic import command

    _migrate(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base``: an empty database).

    Raises:
        ConfigurationError: the database cannot be reached or migrated.
    """
    from alembic import command

    _migrate(url, lambda config: command.downgrade(config, revision))


def current_revision(url: str) -> str | None:
    """The revision the database is at (``None``: not migrated)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
