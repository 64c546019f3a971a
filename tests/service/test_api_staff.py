"""The staff endpoints (GET /v1/leads, GET /v1/stats) over a real server, on both databases."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from livesupport import MakeSettings, Opened, Serve, say

STAFF = {"X-API-Key": "staff-key"}  # make_settings' staff_api_key
CANONICAL = ("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")

OpenConv = Callable[..., Opened]


def complete(http: httpx.Client, open_conv: OpenConv) -> Opened:
    """A conversation whose brief is complete (the canonical example)."""
    conv = open_conv(http, text=CANONICAL[0])
    assert say(http, conv, CANONICAL[1])["brief"]["complete"] is True
    return conv


def leads(http: httpx.Client, **params: Any) -> dict[str, Any]:
    """GET /v1/leads (asserting 200)."""
    response = http.get("/v1/leads", params=params, headers=STAFF)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def stats(http: httpx.Client) -> dict[str, Any]:
    """GET /v1/stats (asserting 200)."""
    response = http.get("/v1/stats", headers=STAFF)
    assert response.status_code == 200, response.text
    numbers: dict[str, Any] = response.json()
    return numbers


def cursor_of(raw: str) -> str:
    """Encode ``raw`` the way the store encodes cursors."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_staff_endpoints_are_401_without_the_right_key(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """No key, a wrong key or a key with a different case: 401 problem with a challenge."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        for path in ("/v1/leads", "/v1/stats"):
            for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": "STAFF-KEY"}):
                response = http.get(path, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["www-authenticate"] == "ApiKey"
                problem = response.json()
                assert problem["type"] == "/problems/unauthorized"
                assert problem["status"] == 401
            assert http.get(path, headers=STAFF).status_code == 200


def test_staff_endpoints_are_403_when_no_key_is_configured(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """With staff_api_key unset, no key (not even the usual one) opens the staff endpoints."""
    server = serve(make_settings(database_url, staff_api_key=None))
    with server.client() as http:
        for path in ("/v1/leads", "/v1/stats"):
            for headers in ({}, STAFF):
                response = http.get(path, headers=headers)
                assert response.status_code == 403, (path, headers)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["type"] == "/problems/staff-disabled"


def test_a_complete_brief_makes_one_new_lead_and_yes_confirms_it(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """One lead per conversation: "new" when the brief completes, "confirmed" after "yes"."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        assert leads(http) == {"items": [], "next_cursor": None}
        say(http, conv, CANONICAL[1])
        page = leads(http)
        assert page["next_cursor"] is None
        assert len(page["items"]) == 1
        lead = page["items"][0]
        assert lead["status"] == "new"
        assert lead["conversation_id"] == conv.id
        assert (lead["channel"], lead["contact"], lead["language"]) == ("api", None, "en")
        assert lead["brief"]["complete"] is True
        assert lead["brief"]["fields"]["city"]["value"] == "Mexico City"
        assert lead["brief"]["fields"]["budget"]["amount"] == 20000

        assert "confirmed" in say(http, conv, "yes")["actions"]
        after = leads(http)["items"]
    assert len(after) == 1
    assert after[0]["id"] == lead["id"]
    assert after[0]["status"] == "confirmed"
    assert after[0]["created_at"] == lead["created_at"]
    assert after[0]["updated_at"] > lead["updated_at"]


def test_leads_can_be_filtered_by_status(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """?status= returns only the leads in that status; an unknown status is a 422 problem."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        confirmed = complete(http, open_conv)
        say(http, confirmed, "yes")
        fresh = complete(http, open_conv)
        open_conv(http, text=CANONICAL[0])  # incomplete: no lead
        assert [i["conversation_id"] for i in leads(http, status="new")["items"]] == [fresh.id]
        assert [i["conversation_id"] for i in leads(http, status="confirmed")["items"]] == [
            confirmed.id
        ]
        assert len(leads(http)["items"]) == 2
        bad = http.get("/v1/leads", params={"status": "lost"}, headers=STAFF)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def _all_pages(http: httpx.Client, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        page = leads(http, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10, "pagination does not end"


def test_leads_are_paged_most_recently_updated_first(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """limit=2 over 5 leads: pages of 2, 2, 1 ordered by updated_at, no lead twice."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        convs = [complete(http, open_conv) for _ in range(5)]
        # Confirming the second one makes it the most recently updated lead.
        say(http, convs[1], "yes")
        expected = [convs[i].id for i in (1, 4, 3, 2, 0)]

        pages = _all_pages(http, limit=2)
        assert [len(p) for p in pages] == [2, 2, 1]
        items = [item for page in pages for item in page]
        assert [i["conversation_id"] for i in items] == expected
        assert len({i["id"] for i in items}) == 5
        stamps = [i["updated_at"] for i in items]
        assert stamps == sorted(stamps, reverse=True)
        assert [i["conversation_id"] for i in leads(http)["items"]] == expected

        # The cursor works together with the status filter.
        new_pages = _all_pages(http, limit=2, status="new")
    assert [len(p) for p in new_pages] == [2, 2]
    assert [i["conversation_id"] for p in new_pages for i in p] == expected[1:]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        cursor_of("yesterday~abc"),
        cursor_of("2026-01-01T00:00:00~abc"),  # no time zone
        cursor_of("2026-01-01T00:00:00+00:00~"),  # no id
        cursor_of("2026-01-01T00:00:00+00:00"),  # no separator
        "%%%%",
    ],
    ids=["garbage", "bad-stamp", "naive-stamp", "no-id", "no-separator", "not-base64"],
)
def test_an_invalid_cursor_is_a_422_problem(
    cursor: str, database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A cursor the server did not issue is refused with 422, never a 500."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        response = http.get("/v1/leads", params={"cursor": cursor}, headers=STAFF)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-cursor"


def test_a_well_formed_cursor_past_every_lead_is_an_empty_last_page(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """A valid cursor older than every lead yields no items and no next cursor."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        complete(http, open_conv)
        page = leads(http, cursor=cursor_of("2000-01-01T00:00:00+00:00~0"))
    assert page == {"items": [], "next_cursor": None}


def test_stats_count_what_happened(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """Conversations, complete ones, turns, blocked turns and leads by status add up."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        empty = stats(http)
        assert empty["conversations"] == empty["turns"] == empty["leads"] == 0
        assert empty["leads_by_status"] == {}

        confirmed = complete(http, open_conv)  # 2 turns
        say(http, confirmed, "yes")  # 3rd turn, lead confirmed
        complete(http, open_conv)  # 2 turns, lead new
        blocked = open_conv(http, text=CANONICAL[0])  # 1 turn
        turn = say(http, blocked, "   \n\t ")  # a blocked turn
        assert turn["blocked"] is True
        open_conv(http)  # greeting only: no user turn
        numbers = stats(http)
    assert numbers["conversations"] == 4
    assert numbers["conversations_by_channel"] == {"api": 4}
    assert numbers["conversations_complete"] == 2
    assert numbers["turns"] == 7
    assert numbers["blocked_turns"] == 1
    assert numbers["llm_calls"] == 0
    assert numbers["leads"] == 2
    assert numbers["leads_by_status"] == {"new": 1, "confirmed": 1}


def test_deleting_a_conversation_removes_its_lead(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """DELETE with the conversation's token erases its lead; another token erases nothing."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        gone = complete(http, open_conv)
        kept = complete(http, open_conv)
        wrong = http.delete(f"/v1/conversations/{gone.id}", headers=kept.auth)
        assert wrong.status_code == 404
        assert len(leads(http)["items"]) == 2

        assert http.delete(f"/v1/conversations/{gone.id}", headers=gone.auth).status_code == 204
        remaining = leads(http)["items"]
        assert [i["conversation_id"] for i in remaining] == [kept.id]
        numbers = stats(http)
    assert numbers["leads"] == 1
    assert numbers["leads_by_status"] == {"new": 1}
    assert numbers["conversations"] == 1
    assert numbers["turns"] == 2


WAREHOUSE = "I need a 1,000 m² warehouse in Monterrey for 100,000 MXN a month."


class Clock:
    """A settable UTC clock for the service (leads' dates and expiry)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_leads_filter_by_city_type_status_and_creation_date(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    clock = Clock(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    server = serve(make_settings(database_url), now=clock)
    with server.client() as http:
        office = complete(http, open_conv)
        clock.now += dt.timedelta(days=2)
        store = open_conv(http, text=WAREHOUSE)
        say(http, store, "yes")

        def ids(**params: Any) -> list[str]:
            return [lead["conversation_id"] for lead in leads(http, **params)["items"]]

        assert ids() == [store.id, office.id]
        assert ids(city="Monterrey") == [store.id]
        assert ids(property_type="office") == [office.id]
        assert ids(status="confirmed") == [store.id]
        assert ids(status="new", city="Monterrey") == []
        assert ids(created_from="2026-11-21") == [store.id]
        assert ids(created_to="2026-11-21") == [office.id]
        assert ids(created_from="2026-11-20", created_to="2026-11-22") == [store.id, office.id]
        assert ids(city="Atlantis") == []
        first = leads(http, limit=1, property_type="warehouse")
        assert [i["conversation_id"] for i in first["items"]] == [store.id]
        assert first["next_cursor"] is None
        item = leads(http, city="Monterrey")["items"][0]
        backwards = http.get(
            "/v1/leads",
            params={"created_from": "2026-11-22", "created_to": "2026-11-21"},
            headers=STAFF,
        )
        not_a_date = http.get("/v1/leads", params={"created_from": "soon"}, headers=STAFF)
    assert (item["city"], item["property_type"]) == ("Monterrey", "warehouse")
    assert item["display"]["summary"].startswith("warehouse in Monterrey")
    assert backwards.status_code == 422
    assert backwards.json()["type"] == "/problems/invalid-request"
    assert not_a_date.status_code == 422


def test_a_leads_detail_has_its_transcript_even_after_the_conversation_expired(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    clock = Clock(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))
    server = serve(make_settings(database_url, conversation_ttl_s=3600), now=clock)
    with server.client() as http:
        conv = complete(http, open_conv)
        lead_id = leads(http)["items"][0]["id"]
        live = http.get(f"/v1/leads/{lead_id}", headers=STAFF)
        missing = http.get("/v1/leads/nope", headers=STAFF)
        anonymous = http.get(f"/v1/leads/{lead_id}")
    clock.now += dt.timedelta(hours=2)
    assert server.call(server.app.state.resources.service.purge()) == 1
    with server.client() as http:
        kept = http.get(f"/v1/leads/{lead_id}", headers=STAFF)
        gone = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth)
    assert live.status_code == 200, live.text
    detail = live.json()
    assert detail["conversation_id"] == conv.id
    assert detail["display"]["complete"] is True
    assert [(e["seq"], e["kind"], e["text"]) for e in detail["transcript"]] == [
        (1, "start", ""),
        (2, "message", CANONICAL[0]),
        (3, "message", CANONICAL[1]),
    ]
    assert detail["transcript"][2]["reply"].startswith("Here is your brief")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    assert anonymous.status_code == 401
    assert gone.status_code == 404
    assert kept.status_code == 200
    after = kept.json()
    assert after["conversation_id"] is None
    assert after["transcript"] == detail["transcript"]
    assert after["brief"] == detail["brief"]


def test_stats_describe_completion_fill_blocking_latency_and_days(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    clock = Clock(dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC))
    server = serve(make_settings(database_url), now=clock)
    with server.client() as http:
        complete(http, open_conv)  # completes at user turn 2
        clock.now += dt.timedelta(hours=1)  # the next UTC day
        store = open_conv(http, text=WAREHOUSE)  # completes at turn 1
        say(http, store, "yes")
        partial = open_conv(http, text=CANONICAL[0])
        say(http, partial, "   ")  # blocked: empty
        open_conv(http)  # greeting only
        numbers = stats(http)
        three = http.get("/v1/stats", params={"days": 3}, headers=STAFF).json()
        refused = [
            http.get("/v1/stats", params={"days": n}, headers=STAFF).status_code
            for n in (0, 91, "x")
        ]
    assert numbers["conversations"] == 4
    assert numbers["conversations_engaged"] == 3
    assert numbers["conversations_completed"] == 2
    assert numbers["completion_rate"] == pytest.approx(2 / 3)
    assert numbers["turns_to_completion"] == {"1": 1, "2": 1}
    fill = numbers["fill_rate"]
    assert fill["property_type"] == fill["city"] == 1.0
    assert fill["budget"] == fill["size"] == pytest.approx(2 / 3)
    assert fill["parking_spaces"] == 0.0
    assert set(fill) >= {"move_in_date", "zone", "loading_docks"}
    assert numbers["turns"] == 6
    assert numbers["blocked_by_reason"] == {"empty": 1}
    assert numbers["llm_calls_histogram"] == {"0": 6}
    assert 0 < numbers["p50_latency_ms"] <= numbers["p95_latency_ms"]
    assert numbers["leads_by_city"] == {"Mexico City": 1, "Monterrey": 1}
    assert numbers["leads_by_type"] == {"office": 1, "warehouse": 1}
    days = numbers["days"]
    assert len(days) == 14
    assert [d["date"] for d in days[-2:]] == ["2026-12-01", "2026-12-02"]
    yesterday, today = days[-2:]
    assert (yesterday["conversations"], yesterday["completed"], yesterday["turns"]) == (1, 1, 2)
    assert (today["conversations"], today["completed"], today["turns"]) == (3, 1, 4)
    assert (today["blocked_turns"], today["llm_calls"]) == (1, 0)
    assert today["p50_latency_ms"] <= today["p95_latency_ms"]
    assert all(d["turns"] == 0 and d["p50_latency_ms"] is None for d in days[:-2])
    assert [d["date"] for d in three["days"]] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert refused == [422, 422, 422]
