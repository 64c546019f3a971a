"""The durable store: SQLAlchemy 2 Core over SQLite (WAL) or PostgreSQL (psycopg 3).

Per-conversation serialisation is optimistic: :meth:`SqlStore.commit` first runs
``UPDATE conversations … WHERE id = :id AND version = :seen`` and appends the turn only when
that touched a row, in one transaction. On PostgreSQL a concurrent writer waits for the row
lock and then finds the version moved; on SQLite the UPDATE, being the transaction's first
statement, takes the database's write lock before reading anything, so no stale snapshot can
be written. Either way the loser gets :class:`VersionConflictError` and re-runs its turn. On
PostgreSQL a turn without a lead change sends both as one statement (``WITH bumped AS (UPDATE
… RETURNING id) INSERT … SELECT … FROM bumped``) in autocommit: one round trip, just as atomic.

Each store call is one synchronous function run in a worker thread (one hand-off per call):
measured here, that costs a fraction of the async drivers' per-statement hand-offs (a turn's
load and commit on SQLite: 0.3 ms against 1.7 ms with aiosqlite), and the event loop never
waits on the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from realty.domain.state import ConversationState
from realty.store.base import (
    NOT_USER_TURNS,
    Channel,
    DayStats,
    DuplicateChannelKeyError,
    DuplicateIdempotencyKeyError,
    DuplicateMessageError,
    IdempotencyRecord,
    Lead,
    LeadChange,
    LeadFilter,
    Stats,
    StoredConversation,
    TranscriptEntry,
    TurnRecord,
    VersionConflictError,
    completed_at,
    filled_keys,
    lead_facets,
    lead_id,
    parse_lead_cursor,
)
from realty.store.tables import conversations, idempotency_keys, leads, turns
from realty.store.workers import DatabaseWorkers

_P = ParamSpec("_P")
_T = TypeVar("_T")

_TURN_COLUMNS = [c for c in turns.c if c.name not in ("id", "conversation_id")]

# Statements built once: a turn executes them with plain parameters, which spares building
# and coercing a new statement per request (bind names differ from the columns they set).
_INSERT_CONVERSATION = insert(conversations)
_INSERT_TURN = insert(turns)
_LOAD = select(conversations).where(
    conversations.c.id == bindparam("b_id"), conversations.c.expires_at > bindparam("b_now")
)
_BUMP = (
    update(conversations)
    .where(
        conversations.c.id == bindparam("b_id"),
        conversations.c.version == bindparam("b_version"),
    )
    # The first completion is kept: later turns pass NULL or a later turn.
    .values(completed_turn=func.coalesce(conversations.c.completed_turn, bindparam("b_completed")))
)
_BUMP_SETS = (
    "version",
    "updated_at",
    "expires_at",
    "state",
    "language",
    "turns",
    "complete",
    "filled",
)
# PostgreSQL: the version check and the append as one statement, so a turn's write is one
# round trip in autocommit instead of four (BEGIN, UPDATE, INSERT, COMMIT). The INSERT takes
# its conversation id from the UPDATE's RETURNING: no row bumped, no row appended. Every
# parameter is cast to its column's type, as a bare NULL in a SELECT list would be text.
_BUMPED = (
    update(conversations)
    .where(
        conversations.c.id == bindparam("b_id"),
        conversations.c.version == bindparam("b_version"),
    )
    .values(
        completed_turn=func.coalesce(conversations.c.completed_turn, bindparam("b_completed")),
        **{
            name: cast(bindparam(f"u_{name}", type_=column.type), column.type)
            for name, column in ((name, conversations.c[name]) for name in _BUMP_SETS)
        },
    )
    .returning(conversations.c.id)
    .cte("bumped")
)
_BUMP_AND_APPEND = (
    insert(turns)
    .from_select(
        ["conversation_id", *(c.name for c in _TURN_COLUMNS)],
        select(
            _BUMPED.c.id,
            *(cast(bindparam(f"t_{c.name}", type_=c.type), c.type) for c in _TURN_COLUMNS),
        ),
    )
    .add_cte(_BUMPED)
    .returning(turns.c.seq)
)
_LEAD_COLUMNS = (
    "status",
    "brief",
    "language",
    "channel",
    "contact",
    "city",
    "property_type",
    "updated_at",
)
_LEAD_FIELDS = [c for c in leads.c if c.name != "transcript"]
# A lead's values changed after it was made, its status kept (``LeadChange.status`` None).
_LEAD_TOUCHED = [name for name in _LEAD_COLUMNS if name != "status"]
_TOUCH_LEAD = (
    update(leads)
    .where(leads.c.conversation_id == bindparam("b_conversation_id"))
    .values({name: bindparam(f"l_{name}") for name in _LEAD_TOUCHED})
)


def _lead_upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (conversation_id) DO UPDATE`` in the engine's dialect."""
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(leads)
    return statement.on_conflict_do_update(
        index_elements=[leads.c.conversation_id],
        set_={name: statement.excluded[name] for name in _LEAD_COLUMNS},
    )


def _conversation(row: Mapping[str, Any]) -> StoredConversation:
    return StoredConversation(
        id=row["id"],
        state=ConversationState.model_validate(row["state"]),
        version=row["version"],
        token_hash=row["token_hash"],
        channel=row["channel"],
        channel_key=row["channel_key"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
    )


def _state_columns(state: ConversationState) -> dict[str, Any]:
    return {
        "state": state.model_dump(mode="json"),
        "language": state.language,
        "turns": state.turn,
        "complete": state.phase == "complete",
        "filled": filled_keys(state),
    }


def _turn_row(conversation_id: str, record: TurnRecord) -> dict[str, Any]:
    row = record.model_dump(mode="python")
    row["conversation_id"] = conversation_id
    return row


def _turn(row: Mapping[str, Any]) -> TurnRecord:
    return TurnRecord.model_validate({c.name: row[c.name] for c in _TURN_COLUMNS})


def _lead_row(conversation_id: str, change: LeadChange, record: TurnRecord) -> dict[str, Any]:
    city, kind = lead_facets(change.brief)
    return {
        "id": lead_id(conversation_id),
        "conversation_id": conversation_id,
        "created_at": record.created_at,
        "updated_at": record.created_at,
        "city": city,
        "property_type": kind,
        **change.model_dump(),
    }


def _lead(row: Mapping[str, Any]) -> Lead:
    return Lead.model_validate({c.name: row[c.name] for c in _LEAD_FIELDS})


class SqlStore(DatabaseWorkers):
    """Conversations, turns and leads in a relational database.

    Args:
        engine: An engine from :func:`realty.store.engine.make_engine`; the store does not own
            it (the caller disposes of it).
        threads: Worker threads for database calls (at most one connection each).
        timeout_s: Longest wait for one call, queueing included (``None``: no bound). A
            database that hangs then costs a request this long, not forever; the call left
            behind finishes or fails on its own, and a retried message is answered from the
            log if it was stored after all (messages are idempotent by ``client_message_id``).

    Every database failure surfaces as :class:`~realty.errors.StorageError`.
    """

    def __init__(self, engine: Engine, *, threads: int = 8, timeout_s: float | None = None) -> None:
        super().__init__(threads, timeout_s, "realty-db")
        self._engine = engine
        dialect = engine.dialect.name
        self._one_statement_commit = dialect == "postgresql"
        # On PostgreSQL a single statement runs in autocommit: no BEGIN and ROLLBACK or COMMIT
        # around it (round trips), and it is atomic and sees one snapshot anyway. (SQLite's
        # driver begins a transaction only before a write, and its resetting the isolation
        # level would cost a PRAGMA per read.)
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self._one_statement_commit
            else engine
        )
        self._upsert = _lead_upsert(dialect)
        # SQLite has one writer at a time: this process's writers queue here instead of
        # sleeping in SQLite's busy handler (other processes still wait on busy_timeout).
        self._write_lock: Any = threading.Lock() if dialect == "sqlite" else None

    def _writing(self) -> Any:
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A write transaction (queued behind this process's other SQLite writers)."""
        with self._writing(), self._engine.begin() as conn:
            yield conn

    # ---- the ConversationStore protocol ----

    async def ping(self) -> None:
        """Check that the database answers.

        Raises:
            StorageError: it does not.
        """

        def ping() -> None:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        await self._run("reach the database", ping)

    async def create(
        self,
        conversation: StoredConversation,
        greeting: TurnRecord,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Store a new conversation with its greeting as entry 1 (and its Idempotency-Key)."""
        await self._run(
            "create the conversation", self._create, conversation, greeting, idempotency
        )

    def _create(
        self,
        conversation: StoredConversation,
        greeting: TurnRecord,
        idempotency: IdempotencyRecord | None,
    ) -> None:
        values = {
            "id": conversation.id,
            "token_hash": conversation.token_hash,
            "channel": conversation.channel,
            "channel_key": conversation.channel_key,
            "version": conversation.version,
            "created_at": conversation.created_at,
            "updated_at": conversation.updated_at,
            "expires_at": conversation.expires_at,
            **_state_columns(conversation.state),
        }
        try:
            with self._begin() as conn:
                if conversation.channel_key is not None:
                    # An expired conversation of the same prospect may not be purged yet.
                    conn.execute(
                        delete(conversations).where(
                            conversations.c.channel == conversation.channel,
                            conversations.c.channel_key == conversation.channel_key,
                            conversations.c.expires_at <= conversation.created_at,
                        )
                    )
                conn.execute(_INSERT_CONVERSATION, values)
                conn.execute(_INSERT_TURN, _turn_row(conversation.id, greeting))
                if idempotency is not None:
                    # An expired record of the same key may not be purged yet.
                    conn.execute(
                        delete(idempotency_keys).where(
                            idempotency_keys.c.key_hash == idempotency.key_hash,
                            idempotency_keys.c.expires_at <= conversation.created_at,
                        )
                    )
                    conn.execute(insert(idempotency_keys), idempotency.model_dump())
        except IntegrityError as exc:
            if idempotency is not None and idempotency_keys.name in str(exc.orig):
                raise DuplicateIdempotencyKeyError(idempotency.key_hash) from exc
            raise DuplicateChannelKeyError(conversation.channel_key or conversation.id) from exc

    async def find_idempotency(self, key_hash: str, now: dt.datetime) -> IdempotencyRecord | None:
        """The unexpired Idempotency-Key record with this hash, if any."""
        query = select(idempotency_keys).where(
            idempotency_keys.c.key_hash == key_hash, idempotency_keys.c.expires_at > now
        )
        row = await self._run("read", self._one, query)
        return None if row is None else IdempotencyRecord.model_validate(row)

    async def forget_idempotency(self, key_hash: str, conversation_id: str) -> None:
        """Delete the record of ``key_hash`` if it still names ``conversation_id``."""

        def forget() -> None:
            with self._begin() as conn:
                conn.execute(
                    delete(idempotency_keys).where(
                        idempotency_keys.c.key_hash == key_hash,
                        idempotency_keys.c.conversation_id == conversation_id,
                    )
                )

        await self._run("forget the idempotency key", forget)

    async def load(self, conversation_id: str, now: dt.datetime) -> StoredConversation | None:
        """The conversation, or ``None`` when unknown or expired."""
        if not _holdable(conversation_id):
            return None
        row = await self._run("read", self._one, _LOAD, {"b_id": conversation_id, "b_now": now})
        return None if row is None else _conversation(row)

    async def find_by_channel(
        self, channel: Channel, key: str, now: dt.datetime
    ) -> StoredConversation | None:
        """The live conversation of a prospect on a channel, if any."""
        if not _holdable(key):
            return None
        query = select(conversations).where(
            conversations.c.channel == channel,
            conversations.c.channel_key == key,
            conversations.c.expires_at > now,
        )
        row = await self._run("read", self._one, query)
        return None if row is None else _conversation(row)

    async def commit(
        self,
        conversation_id: str,
        expected_version: int,
        state: ConversationState,
        record: TurnRecord,
        *,
        expires_at: dt.datetime,
        lead: LeadChange | None = None,
    ) -> None:
        """Save the new version and append ``record`` in one transaction (see module doc)."""
        bump = {
            "b_id": conversation_id,
            "b_version": expected_version,
            "version": expected_version + 1,
            "updated_at": record.created_at,
            "expires_at": expires_at,
            "b_completed": completed_at(record),
            **_state_columns(state),
        }
        turn = _turn_row(conversation_id, record)
        upsert = None if lead is None else _lead_row(conversation_id, lead, record)
        await self._run("save the turn", self._commit, bump, turn, upsert)

    def _commit(
        self, bump: dict[str, Any], turn: dict[str, Any], lead: dict[str, Any] | None
    ) -> None:
        if lead is None and self._one_statement_commit:
            self._commit_at_once(bump, turn)
            return
        with self._begin() as conn:
            if conn.execute(_BUMP, bump).rowcount != 1:
                raise VersionConflictError(bump["b_id"])
            try:
                conn.execute(_INSERT_TURN, turn)
            except IntegrityError as exc:
                # The version check passed, so the seq is free: the message id is not.
                raise DuplicateMessageError(turn["client_message_id"] or "") from exc
            if lead is not None and lead["status"] is None:
                touched = {f"l_{name}": lead[name] for name in _LEAD_TOUCHED}
                conn.execute(_TOUCH_LEAD, {"b_conversation_id": lead["conversation_id"], **touched})
            elif lead is not None:
                conn.execute(self._upsert, lead)

    def _commit_at_once(self, bump: dict[str, Any], turn: dict[str, Any]) -> None:
        params = {
            "b_id": bump["b_id"],
            "b_version": bump["b_version"],
            "b_completed": bump["b_completed"],
            **{f"u_{name}": bump[name] for name in _BUMP_SETS},
            **{f"t_{c.name}": turn[c.name] for c in _TURN_COLUMNS},
        }
        try:
            with self._single.connect() as conn:
                appended = len(conn.execute(_BUMP_AND_APPEND, params).all())
        except IntegrityError as exc:
            # Only the message id can collide: the bumped version makes the seq free.
            raise DuplicateMessageError(turn["client_message_id"] or "") from exc
        if appended != 1:
            raise VersionConflictError(bump["b_id"])

    async def find_turn(self, conversation_id: str, client_message_id: str) -> TurnRecord | None:
        """The stored entry with this client message id, if any."""
        if not _holdable(conversation_id, client_message_id):
            return None
        query = select(turns).where(
            turns.c.conversation_id == conversation_id,
            turns.c.client_message_id == client_message_id,
        )
        row = await self._run("read", self._one, query)
        return None if row is None else _turn(row)

    async def history(
        self, conversation_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[TurnRecord]:
        """Entries with ``seq > after``, oldest first, at most ``limit``."""
        if not _holdable(conversation_id):
            return []
        query = (
            select(turns)
            .where(turns.c.conversation_id == conversation_id, turns.c.seq > after)
            .order_by(turns.c.seq)
            .limit(limit)
        )
        return [_turn(row) for row in await self._run("read", self._all, query)]

    async def turns(self, conversation_id: str) -> list[TurnRecord]:
        """Every entry of a conversation, oldest first."""
        return await self.history(conversation_id, limit=2**31 - 1)

    async def delete(self, conversation_id: str) -> bool:
        """Erase the conversation, its turns and its lead."""
        if not _holdable(conversation_id):
            return False

        def erase() -> bool:
            with self._begin() as conn:
                conn.execute(delete(leads).where(leads.c.conversation_id == conversation_id))
                conn.execute(delete(turns).where(turns.c.conversation_id == conversation_id))
                conn.execute(
                    delete(idempotency_keys).where(
                        idempotency_keys.c.conversation_id == conversation_id
                    )
                )
                gone = conn.execute(
                    delete(conversations).where(conversations.c.id == conversation_id)
                )
                return bool(gone.rowcount)

        return await self._run("erase the conversation", erase)

    async def purge_expired(self, now: dt.datetime) -> list[str]:
        """Erase expired conversations (their turns and keys cascade), a lead keeping its
        transcript, and expired Idempotency-Key records."""

        def purge() -> list[str]:
            expired = select(conversations.c.id).where(conversations.c.expires_at <= now)
            with self._begin() as conn:
                conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= now))
                kept = conn.execute(
                    select(leads.c.id, leads.c.conversation_id).where(
                        leads.c.conversation_id.in_(expired)
                    )
                ).all()
                for start in range(0, len(kept), _CHUNK):
                    _keep_transcripts(conn, kept[start : start + _CHUNK])
                gone = conn.execute(
                    delete(conversations)
                    .where(conversations.c.expires_at <= now)
                    .returning(conversations.c.id)
                )
                return sorted(str(cid) for cid in gone.scalars())

        return await self._run("purge", purge)

    # ---- the StaffStore protocol ----

    async def leads(
        self, where: LeadFilter | None = None, *, limit: int = 50, before: str | None = None
    ) -> list[Lead]:
        """Leads matching ``where``, most recently updated first (keyset pagination)."""
        where = where or LeadFilter()
        query = (
            select(*_LEAD_FIELDS)
            .where(*_lead_conditions(where))
            .order_by(leads.c.updated_at.desc(), leads.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            when, last_id = parse_lead_cursor(before)
            query = query.where(
                or_(
                    leads.c.updated_at < when,
                    and_(leads.c.updated_at == when, leads.c.id < last_id),
                )
            )
        if not _holdable(where.city, where.property_type):
            return []
        return [_lead(row) for row in await self._run("read", self._all, query)]

    async def lead(self, lead_id: str) -> tuple[Lead, list[TranscriptEntry]] | None:
        """A lead and its transcript (from the live conversation, or the copy kept with it)."""
        if not _holdable(lead_id):
            return None

        def read() -> tuple[Lead, list[TranscriptEntry]] | None:
            with self._engine.connect() as conn:
                row = conn.execute(select(leads).where(leads.c.id == lead_id)).mappings().first()
                if row is None:
                    return None
                if row["conversation_id"] is None:
                    kept = row["transcript"] or []
                    return _lead(dict(row)), [TranscriptEntry.model_validate(e) for e in kept]
                log = conn.execute(
                    select(turns)
                    .where(turns.c.conversation_id == row["conversation_id"])
                    .order_by(turns.c.seq)
                ).mappings()
                return _lead(dict(row)), [TranscriptEntry.of(_turn(dict(r))) for r in log]

        return await self._run("read the lead", read)

    async def stats(
        self, now: dt.datetime, *, days: int = 14, fields: tuple[str, ...] = ()
    ) -> Stats:
        """Counts over live conversations, turns and leads, and ``days`` days of daily numbers."""
        return await self._run("read statistics", self._stats, now, days, fields)

    def _stats(self, now: dt.datetime, days: int, fields: tuple[str, ...]) -> Stats:
        first_day = now.astimezone(dt.UTC).date() - dt.timedelta(days=days - 1)
        since = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
        with self._engine.connect() as conn:
            talks = _conversation_numbers(conn, now, fields)
            said = _turn_numbers(conn)
            leads_by = _lead_numbers(conn)
            daily = _daily(conn, since, self._engine.dialect.name)
        return Stats(
            **talks,
            **said,
            **leads_by,
            days=[
                daily.get(first_day + dt.timedelta(days=i), _empty_day(first_day, i))
                for i in range(days)
            ],
        )

    def _one(self, query: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        with self._single.connect() as conn:
            row = conn.execute(query, params).mappings().first()
        return None if row is None else dict(row)

    def _all(self, query: Any) -> list[dict[str, Any]]:
        with self._single.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings().all()]


_CHUNK = 500  # ids per IN (…) list


def _keep_transcripts(conn: Connection, kept: Sequence[Any]) -> None:
    """Copy the transcripts of expiring conversations into their leads."""
    ids = [cid for _, cid in kept]
    log = conn.execute(
        select(turns).where(turns.c.conversation_id.in_(ids)).order_by(turns.c.seq)
    ).mappings()
    by_conversation: dict[str, list[dict[str, Any]]] = {cid: [] for cid in ids}
    for row in log:
        entry = TranscriptEntry.of(_turn(dict(row))).model_dump(mode="json")
        by_conversation[row["conversation_id"]].append(entry)
    for lead_key, cid in kept:
        conn.execute(
            update(leads).where(leads.c.id == lead_key).values(transcript=by_conversation[cid])
        )


def _holdable(*keys: str | None) -> bool:
    """Whether a stored row could have these keys. PostgreSQL refuses NUL characters in
    text, so no stored key has one, and a query with one would fail instead of matching
    nothing (a 503 for a request that names no such conversation)."""
    return not any(key is not None and "\x00" in key for key in keys)


def _lead_conditions(where: LeadFilter) -> list[Any]:
    conditions: list[Any] = []
    if where.status is not None:
        conditions.append(leads.c.status == where.status)
    if where.city is not None:
        conditions.append(leads.c.city == where.city)
    if where.property_type is not None:
        conditions.append(leads.c.property_type == where.property_type)
    if where.created_from is not None:
        start = dt.datetime.combine(where.created_from, dt.time(), tzinfo=dt.UTC)
        conditions.append(leads.c.created_at >= start)
    if where.created_to is not None:
        end = dt.datetime.combine(where.created_to, dt.time(), tzinfo=dt.UTC)
        conditions.append(leads.c.created_at < end + dt.timedelta(days=1))
    return conditions


def _counts(conn: Connection, query: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in conn.execute(query) if k is not None}


def _conversation_numbers(
    conn: Connection, now: dt.datetime, fields: tuple[str, ...]
) -> dict[str, Any]:
    c = conversations.c
    live = c.expires_at > now
    channels = _counts(conn, select(c.channel, func.count()).where(live).group_by(c.channel))
    done = select(func.count()).select_from(conversations).where(live, c.complete.is_(True))
    engaged = select(func.count()).select_from(conversations).where(live, c.turns > 0)
    completed = (
        select(func.count()).select_from(conversations).where(live, c.completed_turn.is_not(None))
    )
    first = (
        select(c.completed_turn, func.count())
        .where(live, c.completed_turn.is_not(None))
        .group_by(c.completed_turn)
    )
    n_engaged = int(conn.execute(engaged).scalar_one())
    n_completed = int(conn.execute(completed).scalar_one())
    fill: dict[str, float] = {}
    if fields:
        holding = [
            func.coalesce(func.sum(case((c.filled.like(f"% {key} %"), 1), else_=0)), 0)
            for key in fields
        ]
        row = conn.execute(select(*holding).where(live, c.turns > 0)).one()
        fill = {
            key: int(n) / n_engaged if n_engaged else 0.0
            for key, n in zip(fields, row, strict=True)
        }
    return {
        "conversations": sum(channels.values()),
        "conversations_complete": int(conn.execute(done).scalar_one()),
        "conversations_by_channel": channels,
        "conversations_engaged": n_engaged,
        "conversations_completed": n_completed,
        "completion_rate": n_completed / n_engaged if n_engaged else 0.0,
        "turns_to_completion": _counts(conn, first),
        "fill_rate": fill,
    }


def _turn_numbers(conn: Connection) -> dict[str, Any]:
    t = turns.c
    user = t.kind.not_in(NOT_USER_TURNS)
    count, blocked, calls, mean, feeling = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(func.cast(t.blocked, Integer)), 0),
            func.coalesce(func.sum(t.llm_calls), 0),
            func.coalesce(func.avg(t.latency_ms), 0.0),
            func.avg(t.sentiment),
        ).where(user)
    ).one()
    intents = select(t.intent, func.count()).where(user, t.intent.is_not(None))
    reasons = select(t.block_reason, func.count()).where(user, t.blocked.is_(True))
    histogram = select(t.llm_calls, func.count()).where(user).group_by(t.llm_calls)
    overall = _percentiles(conn, None, [user]).get(None, (None, None))
    return {
        "turns": int(count),
        "blocked_turns": int(blocked),
        "blocked_by_reason": _counts(conn, reasons.group_by(t.block_reason)),
        "llm_calls": int(calls),
        "llm_calls_per_turn": int(calls) / int(count) if count else 0.0,
        "llm_calls_histogram": _counts(conn, histogram),
        "turns_by_intent": _counts(conn, intents.group_by(t.intent)),
        "mean_sentiment": None if feeling is None else round(float(feeling), 3),
        "mean_latency_ms": round(float(mean), 3),
        "p50_latency_ms": overall[0],
        "p95_latency_ms": overall[1],
    }


def _lead_numbers(conn: Connection) -> dict[str, Any]:
    by_status = _counts(conn, select(leads.c.status, func.count()).group_by(leads.c.status))
    by_city = select(leads.c.city, func.count()).group_by(leads.c.city)
    by_type = select(leads.c.property_type, func.count()).group_by(leads.c.property_type)
    return {
        "leads": sum(by_status.values()),
        "leads_by_status": by_status,
        "leads_by_city": _counts(conn, by_city),
        "leads_by_type": _counts(conn, by_type),
    }


def _day(column: Any, dialect: str) -> Any:
    """The UTC calendar day of a timestamp column."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC timestamps as naive text


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _percentiles(
    conn: Connection, key: Any, where: list[Any]
) -> dict[Any, tuple[float | None, float | None]]:
    """Nearest-rank p50 and p95 of user-turn latency, per value of ``key`` (or overall)."""
    t = turns.c
    partition = {"partition_by": key} if key is not None else {}
    ranked = (
        select(
            (key if key is not None else literal(0)).label("k"),
            t.latency_ms.label("v"),
            func.row_number().over(order_by=t.latency_ms, **partition).label("rn"),
            func.count().over(**partition).label("n"),
        )
        .where(*where)
        .subquery()
    )

    def at(share: int) -> Any:
        rank = (share * ranked.c.n + 99) // 100
        return func.max(case((ranked.c.rn == rank, ranked.c.v)))

    query = select(ranked.c.k, at(50), at(95)).group_by(ranked.c.k)
    rows = conn.execute(query).all()
    if key is None:
        return {None: (rows[0][1], rows[0][2])} if rows else {}
    return {_as_date(k): (p50, p95) for k, p50, p95 in rows}


def _daily(conn: Connection, since: dt.datetime, dialect: str) -> dict[dt.date, DayStats]:
    c, t = conversations.c, turns.c
    opened_day = _day(c.created_at, dialect)
    opened = conn.execute(
        select(
            opened_day,
            func.count(),
            func.sum(case((c.completed_turn.is_not(None), 1), else_=0)),
        )
        .where(c.created_at >= since)
        .group_by(opened_day)
    ).all()
    said_day = _day(t.created_at, dialect)
    user = [t.kind.not_in(NOT_USER_TURNS), t.created_at >= since]
    said = conn.execute(
        select(
            said_day,
            func.count(),
            func.sum(func.cast(t.blocked, Integer)),
            func.sum(t.llm_calls),
        )
        .where(*user)
        .group_by(said_day)
    ).all()
    latency = _percentiles(conn, said_day, user)
    days: dict[dt.date, dict[str, Any]] = {}
    for day, count, completed in opened:
        days.setdefault(_as_date(day), {}).update(conversations=count, completed=completed)
    for day, count, blocked, calls in said:
        days.setdefault(_as_date(day), {}).update(
            turns=count, blocked_turns=blocked, llm_calls=calls
        )
    out: dict[dt.date, DayStats] = {}
    for day, numbers in days.items():
        p50, p95 = latency.get(day, (None, None))
        out[day] = DayStats(
            date=day,
            conversations=int(numbers.get("conversations") or 0),
            completed=int(numbers.get("completed") or 0),
            turns=int(numbers.get("turns") or 0),
            blocked_turns=int(numbers.get("blocked_turns") or 0),
            llm_calls=int(numbers.get("llm_calls") or 0),
            p50_latency_ms=p50,
            p95_latency_ms=p95,
        )
    return out


def _empty_day(first_day: dt.date, offset: int) -> DayStats:
    return DayStats(
        date=first_day + dt.timedelta(days=offset),
        conversations=0,
        completed=0,
        turns=0,
        blocked_turns=0,
        llm_calls=0,
        p50_latency_ms=None,
        p95_latency_ms=None,
    )
