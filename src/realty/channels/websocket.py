"""The WebSocket channel: ``/v1/conversations/{id}/ws`` streams typing, reply and brief events.

Protocol (JSON text frames; docs/api.md has the details):

* connect with ``?after=<last seq seen>`` and the conversation token in an
  ``Authorization: Bearer`` header or, where the client cannot set headers (browsers), in a
  first frame ``{"type": "auth", "token": "…"}`` sent within ``REALTY_WS_AUTH_TIMEOUT_S``
  (``?token=`` in the URL still works for old clients; log lines show it as ``token=***``).
  The server replays every stored entry after ``after``, sends ``{"type": "ready", "seq": n}``
  and then streams live events.
* client → server: ``{"type": "message", "text": "…", "client_message_id": "…"}`` and
  ``{"type": "ping"}``.
* server → client: ``typing``, ``reply`` and ``brief`` (each with the entry's ``seq``),
  ``pong``, ``error`` (a problem document; the socket stays open) and ``erased``.

Reconnect-safe: events carry ``seq``, the replay fills any gap from the database, and a
``client_message_id`` makes re-sending a message after a reconnect harmless. Events come from
the event bus, so a message handled by another process (or another socket) shows up here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError

from realty.errors import StorageError
from realty.services.clients import client_address
from realty.services.conversation import (
    Bearer,
    ConversationBusyError,
    UnknownConversationError,
    brief_event,
    reply_event,
)
from realty.services.events import Event, Subscription
from realty.services.ratelimit import RateLimitedError
from realty.services.runtime import Resources
from realty.services.wire import ClientMessageId, Problem, ProblemError, rate_limited, too_long
from realty.settings import Settings

logger = logging.getLogger("realty.ws")

router = APIRouter()

CLOSE_UNAUTHORIZED = 4401  # no token: no header, and no auth frame in time
CLOSE_NOT_FOUND = 4404  # unknown conversation or wrong token
CLOSE_ERASED = 4410  # the conversation was erased
CLOSE_GONE = 1006  # the client went away without a close frame
CLOSE_TRY_AGAIN = 1013  # live events are unavailable (Redis down): reconnect later
CLOSE_RATE_LIMITED = 4429  # too many connections from this client: wait retry_after seconds
MAX_AFTER = 2**31  # the largest ``after`` a client may resume from
_PAGE = 500


class ClientMessage(BaseModel):
    """A frame from the client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(pattern="^(message|ping)$")
    text: str | None = Field(default=None, min_length=1)
    client_message_id: ClientMessageId | None = None


class AuthFrame(BaseModel):
    """The first frame of a client that could not send its token in a header."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=256)


def _token(websocket: WebSocket, token: str | None) -> str:
    if token:
        return token
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _auth_frame(websocket: WebSocket, timeout_s: float, limit: int) -> str | None:
    """The token of the client's first frame; ``None`` when it is late or not an auth frame.

    Raises:
        WebSocketDisconnect: the client left first.
    """
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        return None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(int(message.get("code") or 1000))
    raw = message.get("text")
    if raw is None:
        raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
    if len(raw) > limit:
        return None
    try:
        return AuthFrame.model_validate_json(raw).token
    except ValidationError:
        return None


async def _first_frame_credential(websocket: WebSocket, settings: Settings) -> str | None:
    """The token of the auth frame; ``None`` once the socket is refused (401, close 4401).

    Raises:
        WebSocketDisconnect: the client left first.
    """
    timeout_s = settings.ws_auth_timeout_s
    credential = await _auth_frame(websocket, timeout_s, settings.max_body_bytes)
    if credential is None:
        detail = (
            "Send the conversation's token as 'Authorization: Bearer <token>' or in a first "
            f'frame {{"type": "auth", "token": "…"}} within {timeout_s:g} s.'
        )
        await websocket.send_text(orjson.dumps(_error(401, "Unauthorized", detail)).decode())
        await websocket.close(code=CLOSE_UNAUTHORIZED)
    return credential


def _problem_event(problem: Problem) -> Event:
    """A problem document as an ``error`` event (its ``type`` goes to ``problem``)."""
    data = problem.model_dump(exclude_none=True)
    return {**data, "type": "error", "problem": data["type"]}


def _error(status: int, title: str, detail: str, **extra: Any) -> Event:
    return {"type": "error", "status": status, "title": title, "detail": detail, **extra}


class _Session:
    """One open socket on one conversation."""

    def __init__(
        self,
        websocket: WebSocket,
        resources: Resources,
        conversation_id: str,
        access: Bearer,
        address: str,
    ) -> None:
        self.ws = websocket
        self.resources = resources
        self.cid = conversation_id
        self.access = access
        self.address = address
        self.sent = 0  # highest seq sent
        self._lock = asyncio.Lock()

    async def send(self, event: Event) -> None:
        """Send one event; a client that hung up meanwhile ends the session quietly.

        Raises:
            WebSocketDisconnect: the client is gone (the send failed because it closed).
        """
        async with self._lock:
            try:
                await self.ws.send_text(orjson.dumps(event).decode())
            except (RuntimeError, OSError) as exc:
                # Starlette raises RuntimeError once a close was sent or received; the server
                # raises an OSError subclass when the peer vanished mid-send.
                raise WebSocketDisconnect(CLOSE_GONE) from exc

    async def catch_up(self) -> None:
        """Send every stored entry after the last one sent."""
        while True:
            records = await self.resources.store.history(self.cid, after=self.sent, limit=_PAGE)
            for record in records:
                result = self.resources.service.replayed(self.cid, record)
                await self.send(reply_event(result))
                await self.send(brief_event(result))
                self.sent = record.seq
            if len(records) < _PAGE:
                return

    async def forward(self, subscription: Subscription) -> None:
        """Relay bus events, skipping what the replay already sent."""
        while True:
            event = await subscription.get()
            kind = event.get("type")
            if kind == "resync":
                await self.catch_up()
                continue
            if kind == "erased":
                await self.send(event)
                reason = str(event.get("reason") or "erased")
                await self.ws.close(code=CLOSE_ERASED, reason=f"conversation {reason}")
                return
            seq = event.get("seq")
            if isinstance(seq, int) and kind in ("reply", "brief"):
                if seq <= self.sent:
                    continue  # the replay sent it already
                if kind == "reply" and seq > self.sent + 1:
                    await self.catch_up()  # an entry was missed: fill the gap from the log
                    continue
                if kind == "brief":
                    self.sent = seq
            await self.send(event)

    async def receive(self) -> None:
        """Handle client frames until the client leaves."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(int(message.get("code") or 1000))
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
            limit = self.resources.settings.max_body_bytes
            if len(raw) > limit or len(raw.encode("utf-8", "surrogatepass")) > limit:
                detail = f"At most {limit:,} bytes (REALTY_MAX_BODY_BYTES)."
                await self.send(_error(413, "Frame too large", detail, limit=limit))
                continue
            try:
                frame = ClientMessage.model_validate_json(raw)
            except ValidationError as exc:
                detail = "; ".join(str(e["msg"]) for e in exc.errors()[:3])
                await self.send(_error(422, "Invalid frame", detail))
                continue
            if frame.type == "ping":
                await self.send({"type": "pong", "seq": self.sent})
            elif frame.text is None:
                await self.send(_error(422, "Invalid frame", "A message needs a text."))
            else:
                await self._message(frame.text, frame.client_message_id)

    async def _message(self, text: str, client_message_id: str | None) -> None:
        resources = self.resources
        settings = resources.settings
        try:
            if len(text) > settings.max_message_chars:
                raise too_long(len(text), settings.max_message_chars)
            result = await resources.service.handle_turn(
                self.cid,
                text,
                access=self.access,
                client_message_id=client_message_id,
                admit=resources.admission.messages(self.cid, self.address),
            )
            resources.metrics.observe("websocket", result)
        except RateLimitedError as exc:
            await self.send(_problem_event(rate_limited(exc).problem))
        except ProblemError as exc:
            await self.send(_problem_event(exc.problem))
        except ConversationBusyError:
            await self.send(_error(503, "Conversation busy", "Retry shortly.", retry_after=1))
        except StorageError:
            await self.send(_error(503, "Service unavailable", "Retry shortly.", retry_after=5))


@contextlib.asynccontextmanager
async def _subscribed(
    resources: Resources, conversation_id: str
) -> AsyncIterator[Subscription | None]:
    """The conversation's events, or ``None`` when the event bus (Redis) is unreachable."""
    try:
        context = resources.events.subscribe(conversation_id)
        subscription = await context.__aenter__()
    except (RedisError, OSError, TimeoutError) as exc:
        logger.warning("no live events for a socket (%s)", type(exc).__name__)
        yield None
        return
    try:
        yield subscription
    finally:
        await context.__aexit__(None, None, None)


@router.websocket("/v1/conversations/{conversation_id}/ws")
async def conversation_socket(
    websocket: WebSocket,
    conversation_id: str,
    token: str | None = Query(default=None, max_length=256),
    after: int = Query(default=0, ge=0, le=MAX_AFTER),
) -> None:
    """Stream a conversation's events and accept its messages (see the module doc)."""
    resources: Resources = websocket.app.state.resources
    credential: str | None = _token(websocket, token)
    peer = websocket.client.host if websocket.client else None
    forwarded = websocket.headers.getlist("x-forwarded-for")
    address = client_address(peer, forwarded, resources.settings)
    await websocket.accept()
    try:
        await resources.admission.websocket(address)
    except RateLimitedError as exc:
        await websocket.send_text(orjson.dumps(_problem_event(rate_limited(exc).problem)).decode())
        await websocket.close(code=CLOSE_RATE_LIMITED)
        return
    if not credential:
        try:
            credential = await _first_frame_credential(websocket, resources.settings)
        except WebSocketDisconnect:
            return
    if credential is None:
        return
    access = Bearer(credential)
    try:
        await resources.service.authorize(conversation_id, access)
    except UnknownConversationError:
        await websocket.send_text(
            orjson.dumps(
                _error(404, "Not found", "No conversation for these credentials.")
            ).decode()
        )
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    session = _Session(websocket, resources, conversation_id, access, address)
    session.sent = after
    resources.metrics.websockets.inc()
    try:
        async with _subscribed(resources, conversation_id) as subscription:
            if subscription is None:
                await session.send(
                    _error(503, "Live updates unavailable", "Reconnect shortly.", retry_after=5)
                )
                await websocket.close(code=CLOSE_TRY_AGAIN)
                return
            await session.catch_up()
            await session.send({"type": "ready", "seq": session.sent})
            forwarder = asyncio.create_task(session.forward(subscription))
            try:
                await session.receive()
            finally:
                forwarder.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await forwarder
    except WebSocketDisconnect:
        pass
    finally:
        resources.metrics.websockets.dec()
