"""``GET /v1/conversations/{id}/matches`` and ``GET /v1/listings/{id}`` over a real server
whose empty catalog was seeded at start-up, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livesupport import MakeSettings, Opened, Serve, say

CANONICAL = ("I need an office in Mexico City.", "I can spend 20,000 USD a month for 500m².")


def _complete(http: Any, open_conv: Callable[..., Opened], texts: tuple[str, ...]) -> Opened:
    conv = open_conv(http, text=texts[0])
    for text in texts[1:]:
        say(http, conv, text)
    return conv


def test_matches_of_a_complete_brief(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url, catalog_seed_if_empty=True, catalog_seed_count=3000))
    with server.client() as http:
        conv = _complete(http, open_conv, CANONICAL)
        response = http.get(f"/v1/conversations/{conv.id}/matches?limit=3", headers=conv.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        want = body["want"]
        assert (want["property_type"], want["city"], want["offer"]) == (
            "office",
            "Mexico City",
            "rent",
        )
        assert (want["budget"], want["budget_currency"], want["budget_home"]) == (
            20000,
            "USD",
            360000,
        )
        assert want["home_currency"] == "MXN"
        check = body["market_check"]
        assert check["verdict"] in ("in_line", "low", "high")
        assert check["text"].startswith("20,000 USD a month for 500 m² of office in Mexico City")
        if body["listings"]:
            assert body["relaxation"] is None
            first = body["listings"][0]
            assert first["listing"]["property_type"] == "office"
            assert first["summary"] == " · ".join(first["reasons"])
            assert first["reasons"][0].startswith("office in ")
            listing = http.get(f"/v1/listings/{first['listing']['id']}")
            assert listing.status_code == 200
            assert listing.json() == first["listing"]
        else:
            assert body["relaxation"]["tried"]
        spanish = http.get(
            f"/v1/conversations/{conv.id}/matches",
            params={"language": "es", "relax": "false"},
            headers=conv.auth,
        ).json()
        assert spanish["language"] == "es"
        assert spanish["market_check"]["text"].startswith("20,000 USD al mes por 500 m²")


def test_a_brief_nothing_fits_gets_relaxations(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=3000))
    with server.client() as http:
        conv = _complete(
            http,
            open_conv,
            ("Busco una bodega en Monterrey de 2,000 m2", "mi presupuesto es 90 mil pesos al mes"),
        )
        body = http.get(f"/v1/conversations/{conv.id}/matches", headers=conv.auth).json()
        assert body["language"] == "es"
        assert body["total"] == 0
        relaxation = body["relaxation"]
        assert {t["relax"] for t in relaxation["tried"]} == {"size", "budget", "nearby", "type"}
        assert relaxation["text"]
        if relaxation["applied"] is not None:
            assert body["listings"]
        strict = http.get(
            f"/v1/conversations/{conv.id}/matches?relax=false", headers=conv.auth
        ).json()
        assert (strict["listings"], strict["relaxation"]) == ([], None)


def test_a_brief_without_a_city_is_409_and_credentials_are_checked(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http, text="I need an office")
        response = http.get(f"/v1/conversations/{conv.id}/matches", headers=conv.auth)
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "/problems/brief-incomplete"
        assert {e["field"] for e in problem["errors"]} == {"city"}
        assert http.get(f"/v1/conversations/{conv.id}/matches").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert http.get(f"/v1/conversations/{conv.id}/matches", headers=wrong).status_code == 404
        assert (
            http.get(f"/v1/conversations/{conv.id}/matches?limit=0", headers=conv.auth).status_code
            == 422
        )
        missing = http.get("/v1/listings/no-such-listing")
        assert missing.status_code == 404
        assert missing.json()["type"] == "/problems/not-found"


def test_seeding_is_skipped_when_the_catalog_has_listings_or_it_is_off(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    first = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=100))
    count = first.call(first.app.state.resources.matching.catalog.count())
    assert count == 100
    again = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=500))
    assert again.call(again.app.state.resources.matching.catalog.count()) == 100


def test_confirming_the_brief_in_the_chat_lists_the_listings_that_fit(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=3000))
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        summary = say(http, conv, CANONICAL[1])["reply"]
        reply = say(http, conv, "yes")["reply"]
        matches = http.get(f"/v1/conversations/{conv.id}/matches?limit=3", headers=conv.auth)
        body = matches.json()

    assert reply.startswith("Great, your brief is confirmed.")
    # The same listings as the matches endpoint, numbered; the market check of a budget far
    # from the median came with the summary, before the prospect confirmed it.
    for n, listing in enumerate(body["listings"], start=1):
        assert f"\n{n}. {listing['summary']}" in reply
    if not body["listings"]:
        assert "no listings that fit" in reply
    check = body["market_check"]
    assert check["verdict"] == "high"
    assert summary.startswith(check["text"])
    assert "Here is your brief: office in Mexico City" in summary
    assert check["text"] not in reply


def test_a_type_and_a_city_give_a_preview_and_the_complete_brief_its_matches(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=3000))
    with server.client() as http:
        conv = open_conv(http)
        first = say(http, conv, CANONICAL[0])
        preview = first["matches"]
        assert preview["complete"] is False
        assert preview["want"]["property_type"] == "office"
        assert preview["want"]["city"] == "Mexico City"
        assert 1 <= len(preview["listings"]) <= 3
        assert all(m["listing"]["property_type"] == "office" for m in preview["listings"])
        # The preview only rides along: the reply still asks for budget and size.
        assert "budget" in first["reply"]
        assert "listings" not in first["reply"].lower()
        endpoint = http.get(f"/v1/conversations/{conv.id}/matches", headers=conv.auth).json()
        assert endpoint["complete"] is False
        assert endpoint["listings"][:3] == preview["listings"]

        second = say(http, conv, CANONICAL[1])
        assert second["matches"]["complete"] is True
        assert second["matches"]["want"]["budget"] == 20000
        # A message that changes nothing in the brief carries no matches.
        assert say(http, conv, "hello")["matches"] is None


def test_asking_for_listings_shows_a_numbered_preview_and_a_number_opens_one(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=3000))
    with server.client() as http:
        conv = open_conv(http, text="Busco una oficina en Guadalajara")
        shown = say(http, conv, "¿qué opciones tienes?")
        assert shown["intent"]["intent"] == "search"
        listings = shown["matches"]["listings"]
        assert listings, shown["reply"]
        reply = shown["reply"]
        assert reply.startswith("Con lo que sé hasta ahora, estos")
        for n, match in enumerate(listings, start=1):
            assert f"\n{n}. {match['summary']}" in reply
        assert "Responde con un número" in reply
        # The question still open follows the list.
        assert "presupuesto" in reply.rsplit("\n\n", 1)[-1]

        picked = say(http, conv, "la 2")
        second = listings[1]["listing"]
        assert picked["reply"].startswith("2. oficina en ")
        assert f"mlat={second['lat']:.5f}" in picked["reply"]
        assert picked["brief"] == shown["brief"]  # a choice changes nothing
        assert picked["turn"] == shown["turn"] + 1
        out = say(http, conv, "9")
        assert out["reply"].startswith(f"La lista tiene {len(listings)} inmuebles")


def test_asking_for_listings_before_a_city_says_what_a_search_needs(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=300))
    with server.client() as http:
        conv = open_conv(http, text="I need a warehouse")
        body = say(http, conv, "show me what you have")
        assert body["matches"] is None
        assert body["reply"].startswith(
            "To show you listings I need at least the property type and the city."
        )


STAFF = {"X-API-Key": "staff-key"}  # make_settings' staff_api_key


def the_lead(http: Any) -> dict[str, Any]:
    """The one lead the staff API lists."""
    (lead,) = http.get("/v1/leads", headers=STAFF).json()["items"]
    return dict(lead)


def test_a_contact_left_after_the_confirmation_reaches_the_lead_and_keeps_its_status(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    with serve(make_settings(database_url)).client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        say(http, conv, CANONICAL[1])
        say(http, conv, "yes, that's right")
        lead = the_lead(http)
        assert (lead["status"], lead["contact"]) == ("confirmed", None)
        say(http, conv, "you can write to me at ana.lopez@example.com")
        lead = the_lead(http)
        assert (lead["status"], lead["contact"]) == ("confirmed", "ana.lopez@example.com")
        assert lead["brief"]["extras"]["email"]["value"] == "ana.lopez@example.com"
        # A phone number comes before an email; a message without one changes nothing.
        say(http, conv, "my cell is +52 55 8765 4321")
        say(http, conv, "thanks!")
        lead = the_lead(http)
        assert (lead["status"], lead["contact"]) == ("confirmed", "+525587654321")


def test_asking_for_a_person_hands_the_lead_to_a_broker(
    database_url: str, make_settings: MakeSettings, serve: Serve, open_conv: Callable[..., Opened]
) -> None:
    server = serve(make_settings(database_url))
    staff = {"X-API-Key": "staff-key"}  # make_settings' staff_api_key
    with server.client() as http:
        conv = open_conv(http, text=CANONICAL[0])
        body = say(http, conv, "I'd rather talk to a person, can someone call me?")
        assert body["intent"]["intent"] == "talk_to_person"
        assert body["reply"].startswith("Of course: I'm passing your conversation to one")
        assert "leave a phone number or an email" in body["reply"]
        leads = http.get("/v1/leads", params={"status": "handoff"}, headers=staff).json()
        assert [lead["conversation_id"] for lead in leads["items"]] == [conv.id]
        assert leads["items"][0]["contact"] is None
        # The number left for the broker reaches the lead, and never the budget or the size.
        noted = say(http, conv, "my number is +52 55 1234 5678")
        assert set(noted["brief"]["extras"]) == {"phone"}
        assert noted["brief"]["missing"] == ["budget", "size"]
        lead = http.get("/v1/leads", headers=staff).json()["items"][0]
        assert (lead["status"], lead["contact"]) == ("handoff", "+525512345678")
        # Completing the brief later keeps the lead with the broker.
        say(http, conv, CANONICAL[1])
        lead = http.get("/v1/leads", headers=staff).json()["items"][0]
        assert (lead["status"], lead["brief"]["complete"]) == ("handoff", True)
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        intents = [(e["kind"], e["intent"]) for e in history]
        assert intents[:3] == [
            ("start", None),
            ("message", "give_details"),
            ("message", "talk_to_person"),
        ]
        assert all(-1 <= (e["sentiment"] or 0) <= 1 for e in history)
