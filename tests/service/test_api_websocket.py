"""The WebSocket channel: replay, live events, reconnects and events across processes."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from livesupport import MakeSettings, Opened, Serve, Server
from realty.services.events import RedisEventBus
from realty.services.ratelimit import RedisRateLimiter

FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."


@contextmanager
def _socket(
    server: Server, conv: Opened, after: int = 0, token: str | None = None, how: str = "header"
) -> Iterator[ClientConnection]:
    """A socket on ``conv`` authenticated ``how``: by header, first frame or (old clients) URL."""
    url = f"{server.ws_url}/v1/conversations/{conv.id}/ws?after={after}"
    token = token or conv.token
    headers = {"Authorization": f"Bearer {token}"} if how == "header" else {}
    if how == "url":
        url += f"&token={token}"
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        if how == "frame":
            ws.send(json.dumps({"type": "auth", "token": token}))
        yield ws


def _events(ws: ClientConnection, until: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Read events up to and including the first one ``until`` accepts."""
    seen = []
    while True:
        event = json.loads(ws.recv(timeout=10))
        seen.append(event)
        if until(event):
            return seen


def _ready(event: dict[str, Any]) -> bool:
    return bool(event["type"] == "ready")


def _brief(seq: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "brief" and e["seq"] == seq


def test_connecting_replays_the_history_then_streams_a_turn(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
    with _socket(server, conv) as ws:
        replay = _events(ws, _ready)
        assert [(e["type"], e.get("seq")) for e in replay] == [
            ("reply", 1),
            ("brief", 1),
            ("reply", 2),
            ("brief", 2),
            ("ready", 2),
        ]
        assert replay[2]["reply"] == conv.body["reply"]
        ws.send(json.dumps({"type": "message", "text": SECOND, "client_message_id": "w-1"}))
        live = _events(ws, _brief(3))
        assert [e["type"] for e in live] == ["typing", "reply", "brief"]
        assert live[1]["client_message_id"] == "w-1"
        assert "Here is your brief" in live[1]["reply"]
        assert live[2]["brief"]["complete"] is True


def test_a_reconnect_resumes_after_the_last_seq_without_duplicates(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
        with _socket(server, conv) as ws:
            last = _events(ws, _ready)[-1]["seq"]
        # Messages arrive while the client is away.
        http.post(f"/v1/conversations/{conv.id}/messages", json={"text": SECOND}, headers=conv.auth)
    with _socket(server, conv, after=last) as ws:
        replay = _events(ws, _ready)
        assert [(e["type"], e.get("seq")) for e in replay] == [
            ("reply", 3),
            ("brief", 3),
            ("ready", 3),
        ]
        # Re-sending the message the client was unsure about changes nothing.
        ws.send(json.dumps({"type": "message", "text": "yes", "client_message_id": "r-1"}))
        first = _events(ws, _brief(4))
        ws.send(json.dumps({"type": "message", "text": "yes", "client_message_id": "r-1"}))
        ws.send(json.dumps({"type": "ping"}))
        after = _events(ws, lambda e: e["type"] == "pong")
        assert [e["type"] for e in first] == ["typing", "reply", "brief"]
        assert "confirmed" in first[1]["actions"]
        assert after[-1] == {"type": "pong", "seq": 4}
        assert all(e["type"] != "reply" for e in after)  # the repeat was not processed again


@pytest.mark.parametrize("how", ["header", "frame", "url"])
def test_each_way_of_sending_the_token_opens_the_socket(
    how: str,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    """A header (servers, apps), a first frame (browsers) or the URL (old clients)."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http, text=FIRST)
    with _socket(server, conv, after=1, how=how) as ws:
        assert [e["type"] for e in _events(ws, _ready)] == ["reply", "brief", "ready"]
        ws.send(json.dumps({"type": "message", "text": SECOND}))
        assert _events(ws, _brief(3))[-1]["brief"]["complete"] is True


def _refused(ws: ClientConnection) -> tuple[dict[str, Any], int]:
    """The error event a refused socket gets, and its close code."""
    error = json.loads(ws.recv(timeout=10))
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    return error, closed.value.rcvd.code


def test_without_a_token_the_socket_is_closed_4401_once_the_wait_is_over(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, ws_auth_timeout_s=0.5))
    with server.client() as http:
        conv = open_conv(http)
    started = time.monotonic()
    with connect(f"{server.ws_url}/v1/conversations/{conv.id}/ws", open_timeout=10) as ws:
        error, code = _refused(ws)
    assert time.monotonic() - started >= 0.5
    assert (error["type"], error["status"], code) == ("error", 401, 4401)
    assert '{"type": "auth", "token": "…"}' in error["detail"]


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(json.dumps({"type": "message", "text": FIRST}), id="a-message"),
        pytest.param(json.dumps({"type": "auth"}), id="no-token"),
        pytest.param(json.dumps({"type": "auth", "token": ""}), id="empty-token"),
        pytest.param(json.dumps({"type": "auth", "token": "t", "after": 3}), id="extra-member"),
        pytest.param("not json", id="not-json"),
    ],
)
def test_a_first_frame_that_is_not_an_auth_frame_closes_the_socket_4401_at_once(
    first: str,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    server = serve(make_settings(sqlite_url, ws_auth_timeout_s=30))
    with server.client() as http:
        conv = open_conv(http)
    started = time.monotonic()
    with connect(f"{server.ws_url}/v1/conversations/{conv.id}/ws", open_timeout=10) as ws:
        ws.send(first)
        error, code = _refused(ws)
    assert time.monotonic() - started < 10
    assert (error["status"], code) == (401, 4401)
    with server.client() as http:  # the message was not taken
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
    assert [entry["kind"] for entry in history] == ["start"]


@pytest.mark.parametrize("how", ["header", "frame", "url"])
def test_a_wrong_token_gets_a_not_found_error_and_the_socket_closes(
    how: str,
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        other = open_conv(http)
    with _socket(server, conv, token=other.token, how=how) as ws:
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error"
        assert error["status"] == 404
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4404


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        pytest.param("not json", 422, id="not-json"),
        pytest.param(json.dumps({"type": "shout"}), 422, id="unknown-type"),
        pytest.param(json.dumps({"type": "message"}), 422, id="no-text"),
        pytest.param(json.dumps({"type": "message", "text": "x" * 4001}), 413, id="too-long"),
    ],
)
def test_bad_frames_get_an_error_event_and_the_socket_stays_open(
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
    frame: str,
    status: int,
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
    with _socket(server, conv) as ws:
        _events(ws, _ready)
        ws.send(frame)
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error"
        assert error["status"] == status
        ws.send(json.dumps({"type": "message", "text": FIRST}))
        assert _events(ws, _brief(2))[-1]["brief"]["fields"]["city"]["value"] == "Mexico City"


def test_messages_sent_over_http_show_up_on_the_socket(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        with _socket(server, conv) as ws:
            _events(ws, _ready)
            http.post(
                f"/v1/conversations/{conv.id}/messages", json={"text": FIRST}, headers=conv.auth
            )
            events = _events(ws, _brief(2))
            assert [e["type"] for e in events] == ["typing", "reply", "brief"]


def test_erasing_the_conversation_closes_its_sockets(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        with _socket(server, conv) as ws:
            _events(ws, _ready)
            assert http.delete(f"/v1/conversations/{conv.id}", headers=conv.auth).status_code == 204
            assert json.loads(ws.recv(timeout=10)) == {"type": "erased", "reason": "deleted"}
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4410
            assert closed.value.rcvd.reason == "conversation deleted"


def test_a_conversation_that_expires_closes_its_sockets_with_the_reason(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    start = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    clock = {"now": start}
    server = serve(make_settings(sqlite_url, conversation_ttl_s=3600), now=lambda: clock["now"])
    with server.client() as http:
        conv = open_conv(http)
        with _socket(server, conv) as ws:
            _events(ws, _ready)
            clock["now"] = start + dt.timedelta(hours=2)
            assert server.call(server.app.state.resources.service.purge()) == 1
            assert json.loads(ws.recv(timeout=10)) == {"type": "erased", "reason": "expired"}
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                4410,
                "conversation expired",
            )


def test_with_redis_a_socket_on_one_pod_sees_turns_handled_by_another(
    database_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
    redis_url: str,
    redis_prefix: str,
) -> None:
    settings = make_settings(database_url, redis_url=redis_url, redis_prefix=redis_prefix)
    pod_a, pod_b = serve(settings), serve(settings)
    with pod_b.client() as http:
        conv = open_conv(http)
        with _socket(pod_a, conv) as ws:
            _events(ws, _ready)
            reply = http.post(
                f"/v1/conversations/{conv.id}/messages", json={"text": FIRST}, headers=conv.auth
            ).json()
            events = _events(ws, _brief(2))
    assert [e["type"] for e in events] == ["typing", "reply", "brief"]
    assert events[1]["reply"] == reply["reply"]
    assert events[2]["brief"] == reply["brief"]


def test_without_redis_the_other_pods_turns_arrive_on_reconnect(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    settings = make_settings(database_url)
    pod_a, pod_b = serve(settings), serve(settings)
    with pod_b.client() as http:
        conv = open_conv(http)
        with _socket(pod_a, conv) as ws:
            last = _events(ws, _ready)[-1]["seq"]
            http.post(
                f"/v1/conversations/{conv.id}/messages", json={"text": FIRST}, headers=conv.auth
            )
    with _socket(pod_a, conv, after=last) as ws:
        replay = _events(ws, _ready)
    assert [(e["type"], e.get("seq")) for e in replay] == [("reply", 2), ("brief", 2), ("ready", 2)]


def test_when_redis_goes_away_turns_and_sockets_still_work(
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
    redis_url: str,
    redis_prefix: str,
) -> None:
    settings = make_settings(
        sqlite_url, redis_url=redis_url, redis_prefix=redis_prefix, rate_limit_messages=5
    )
    server = serve(settings)
    resources = server.app.state.resources

    async def lose_redis() -> None:
        # What the processes see when Redis stops answering: a client on a dead address.
        dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
        resources.events = RedisEventBus(dead, redis_prefix)
        resources.admission.limiter = RedisRateLimiter(dead, redis_prefix)

    server.call(lose_redis())
    with server.client() as http:
        conv = open_conv(http)
        response = http.post(
            f"/v1/conversations/{conv.id}/messages", json={"text": FIRST}, headers=conv.auth
        )
        assert response.status_code == 200  # the database is the source of truth
        assert response.json()["brief"]["fields"]["city"]["value"] == "Mexico City"
        # Rate limits fall back to this process's own counts.
        codes = [
            http.post(
                f"/v1/conversations/{conv.id}/messages", json={"text": "hola"}, headers=conv.auth
            ).status_code
            for _ in range(5)
        ]
        assert codes == [200, 200, 200, 200, 429]
    # A socket still opens: it replays the log and hears this process's own events.
    with _socket(server, conv) as ws:
        replayed = _events(ws, _ready)
        assert [e["type"] for e in replayed].count("reply") == 6  # greeting and five turns
