"""Conversation events (typing, reply, brief) fanned out to WebSocket subscribers.

The database is the source of truth; events only make replies appear at once. A subscriber
that misses events (a full queue, a Redis outage) is told to ``resync`` and reloads what it
missed from the stored history, so a lost event never loses a reply.

* :class:`LocalEventBus`: subscribers in this process only (one API process, tests).
* :class:`RedisEventBus`: Redis pub/sub, so a WebSocket on one process receives the events
  of a message another process handled. One pub/sub connection per process, subscribed to the
  channels of the conversations this process has sockets for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

logger = logging.getLogger("realty.events")

Event = dict[str, Any]
QUEUE_SIZE = 256
RESYNC: Event = {"type": "resync"}
_RECONNECT_S = (0.1, 0.5, 1.0, 2.0, 5.0)
_CONFIRM_S = 2.0  # longest wait for Redis to confirm a subscription


class Subscription:
    """The events of one conversation for one subscriber, in publication order."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)

    def deliver(self, event: Event) -> None:
        """Queue ``event``; a subscriber too slow to keep up is told to resync instead."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)

    async def get(self) -> Event:
        """The next event (waits)."""
        return await self._queue.get()


class EventBus(Protocol):
    """Publishes conversation events and lets sockets subscribe to them."""

    async def publish(self, conversation_id: str, event: Event) -> None:
        """Send ``event`` to every subscriber of the conversation; never raises."""
        ...

    def subscribe(self, conversation_id: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive the conversation's events while the context is open."""
        ...

    async def close(self) -> None:
        """Release connections and background tasks."""
        ...


class NullEventBus:
    """Publishes nowhere (terminal chat, replay, evaluations)."""

    async def publish(self, conversation_id: str, event: Event) -> None:
        """Drop ``event``."""

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[Subscription]:
        """A subscription that never receives anything."""
        yield Subscription()

    async def close(self) -> None:
        """Nothing to release."""


class LocalEventBus:
    """Fan-out to the subscribers of this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def has_subscribers(self, conversation_id: str) -> bool:
        """Whether anyone in this process listens to the conversation."""
        return bool(self._subscribers.get(conversation_id))

    async def publish(self, conversation_id: str, event: Event) -> None:
        """Deliver ``event`` to this process's subscribers."""
        self.deliver(conversation_id, event)

    def deliver(self, conversation_id: str, event: Event) -> None:
        """Deliver ``event`` synchronously (also used by the Redis reader)."""
        for subscription in tuple(self._subscribers.get(conversation_id, ())):
            subscription.deliver(event)

    def deliver_all(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber of every conversation."""
        for subscriptions in tuple(self._subscribers.values()):
            for subscription in tuple(subscriptions):
                subscription.deliver(event)

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[Subscription]:
        """Receive the conversation's events while the context is open."""
        subscription = Subscription()
        self._subscribers.setdefault(conversation_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(conversation_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(conversation_id, None)

    async def close(self) -> None:
        """Forget every subscriber."""
        self._subscribers.clear()


class RedisEventBus:
    """Events through Redis pub/sub, shared by every API process.

    Args:
        redis: A client (the caller owns and closes it).
        prefix: Prefix of the channel names (``<prefix>:events:<conversation id>``).
    """

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local = LocalEventBus()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._control = f"{prefix}:events:-"
        # Conversations with a subscriber that Redis could not subscribe: this process's own
        # events reach them directly (events from other processes cannot while Redis is out).
        self._degraded: dict[str, int] = {}

    def _channel(self, conversation_id: str) -> str:
        return f"{self._prefix}:events:{conversation_id}"

    async def publish(self, conversation_id: str, event: Event) -> None:
        """Publish ``event``; when Redis fails, this process's subscribers still get it."""
        try:
            await self._redis.publish(self._channel(conversation_id), orjson.dumps(event))
        except (RedisError, OSError) as exc:
            logger.warning("event not published (%s): %s", type(exc).__name__, exc)
            self._local.deliver(conversation_id, event)
            return
        if conversation_id in self._degraded:
            self._local.deliver(conversation_id, event)

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[Subscription]:
        """Receive the conversation's events, once Redis confirmed the subscription; when
        Redis is unreachable, this process's own events only (logged), never an error."""
        channel = self._channel(conversation_id)
        degraded = False
        try:
            async with self._lock:
                pubsub = await self._started()
                if not self._local.has_subscribers(conversation_id):
                    confirmed = self._confirmed.setdefault(channel, asyncio.Event())
                    await pubsub.subscribe(channel)
                    await asyncio.wait_for(confirmed.wait(), timeout=_CONFIRM_S)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("live events from this process only (%s)", type(exc).__name__)
            degraded = True
            self._degraded[conversation_id] = self._degraded.get(conversation_id, 0) + 1
        try:
            async with self._local.subscribe(conversation_id) as subscription:
                yield subscription
        finally:
            if degraded:
                left = self._degraded.pop(conversation_id, 1) - 1
                if left:
                    self._degraded[conversation_id] = left
            async with self._lock:
                if not self._local.has_subscribers(conversation_id) and self._pubsub is not None:
                    self._confirmed.pop(channel, None)
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.unsubscribe(channel)

    async def _started(self) -> PubSub:
        if self._pubsub is None:
            pubsub = self._redis.pubsub()
            confirmed = self._confirmed.setdefault(self._control, asyncio.Event())
            try:
                await pubsub.subscribe(self._control)
            except BaseException:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            self._pubsub = pubsub
            self._reader = asyncio.create_task(self._read(pubsub), name="redis-events")
            await asyncio.wait_for(confirmed.wait(), timeout=_CONFIRM_S)
        return self._pubsub

    async def _read(self, pubsub: PubSub) -> None:
        failures = 0
        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
                failures = 0
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                # redis-py re-subscribes every channel when it reconnects; events published
                # meanwhile are gone, so every socket reloads from the database.
                logger.warning("event subscription lost (%s); resyncing", type(exc).__name__)
                self._local.deliver_all(RESYNC)
                await asyncio.sleep(_RECONNECT_S[min(failures, len(_RECONNECT_S) - 1)])
                failures += 1
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        if message.get("type") == "subscribe":
            waiting = self._confirmed.get(name)
            if waiting is not None:
                waiting.set()
            return
        if message.get("type") != "message" or not name.startswith(f"{self._prefix}:events:"):
            return
        try:
            event = orjson.loads(message["data"])
        except orjson.JSONDecodeError:
            logger.warning("ignored a malformed event on %s", name)
            return
        if isinstance(event, dict):
            self._local.deliver(name.removeprefix(f"{self._prefix}:events:"), event)

    async def close(self) -> None:
        """Stop the reader and close the pub/sub connection."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
        await self._local.close()
