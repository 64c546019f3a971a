"""The conversation endpoints over a real server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from livesupport import MakeSettings, Opened, Serve

DAY = 86_400  # seconds: the longest rate-limit window the settings allow

CANONICAL = ("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")


def test_the_canonical_example_finishes_in_two_turns(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        assert conv.body["turn"] == 1
        assert "budget" in conv.body["reply"]
        assert "m²" in conv.body["reply"]
        assert conv.body["brief"]["missing"] == ["budget", "size"]
        second = http.post(
            f"/v1/conversations/{conv.id}/messages", json={"text": CANONICAL[1]}, headers=conv.auth
        )
        assert second.status_code == 200
        body = second.json()
        assert body["turn"] == 2
        assert body["brief"]["complete"] is True
        fields = body["brief"]["fields"]
        assert fields["budget"]["amount"] == 20000
        assert fields["budget"]["currency"] == "USD"
        assert fields["size"]["m2"] == 500
        assert fields["city"]["value"] == "Mexico City"
        assert fields["property_type"]["value"] == "office"


def _message(http: Any, conv: Opened, text: str, **extra: Any) -> Any:
    return http.post(
        f"/v1/conversations/{conv.id}/messages", json={"text": text, **extra}, headers=conv.auth
    )


def test_a_greeting_and_a_token_open_every_conversation(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        english = open_conv(http)
        spanish = open_conv(http, language="es")
        assert english.body["seq"] == 1
        assert english.body["turn"] == 0
        assert "budget" in english.body["reply"]
        assert "presupuesto" in spanish.body["reply"]
        assert english.token != spanish.token
        assert len(english.token) >= 40
        assert english.body["brief"]["missing"] == ["property_type", "city", "budget", "size"]


def test_history_lists_every_entry_in_order_with_paging(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        _message(http, conv, CANONICAL[1])
        _message(http, conv, "   ")  # blocked: stored, but no turn
        full = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()
        assert [e["seq"] for e in full["history"]] == [1, 2, 3, 4]
        assert [e["kind"] for e in full["history"]] == ["start", "message", "message", "message"]
        assert full["history"][1]["text"] == CANONICAL[0]
        assert full["history"][3]["blocked"] is True
        assert full["turns"] == 2
        assert full["brief"]["complete"] is True
        page = http.get(
            f"/v1/conversations/{conv.id}", params={"after": 2, "limit": 1}, headers=conv.auth
        ).json()
        assert [e["seq"] for e in page["history"]] == [3]


def test_the_same_client_message_id_is_processed_once(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        first = _message(http, conv, CANONICAL[1], client_message_id="m-2").json()
        again = _message(http, conv, CANONICAL[1], client_message_id="m-2").json()
        # Even a different text under the same id returns the stored result.
        other = _message(http, conv, "actually 900 m2", client_message_id="m-2").json()
        assert first["replayed"] is False
        assert again["replayed"] is True
        assert other["replayed"] is True
        for repeat in (again, other):
            assert (repeat["seq"], repeat["reply"], repeat["brief"]) == (
                first["seq"],
                first["reply"],
                first["brief"],
            )
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        assert [e["client_message_id"] for e in history] == [None, None, "m-2"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Bearer not-the-token"}, id="wrong-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="other-scheme"),
    ],
)
def test_wrong_credentials_look_exactly_like_an_unknown_conversation(
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
    headers: dict[str, str],
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        wrong = http.post(
            f"/v1/conversations/{conv.id}/messages", json={"text": "hola"}, headers=headers
        )
        unknown = http.post(
            "/v1/conversations/0123456789abcdef0123456789abcdef/messages",
            json={"text": "hola"},
            headers=conv.auth,
        )
        if headers["Authorization"].startswith("Bearer"):
            assert wrong.status_code == unknown.status_code == 404
            assert wrong.json() == unknown.json()
        else:
            assert wrong.status_code == 401
        assert wrong.headers["content-type"].startswith("application/problem+json")
        # Nothing was recorded for the refused request.
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        assert len(history) == 1


def test_one_conversations_token_does_not_open_another(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        a, b = open_conv(http), open_conv(http)
        for method, path, body in (
            ("POST", f"/v1/conversations/{b.id}/messages", {"text": "I need an office"}),
            ("GET", f"/v1/conversations/{b.id}", None),
            ("PATCH", f"/v1/conversations/{b.id}/brief", {"city": "Monterrey"}),
            ("DELETE", f"/v1/conversations/{b.id}", None),
        ):
            response = http.request(method, path, json=body, headers=a.auth)
            assert response.status_code == 404, (method, path)
        assert http.get(f"/v1/conversations/{b.id}", headers=b.auth).json()["turns"] == 0


def test_missing_token_is_401_with_a_challenge(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        response = http.post(f"/v1/conversations/{conv.id}/messages", json={"text": "hola"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in response.json()["detail"]


def test_over_long_text_is_refused_whole_and_nothing_changes(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, max_message_chars=100, max_body_bytes=4096))
    with server.client() as http:
        conv = open_conv(http)
        response = _message(http, conv, "I need an office " + "x" * 100)
        assert response.status_code == 413
        problem = response.json()
        assert problem["limit"] == 100
        assert "117 characters" in problem["detail"]
        assert "limit is 100" in problem["detail"]
        exactly = _message(http, conv, "I need an office in Monterrey".ljust(100, "."))
        assert exactly.status_code == 200
        too_long_first = http.post("/v1/conversations", json={"text": "y" * 101})
        assert too_long_first.status_code == 413
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        assert len(history) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "body.text", id="missing-text"),
        pytest.param({"text": ""}, "body.text", id="empty-text"),
        pytest.param({"text": 42}, "body.text", id="not-a-string"),
        pytest.param({"text": "hi", "extra": 1}, "body.extra", id="unknown-member"),
        pytest.param(
            {"text": "hi", "client_message_id": "a b"}, "body.client_message_id", id="bad-id"
        ),
    ],
)
def test_malformed_bodies_are_422_problems_naming_the_field(
    sqlite_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
    body: dict[str, Any],
    field: str,
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        response = http.post(f"/v1/conversations/{conv.id}/messages", json=body, headers=conv.auth)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]]


def test_invalid_json_is_a_422_problem(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        response = http.post(
            f"/v1/conversations/{conv.id}/messages",
            content=b'{"text": "unterminated',
            headers={**conv.auth, "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/invalid-request"


def test_patch_edits_like_chat_and_null_removes(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        edit = http.patch(
            f"/v1/conversations/{conv.id}/brief",
            json={
                "budget": {"amount": 25000, "currency": "usd", "period": "month"},
                "size": "5,000 sq ft",
                "extras": {"parking_spaces": 6, "pets_allowed": True},
            },
            headers=conv.auth,
        )
        assert edit.status_code == 200, edit.text
        brief = edit.json()["brief"]
        assert brief["complete"] is True
        assert brief["fields"]["budget"]["currency"] == "USD"
        assert brief["fields"]["budget"]["source"] == "user_edit"
        assert brief["fields"]["size"]["m2"] == pytest.approx(464.52, abs=0.01)
        assert brief["extras"]["parking_spaces"]["value"] == 6
        assert "Here is your" in edit.json()["reply"]
        removed = http.patch(
            f"/v1/conversations/{conv.id}/brief",
            json={"extras": {"pets_allowed": None}, "city": "Guadalajara"},
            headers=conv.auth,
        ).json()["brief"]
        assert "pets_allowed" not in removed["extras"]
        assert removed["fields"]["city"]["value"] == "Guadalajara"
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        assert [e["kind"] for e in history] == ["start", "message", "edit", "edit"]


def test_a_refused_edit_changes_nothing_and_names_every_problem(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        before = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()
        response = http.patch(
            f"/v1/conversations/{conv.id}/brief",
            json={
                "city": "Atlantis",
                "budget": {"amount": -5, "currency": "USD"},
                "size": {"m2": 500},
                "extras": {"parking_spaces": "many", "move_in_date": "2001-01-01"},
            },
            headers=conv.auth,
        )
        assert response.status_code == 422
        problem = response.json()
        fields = {e["field"] for e in problem["errors"]}
        assert fields == {"city", "budget", "extras.parking_spaces", "extras.move_in_date"}
        assert (
            "did you mean" in next(e for e in problem["errors"] if e["field"] == "city")["message"]
        )
        after = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()
        assert after["brief"] == before["brief"]
        assert len(after["history"]) == len(before["history"])


def test_an_edit_made_only_of_nuls_is_refused(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    """PATCH with {"budget": "\\u0000"} passes the schema (one character), but NULs are
    dropped before the edit is validated: an empty value is refused with 422, not a 500."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        response = http.patch(
            f"/v1/conversations/{conv.id}/brief",
            json={"budget": "\x00", "city": "Monterrey", "extras": {"dock": "\x00\x00"}},
            headers=conv.auth,
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["type"] == "/problems/invalid-edit"
        assert {e["field"] for e in problem["errors"]} == {"budget", "extras.dock"}
        brief = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["brief"]
        assert brief["fields"]["city"]["value"] != "Monterrey"  # nothing was changed


def test_an_id_with_a_nul_is_not_found(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    """/v1/conversations/{id}%00 (with the conversation's token) and /v1/leads/%00 are 404 on
    every database; PostgreSQL, which cannot store a NUL, answered 503."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        for method in ("GET", "DELETE"):
            response = http.request(method, f"/v1/conversations/{conv.id}%00", headers=conv.auth)
            assert response.status_code == 404, response.text
        staff = {"X-API-Key": "staff-key"}
        assert http.get("/v1/leads/%00", headers=staff).status_code == 404
        found = http.get("/v1/leads", params={"city": "Mexico City\x00"}, headers=staff)
        assert (found.status_code, found.json()["items"]) == (200, [])
        assert http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).status_code == 200


def test_delete_erases_the_conversation(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        assert http.delete(f"/v1/conversations/{conv.id}", headers=conv.auth).status_code == 204
        assert http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).status_code == 404
        assert _message(http, conv, CANONICAL[1]).status_code == 404
        assert http.delete(f"/v1/conversations/{conv.id}", headers=conv.auth).status_code == 404


def test_messages_over_the_rate_limit_get_429_with_retry_after(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, rate_limit_messages=3, rate_limit_window_s=60))
    with server.client() as http:
        conv = open_conv(http)
        codes = [_message(http, conv, f"{n} parking spaces").status_code for n in range(1, 5)]
        assert codes == [200, 200, 200, 429]
        refused = _message(http, conv, "hello")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
        # Another conversation has its own budget of messages.
        other = open_conv(http)
        assert _message(http, other, "hola").status_code == 200


def test_new_conversations_are_rate_limited_per_client(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    # A day's window, so no fixed-window boundary falls inside the test (see ratelimit.py).
    server = serve(make_settings(sqlite_url, rate_limit_conversations=2, rate_limit_window_s=DAY))
    with server.client() as http:
        codes = [http.post("/v1/conversations", json={}).status_code for _ in range(3)]
        assert codes == [201, 201, 429]


class Clock:
    """A settable UTC clock for the service."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_idle_conversations_expire_and_purge_keeps_their_lead(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    clock = Clock()
    settings = make_settings(database_url, conversation_ttl_s=3600)
    server = serve(settings, now=clock)
    with server.client() as http:
        done = open_conv(http, text=CANONICAL[0])
        _message(http, done, CANONICAL[1])
        idle = open_conv(http)
        clock.now += dt.timedelta(minutes=59)
        assert _message(http, idle, "hola").status_code == 200  # activity extends the expiry
        clock.now += dt.timedelta(minutes=2)
        assert http.get(f"/v1/conversations/{done.id}", headers=done.auth).status_code == 404
        assert http.get(f"/v1/conversations/{idle.id}", headers=idle.auth).status_code == 200
        staff = {"X-API-Key": "staff-key"}
        assert http.get("/v1/stats", headers=staff).json()["conversations"] == 1

    assert server.call(server.app.state.resources.service.purge()) == 1
    with server.client() as http:
        leads = http.get("/v1/leads", headers={"X-API-Key": "staff-key"}).json()["items"]
        assert len(leads) == 1
        assert leads[0]["conversation_id"] is None
        assert leads[0]["brief"]["fields"]["size"]["m2"] == 500
