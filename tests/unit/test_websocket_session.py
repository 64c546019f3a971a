"""A socket session whose client has gone: sending ends the session, it does not crash it."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from fastapi import WebSocket, WebSocketDisconnect

from realty.channels.websocket import CLOSE_GONE, _Session


def test_sending_after_the_socket_closed_is_a_disconnect() -> None:
    """Starlette's own state machine refuses a send after the close; the session turns that
    into the disconnect its handler ends on, instead of an exception in the application."""
    frames: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        frames.append(message)

    async def run() -> None:
        websocket = WebSocket({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
        await websocket.accept()
        await websocket.close()
        session = _Session(websocket, cast(Any, None), "c1", cast(Any, None), "127.0.0.1")
        await session.send({"type": "typing"})

    with pytest.raises(WebSocketDisconnect) as gone:
        asyncio.run(run())
    assert gone.value.code == CLOSE_GONE
    assert [f["type"] for f in frames] == ["websocket.accept", "websocket.close"]
