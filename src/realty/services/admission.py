"""Admission: every rate limit a channel applies, in one place.

Each check counts one hit on a key (``msg:<conversation>``, ``new:<client address>``…) in the
limiter and refuses it over its limit with :class:`RateLimitedError` (which the HTTP API turns
into a 429 problem, the WebSocket into an ``error`` frame and WhatsApp into a "please wait"
reply). The limits come from the settings (``REALTY_RATE_LIMIT_*``); 0 turns one off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from realty.services.ratelimit import RateLimitedError, RateLimiter
from realty.settings import Settings

Admit = Callable[[], Awaitable[None]]


def _ignore(scope: str) -> None:
    del scope


class Admission:
    """The rate limits of every channel over one limiter.

    Args:
        limiter: Where hits are counted (in process, or shared through Redis).
        settings: The limits and the window.
        refused: Called with the scope of every refused hit (metrics).
    """

    def __init__(
        self,
        limiter: RateLimiter,
        settings: Settings,
        refused: Callable[[str], None] = _ignore,
    ) -> None:
        self.limiter = limiter
        self._settings = settings
        self._refused = refused

    def quota(self, scope: str, key: str, limit: int, what: str) -> Admit:
        """A check that counts one hit on ``scope:key`` and refuses it over ``limit``."""

        async def admit() -> None:
            window = self._settings.rate_limit_window_s
            decision = await self.limiter.hit(f"{scope}:{key}", limit, window)
            if not decision.allowed:
                self._refused(scope)
                raise RateLimitedError(decision, scope, what)

        return admit

    def messages(self, conversation_id: str, address: str) -> Admit:
        """At most ``REALTY_RATE_LIMIT_MESSAGES`` new messages per conversation and
        ``REALTY_RATE_LIMIT_CLIENT_MESSAGES`` per client address, per window."""
        settings = self._settings
        per_conversation = self.quota(
            "msg", conversation_id, settings.rate_limit_messages, "messages per conversation"
        )
        per_client = self.quota(
            "client", address, settings.rate_limit_client_messages, "messages per client"
        )

        async def admit() -> None:
            await per_client()
            await per_conversation()

        return admit

    def whatsapp(self, sender: str) -> Admit:
        """At most ``REALTY_RATE_LIMIT_MESSAGES`` new messages per WhatsApp sender."""
        limit = self._settings.rate_limit_messages
        return self.quota("whatsapp", sender, limit, "messages per sender")

    async def new_conversation(self, address: str) -> None:
        """At most ``REALTY_RATE_LIMIT_CONVERSATIONS`` new conversations per client address."""
        limit = self._settings.rate_limit_conversations
        await self.quota("new", address, limit, "new conversations per client")()

    async def websocket(self, address: str) -> None:
        """At most ``REALTY_RATE_LIMIT_WEBSOCKETS`` WebSocket connections per client address."""
        limit = self._settings.rate_limit_websockets
        await self.quota("ws", address, limit, "WebSocket connections per client")()
