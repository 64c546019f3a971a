"""Opening a conversation once per ``Idempotency-Key`` (``POST /v1/conversations``).

A client that did not get the answer to its request (a timeout, a dropped connection) sends it
again with the same key and gets the same conversation — id, token and first reply — instead
of a second one. The key is remembered, for ``REALTY_IDEMPOTENCY_TTL_S``, in the database, in
the same transaction that creates the conversation, so it holds across processes and restarts:

* the record is keyed by a hash of the client's address and the key: another client's key,
  even an equal one, is another key;
* it holds a fingerprint of the request body: the same key with another body is refused (422);
* the conversation's token is kept *sealed* (XOR with a keystream derived from the key by
  HMAC-SHA512): only the sha256 of a token is ever stored in the clear, so the database alone
  gives no token back; a repeat of the request, which carries the key, does.

A repeat is answered from the conversation's log (its greeting, or the entry of the first
message), like a repeated ``client_message_id``: nothing is processed again and the
new-conversation rate limit does not count it. Two requests racing with one key both try to
create; the database's unique key lets one through and the other answers as a repeat. A repeat
that arrives while the first request is still handling its first message waits for it (up to
``WAIT_S``, then 409 with ``Retry-After``). A conversation that was erased or expired frees its
key, and so does a first message that failed or whose process died (after ``ABANDONED_S``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import orjson
from pydantic import StringConstraints

from realty.domain.brief import Language
from realty.errors import StorageError
from realty.services.conversation import (
    Bearer,
    ConversationService,
    TurnResult,
    UnknownConversationError,
    new_token,
)
from realty.services.wire import ProblemError
from realty.store.base import DuplicateIdempotencyKeyError, IdempotencyRecord, TurnRecord

KEY_PATTERN = r"^[A-Za-z0-9._~+/=:-]{16,128}$"
IdempotencyKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]

WAIT_S = 10.0  # how long a repeat waits for the first request's first message
ABANDONED_S = 120.0  # a first message still missing this long after: its request is gone
_POLL_S = 0.05
_LOOKUP = b"realty idempotency key\0"
_SEAL = b"realty conversation token\0"

Admit = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Opening:
    """What ``POST /v1/conversations`` asks for."""

    language: Language | None = None
    text: str | None = None
    client_message_id: str | None = None

    def fingerprint(self) -> str:
        """The sha256 of the request's canonical JSON (members in a fixed order)."""
        body = {
            "language": self.language,
            "text": self.text,
            "client_message_id": self.client_message_id,
        }
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class Opened:
    """The conversation an opening got: its first result (the greeting, or the reply to the
    first message), token and expiry; ``replayed`` when an earlier request had opened it."""

    result: TurnResult
    conversation_id: str
    token: str
    expires_at: dt.datetime
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _Key:
    """One client's Idempotency-Key: its lookup hash and the seal of the token it guards."""

    client: str
    key: str

    @property
    def lookup(self) -> str:
        raw = _LOOKUP + f"{self.client}\0{self.key}".encode()
        return hashlib.sha256(raw).hexdigest()

    def _keystream(self, size: int) -> bytes:
        stream = hmac.new(self.key.encode(), _SEAL + self.client.encode(), "sha512").digest()
        if size > len(stream):
            raise ValueError(f"a token of {size} bytes is longer than the keystream")
        return stream[:size]

    def seal(self, token: str) -> str:
        raw = token.encode()
        return bytes(a ^ b for a, b in zip(raw, self._keystream(len(raw)), strict=True)).hex()

    def unseal(self, sealed: str) -> str:
        raw = bytes.fromhex(sealed)
        opened = bytes(a ^ b for a, b in zip(raw, self._keystream(len(raw)), strict=True))
        return opened.decode("utf-8", errors="replace")


def key_reused() -> ProblemError:
    """The key came with another body."""
    return ProblemError(
        422,
        "idempotency-key-reused",
        "Idempotency key reused",
        "This Idempotency-Key opened a conversation with another request body; "
        "use a new key for a new conversation.",
    )


def in_progress() -> ProblemError:
    """The first request with this key is still handling its first message."""
    return ProblemError(
        409,
        "idempotency-in-progress",
        "Request in progress",
        "A request with this Idempotency-Key is still being handled; retry shortly.",
        headers={"Retry-After": "1"},
        retry_after=1,
    )


class Opener:
    """Opens conversations, once per Idempotency-Key (see the module doc).

    Args:
        service: The conversation service (and, through it, the store and the clock).
        ttl: How long a key is remembered (``REALTY_IDEMPOTENCY_TTL_S``).
        wait_s: How long a repeat waits for the first request's first message.
        abandoned_s: After how long a key whose first message never arrived is freed.
    """

    def __init__(
        self,
        service: ConversationService,
        ttl: dt.timedelta,
        *,
        wait_s: float = WAIT_S,
        abandoned_s: float = ABANDONED_S,
    ) -> None:
        self._service = service
        self._store = service.store
        self._ttl = ttl
        self._wait_s = wait_s
        self._abandoned = dt.timedelta(seconds=abandoned_s)

    async def open(self, opening: Opening, *, key: str | None, client: str, admit: Admit) -> Opened:
        """Open a conversation for ``opening``, or return the one ``key`` already opened.

        ``admit`` (the new-conversation rate limit) runs only when a conversation is created.

        Raises:
            ProblemError: 422 when ``key`` came with another body; 409 when its first request
                is still handling the first message after ``wait_s``.
            RateLimitedError: from ``admit``.
            StorageError: the store failed.
        """
        if key is None:
            await admit()
            return await self._create(opening, None)
        claim = _Key(client, key)
        fingerprint = opening.fingerprint()
        deadline = time.monotonic() + self._wait_s
        admitted = False
        while True:
            found = await self._store.find_idempotency(claim.lookup, self._service.now())
            if found is None:
                if not admitted:
                    await admit()
                    admitted = True
                with contextlib.suppress(DuplicateIdempotencyKeyError):
                    return await self._create(opening, (claim, fingerprint))
                continue  # another request with this key got there first: answer as it did
            if not hmac.compare_digest(found.fingerprint, fingerprint):
                raise key_reused()
            replayed = await self._replay(found, claim, opening)
            if replayed is not None:
                return replayed
            if time.monotonic() > deadline:
                raise in_progress()
            await asyncio.sleep(_POLL_S)

    async def _create(self, opening: Opening, keyed: tuple[_Key, str] | None) -> Opened:
        service = self._service
        token = new_token()
        cid = uuid.uuid4().hex
        record = None
        if keyed is not None:
            claim, fingerprint = keyed
            now = service.now()
            record = IdempotencyRecord(
                key_hash=claim.lookup,
                fingerprint=fingerprint,
                conversation_id=cid,
                sealed_token=claim.seal(token),
                created_at=now,
                expires_at=now + self._ttl,
            )
        started = await service.start(opening.language, cid, token=token, idempotency=record)
        assert started.expires_at is not None
        result = started
        if opening.text is not None:
            try:
                result = await service.handle_turn(
                    cid,
                    opening.text,
                    access=started.access,
                    client_message_id=opening.client_message_id,
                )
            except Exception:
                if record is not None:  # a repeat should try again, not wait for this one
                    with contextlib.suppress(StorageError):
                        await self._store.forget_idempotency(record.key_hash, cid)
                raise
        return Opened(result, cid, token, started.expires_at)

    async def _replay(
        self, found: IdempotencyRecord, claim: _Key, opening: Opening
    ) -> Opened | None:
        """The earlier request's answer; ``None`` while its first message is not stored yet
        (or when the key was freed: the caller looks again)."""
        cid = found.conversation_id
        token = claim.unseal(found.sealed_token)
        try:
            stored = await self._service.authorize(cid, Bearer(token))
        except UnknownConversationError:  # erased or expired: the key is free again
            await self._store.forget_idempotency(found.key_hash, cid)
            return None
        entry = await self._first_entry(cid, opening)
        if entry is not None:
            result = self._service.replayed(cid, entry)
            return Opened(result, cid, token, stored.expires_at, replayed=True)
        if self._service.now() - found.created_at > self._abandoned:
            await self._store.forget_idempotency(found.key_hash, cid)
        return None

    async def _first_entry(self, cid: str, opening: Opening) -> TurnRecord | None:
        """The entry the opening request answered with: the greeting, or its first message."""
        after = 0 if opening.text is None else 1
        entries = await self._store.history(cid, after=after, limit=1)
        if not entries or (opening.text is not None and entries[0].kind != "message"):
            return None
        return entries[0]
