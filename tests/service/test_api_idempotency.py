"""``POST /v1/conversations`` with an ``Idempotency-Key``, through the real server on SQLite and
PostgreSQL: a repeat gets the same conversation (also when it races the first request, and on
another process), another body is refused, and only new conversations count against the rate
limit."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest

from livesupport import MakeSettings, Serve, Server

DAY = 86_400  # seconds: the longest rate-limit window the settings allow

FIRST = "I need an office in Mexico City."


def _key() -> str:
    return str(uuid.uuid4())


def _post(server: Server, key: str | None, **body: Any) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    with server.client() as http:
        return http.post("/v1/conversations", json=body, headers=headers)


def _conversations(server: Server) -> int:
    with server.client() as http:
        stats = http.get("/v1/stats", headers={"X-API-Key": "staff-key"})
    assert stats.status_code == 200
    count: int = stats.json()["conversations"]
    return count


def test_the_same_key_twice_gets_the_same_conversation(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(database_url))
    key = _key()
    first = _post(server, key, text=FIRST, client_message_id="m-1")
    again = _post(server, key, text=FIRST, client_message_id="m-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    created, replayed = first.json(), again.json()
    assert (replayed["id"], replayed["token"]) == (created["id"], created["token"])
    assert replayed["replayed"] is True
    assert created["replayed"] is False
    same = ("seq", "turn", "reply", "brief", "display", "actions", "client_message_id")
    assert {k: replayed[k] for k in same} == {k: created[k] for k in same}
    assert _conversations(server) == 1
    with server.client() as http:  # the replayed token works, and nothing was handled twice
        view = http.get(
            f"/v1/conversations/{created['id']}",
            headers={"Authorization": f"Bearer {replayed['token']}"},
        ).json()
    assert [entry["kind"] for entry in view["history"]] == ["start", "message"]
    # A greeting-only opening is replayed as the greeting.
    bare = _key()
    greeting, repeat = _post(server, bare), _post(server, bare)
    assert repeat.json()["id"] == greeting.json()["id"]
    assert repeat.json()["reply"] == greeting.json()["reply"]
    assert _conversations(server) == 2
    # Without a key every request opens a conversation, as before.
    assert _post(server, None).json()["id"] != _post(server, None).json()["id"]


def test_the_same_key_with_another_body_is_refused(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    key = _key()
    assert _post(server, key, text=FIRST).status_code == 201
    for body in ({"text": "I need a warehouse."}, {}, {"text": FIRST, "language": "es"}):
        refused = _post(server, key, **body)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "/problems/idempotency-key-reused"
    assert _conversations(server) == 1


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("short-key", id="too-short"),
        pytest.param("k" * 129, id="too-long"),
        pytest.param("has spaces in it, 16+", id="spaces"),
        pytest.param("ünïcödé-ünïcödé-ünïcödé", id="non-ascii"),
        pytest.param('"unbalanced-quote-key', id="one-quote"),
        pytest.param("", id="empty"),
    ],
)
def test_a_malformed_key_is_refused(
    key: str, sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        refused = http.post(
            "/v1/conversations", json={}, headers={"Idempotency-Key": key.encode("utf-8")}
        )
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/invalid-request"
    assert "idempotency-key" in refused.json()["detail"].lower()
    assert _conversations(server) == 0


def test_a_key_may_be_a_quoted_string(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """RFC 8941's string form: "key" is the same key as key."""
    server = serve(make_settings(sqlite_url))
    key = _key()
    quoted = _post(server, f'"{key}"')
    bare = _post(server, key)
    assert (quoted.status_code, bare.status_code) == (201, 201)
    assert bare.json()["id"] == quoted.json()["id"]
    assert bare.headers["idempotent-replayed"] == "true"


def test_a_replay_does_not_count_against_the_new_conversation_limit(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    # A day's window: the sliding-window counter weighs the previous fixed window by how much
    # of it still overlaps, so with a minute's window a run that crossed a minute boundary
    # would count its first conversation for less than one.
    server = serve(make_settings(sqlite_url, rate_limit_conversations=2, rate_limit_window_s=DAY))
    key = _key()
    codes = [_post(server, key, text=FIRST).status_code for _ in range(5)]
    assert codes == [201] * 5
    assert _post(server, _key()).status_code == 201  # the window's second conversation
    assert _post(server, _key()).status_code == 429
    assert _post(server, key, text=FIRST).status_code == 201  # still a replay
    assert _conversations(server) == 2


def test_another_client_with_the_same_key_gets_its_own_conversation(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url, trust_forwarded_for=True))
    key = _key()
    ids = []
    for client in ("203.0.113.7", "203.0.113.8", "203.0.113.7"):
        with server.client() as http:
            opened = http.post(
                "/v1/conversations",
                json={},
                headers={"Idempotency-Key": key, "X-Forwarded-For": client},
            )
        assert opened.status_code == 201
        ids.append(opened.json()["id"])
    assert ids[0] == ids[2] != ids[1]


def test_an_erased_conversation_frees_its_key(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    key = _key()
    first = _post(server, key).json()
    assert _post(server, key).json()["id"] == first["id"]
    with server.client() as http:
        erased = http.delete(
            f"/v1/conversations/{first['id']}",
            headers={"Authorization": f"Bearer {first['token']}"},
        )
    assert erased.status_code == 204
    again = _post(server, key)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first["id"]


def _race(targets: list[Server], key: str, body: dict[str, Any]) -> list[httpx.Response]:
    """The same request sent to each target at the same moment, one thread each."""
    barrier = threading.Barrier(len(targets))
    answers: list[httpx.Response | None] = [None] * len(targets)

    def send(n: int) -> None:
        with targets[n].client() as http:
            barrier.wait()
            answers[n] = http.post("/v1/conversations", json=body, headers={"Idempotency-Key": key})

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(targets)
    return done


@pytest.mark.parametrize("body", [{}, {"text": FIRST}], ids=["greeting", "first-message"])
def test_two_requests_racing_with_one_key_open_one_conversation(
    body: dict[str, Any], database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(database_url))
    for _ in range(5):  # a race without a collision proves little: several rounds
        answers = _race([server, server], _key(), body)
        assert [a.status_code for a in answers] == [201, 201]
        assert len({(a.json()["id"], a.json()["token"]) for a in answers}) == 1
        assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]
    assert _conversations(server) == 5


def test_two_processes_on_one_postgresql_database_share_the_keys(
    postgres_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    one = serve(make_settings(postgres_url))
    two = serve(make_settings(postgres_url))
    key = _key()
    opened = _post(one, key, text=FIRST)
    again = _post(two, key, text=FIRST)
    assert (opened.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == opened.json()["id"]
    assert again.json()["token"] == opened.json()["token"]
    assert again.headers["idempotent-replayed"] == "true"
    for _ in range(5):
        answers = _race([one, two], _key(), {"text": FIRST})
        assert [a.status_code for a in answers] == [201, 201]
        assert len({a.json()["id"] for a in answers}) == 1
    assert _conversations(one) == 6
