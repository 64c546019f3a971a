"""The Twilio WhatsApp webhook over a real server: signatures, TwiML, one conversation per sender.

Every request is signed the way Twilio signs it (``RequestValidator.compute_signature`` over
the exact URL posted to and the form), so these tests exercise the real verification path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from livesupport import MakeSettings, Serve, Server

WEBHOOK = "/v1/channels/whatsapp"
TOKEN = "twilio-token"  # make_settings' twilio_auth_token
STAFF = {"X-API-Key": "staff-key"}  # make_settings' staff_api_key
PROSPECT = "whatsapp:+5218112345678"
OTHER = "whatsapp:+5213398765432"
FIRST_ES = "Busco una oficina en Monterrey"
SECOND_ES = "Mi presupuesto es de 50,000 MXN al mes para 200 m²"
EMPTY_REPLY = "Your message came through empty. What are you looking for?"


def twilio_form(sender: str, body: str, sid: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts for one incoming WhatsApp message."""
    return {
        "SmsMessageSid": sid,
        "MessageSid": sid,
        "AccountSid": "AC00000000000000000000000000000000",
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Prospect",
        **extra,
    }


def sign(url: str, params: Mapping[str, str], token: str = TOKEN) -> str:
    """X-Twilio-Signature for ``params`` posted to ``url``."""
    signature: str = RequestValidator(token).compute_signature(url, dict(params))
    return signature


def deliver(
    http: httpx.Client,
    server: Server,
    params: Mapping[str, str],
    *,
    signed_url: str | None = None,
    token: str = TOKEN,
) -> httpx.Response:
    """POST ``params`` to the webhook, signed over ``signed_url`` (default: the URL posted to)."""
    signature = sign(signed_url or server.url + WEBHOOK, params, token)
    return http.post(WEBHOOK, data=dict(params), headers={"X-Twilio-Signature": signature})


def twiml_text(response: httpx.Response) -> str:
    """The text of the one <Message> of a 200 TwiML response."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) == 1, response.text
    return messages[0].text or ""


def stats(http: httpx.Client) -> dict[str, Any]:
    """GET /v1/stats with the staff key."""
    response = http.get("/v1/stats", headers=STAFF)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_a_signed_message_gets_a_twiml_reply_in_the_prospects_language(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A valid Spanish message is answered in Spanish inside a TwiML <Message>."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        text = twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001")))
    assert text.startswith("Perfecto: oficina en Monterrey.")
    assert "presupuesto" in text
    assert "m²" in text
    assert "budget" not in text


def test_the_same_sender_continues_one_conversation_until_the_brief_is_complete(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """The second message from one number adds to the first; the summary has all four fields."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        first = twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001")))
        assert "presupuesto" in first
        summary = twiml_text(deliver(http, server, twilio_form(PROSPECT, SECOND_ES, "SM002")))
        assert summary.startswith("Este es el resumen de tu búsqueda:")
        for part in ("oficina en Monterrey", "50,000 MXN", "200 m²", "¿Está todo correcto?"):
            assert part in summary
        numbers = stats(http)
        assert numbers["conversations"] == 1
        assert numbers["conversations_by_channel"] == {"whatsapp": 1}
        assert numbers["conversations_complete"] == 1
        assert numbers["turns"] == 2
        leads = http.get("/v1/leads", headers=STAFF).json()["items"]
    assert len(leads) == 1
    lead = leads[0]
    assert (lead["status"], lead["channel"], lead["contact"]) == ("new", "whatsapp", PROSPECT)
    assert lead["language"] == "es"
    fields = lead["brief"]["fields"]
    assert fields["property_type"]["value"] == "office"
    assert fields["city"]["value"] == "Monterrey"
    assert fields["budget"]["amount"] == 50000
    assert fields["budget"]["currency"] == "MXN"
    assert fields["size"]["m2"] == 200


def test_a_confirmed_brief_lists_listings_and_a_number_opens_one(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """The list is numbered; "2" from the same number answers with the second listing in
    detail (with a map link), and the prospect's number means no contact is asked for."""
    settings = make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=3000)
    server = serve(settings)
    with server.client() as http:
        for n, text in enumerate((FIRST_ES, SECOND_ES), start=1):
            twiml_text(deliver(http, server, twilio_form(PROSPECT, text, f"SM10{n}")))
        listed = twiml_text(deliver(http, server, twilio_form(PROSPECT, "sí", "SM103")))
        assert listed.startswith("Excelente, tu búsqueda quedó confirmada.")
        items = re.findall(r"^(\d)\. (.+)$", listed, flags=re.MULTILINE)
        assert [n for n, _ in items] == [str(i) for i in range(1, len(items) + 1)]
        assert items, listed
        assert "Responde con un número para ver uno a detalle." in listed
        picked = twiml_text(deliver(http, server, twilio_form(PROSPECT, "2", "SM104")))
        if len(items) >= 2:
            place = items[1][1].split(" · ")[0]
            assert picked.startswith(f"2. {place}")
            assert "https://www.openstreetmap.org/?mlat=" in picked
        else:
            assert picked.startswith("La lista tiene 1 inmuebles")
        person = twiml_text(
            deliver(http, server, twilio_form(PROSPECT, "prefiero hablar con un asesor", "SM105"))
        )
        assert "se pondrá en contacto contigo a este número" in person


def test_a_different_sender_gets_a_conversation_of_their_own(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """What one number said does not leak into another number's brief."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001")))
        other = twiml_text(deliver(http, server, twilio_form(OTHER, SECOND_ES, "SM002")))
        # Without the first sender's type and city, this brief is not complete: they are asked.
        assert "resumen" not in other
        assert other.startswith("Perfecto: presupuesto de $50,000 MXN al mes")
        assert "qué tipo de inmueble buscas" in other
        assert "en qué ciudad" in other
        numbers = stats(http)
        assert numbers["conversations_by_channel"] == {"whatsapp": 2}
        assert numbers["conversations_complete"] == 0
        assert numbers["turns"] == 2
        assert http.get("/v1/leads", headers=STAFF).json()["items"] == []


def _wrong_token(server: Server, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": sign(server.url + WEBHOOK, params, token="not-the-token")}


def _tampered_body(server: Server, params: dict[str, str]) -> dict[str, str]:
    original = {**params, "Body": "Busco una bodega en Tijuana"}
    return {"X-Twilio-Signature": sign(server.url + WEBHOOK, original)}


def _no_header(server: Server, params: dict[str, str]) -> dict[str, str]:
    return {}


def _empty_header(server: Server, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": ""}


@pytest.mark.parametrize(
    "forge",
    [_wrong_token, _tampered_body, _no_header, _empty_header],
    ids=["wrong-token", "tampered-body", "missing-header", "empty-header"],
)
def test_a_forged_signature_is_403_and_stores_nothing(
    forge: Any, sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A request Twilio did not sign is refused before anything reaches a conversation."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001")))
        params = twilio_form(PROSPECT, SECOND_ES, "SM002")
        refused = http.post(WEBHOOK, data=params, headers=forge(server, params))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"] == "/problems/bad-signature"
        assert problem["status"] == 403
        # A forged first message from a new number opens nothing either.
        stranger = twilio_form(OTHER, FIRST_ES, "SM003")
        assert http.post(WEBHOOK, data=stranger, headers=forge(server, stranger)).status_code == 403
        numbers = stats(http)
    assert numbers["turns"] == 1
    assert numbers["conversations"] == 1
    assert numbers["conversations_complete"] == 0


def test_a_forged_signature_on_postgresql_stores_nothing(
    postgres_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """The same refusal over PostgreSQL: the sender's next real message is still turn 1."""
    server = serve(make_settings(postgres_url))
    with server.client() as http:
        params = twilio_form(PROSPECT, SECOND_ES, "SM001")
        refused = http.post(WEBHOOK, data=params, headers=_tampered_body(server, params))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        # Had the forged budget been stored, this would now be a complete summary.
        text = twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM002")))
    assert text.startswith("Perfecto: oficina en Monterrey.")
    assert "resumen" not in text


def test_a_twilio_retry_of_the_same_message_sid_is_handled_once(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """The same MessageSid twice gets the same reply and leaves one stored turn."""
    server = serve(make_settings(database_url))
    params = twilio_form(PROSPECT, FIRST_ES, "SM-retry-1")
    with server.client() as http:
        first = twiml_text(deliver(http, server, params))
        again = twiml_text(deliver(http, server, params))
        assert again == first
        assert stats(http)["turns"] == 1
        # The retry did not advance the conversation: the budget now completes the brief.
        summary = twiml_text(deliver(http, server, twilio_form(PROSPECT, SECOND_ES, "SM-2")))
        assert summary.startswith("Este es el resumen de tu búsqueda:")
        assert stats(http)["turns"] == 2
        metrics = http.get("/metrics").text
    assert 'realty_turns_total{channel="whatsapp",outcome="replayed"} 1.0' in metrics
    assert 'realty_turns_total{channel="whatsapp",outcome="answered"} 2.0' in metrics


def test_the_webhook_is_404_when_twilio_is_not_configured(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """Without an auth token the channel does not exist, whatever the request carries."""
    server = serve(make_settings(sqlite_url, twilio_auth_token=None))
    with server.client() as http:
        response = deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/channel-disabled"


def test_a_media_only_message_gets_a_reply_asking_for_text(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """An empty Body (a photo, a voice note) is answered, not an error, and changes no brief."""
    server = serve(make_settings(sqlite_url))
    media = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1"}
    with server.client() as http:
        params = twilio_form(PROSPECT, "", "SM001", **media)
        assert twiml_text(deliver(http, server, params)) == EMPTY_REPLY
        numbers = stats(http)
        assert (numbers["turns"], numbers["blocked_turns"]) == (1, 1)
        # The conversation goes on normally afterwards.
        text = twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM002")))
    assert text.startswith("Perfecto: oficina en Monterrey.")


def test_signatures_are_checked_against_the_configured_public_url(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """Behind a proxy, Twilio signs the public URL; the local URL's signature is refused."""
    public = "https://public.example/wa"
    server = serve(make_settings(sqlite_url, twilio_webhook_url=public))
    with server.client() as http:
        local = deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001"))
        assert local.status_code == 403
        assert local.headers["content-type"] == "application/problem+json"
        accepted = deliver(
            http, server, twilio_form(PROSPECT, FIRST_ES, "SM002"), signed_url=public
        )
    assert twiml_text(accepted).startswith("Perfecto: oficina en Monterrey.")


def test_a_signed_request_without_a_sender_is_422(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A correctly signed form without From is a 422 problem, not a conversation."""
    server = serve(make_settings(sqlite_url))
    params = twilio_form(PROSPECT, FIRST_ES, "SM001")
    del params["From"]
    with server.client() as http:
        response = deliver(http, server, params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_sender_over_the_rate_limit_is_told_to_slow_down(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """The third message in the window gets the bilingual "too fast" TwiML instead of a turn."""
    server = serve(make_settings(sqlite_url, rate_limit_messages=2, rate_limit_window_s=60))
    with server.client() as http:
        first = twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001")))
        assert first.startswith("Perfecto")
        twiml_text(
            deliver(http, server, twilio_form(PROSPECT, "Y también estacionamiento", "SM002"))
        )
        slow = twiml_text(deliver(http, server, twilio_form(PROSPECT, SECOND_ES, "SM003")))
        match = re.fullmatch(
            r"Estás enviando mensajes muy rápido; espera (\d+) s e inténtalo de nuevo\. / "
            r"You are sending messages too fast; please wait (\d+) s and try again\.",
            slow,
        )
        assert match is not None, slow
        assert match[1] == match[2]
        assert 1 <= int(match[1]) <= 60
        assert stats(http)["turns"] == 2
        # Another number has a budget of its own.
        other = twiml_text(deliver(http, server, twilio_form(OTHER, FIRST_ES, "SM004")))
        assert other.startswith("Perfecto")
        metrics = http.get("/metrics").text
    assert 'realty_rate_limited_total{scope="whatsapp"} 1.0' in metrics


def test_a_twilio_retry_gets_its_stored_reply_even_at_the_rate_limit(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A retry replays a message already handled: it is not a new message to rate-limit."""
    server = serve(make_settings(sqlite_url, rate_limit_messages=2, rate_limit_window_s=60))
    with server.client() as http:
        twiml_text(deliver(http, server, twilio_form(PROSPECT, FIRST_ES, "SM001")))
        last = twilio_form(PROSPECT, SECOND_ES, "SM002")
        summary = twiml_text(deliver(http, server, last))
        assert summary.startswith("Este es el resumen de tu búsqueda:")
        # Twilio did not get that answer (a timeout) and posts the same message again.
        retried = twiml_text(deliver(http, server, last))
        assert stats(http)["turns"] == 2
    assert retried == summary


def test_shared_key_hmac_sha256_signatures_are_verified(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A webhook signed with a shared key and HMAC-SHA256 (named in
    X-Twilio-Webhooks-Signature-Settings) is accepted with that key, refused with another."""
    server = serve(make_settings(sqlite_url, twilio_signing_key="shared-secret"))
    params = twilio_form(PROSPECT, FIRST_ES, "SM900")
    url = server.url + WEBHOOK
    settings_header = "key=webhooks_sharedkey_0001,algorithm=HMAC_SHA256"
    with server.client() as http:
        for secret, expected in (("shared-secret", 200), (TOKEN, 403)):
            signature = RequestValidator(secret).compute_signature(url, params, "HMAC_SHA256")
            response = http.post(
                WEBHOOK,
                data=params,
                headers={
                    "X-Twilio-Signature": signature,
                    "X-Twilio-Webhooks-Signature-Settings": settings_header,
                },
            )
            assert response.status_code == expected, secret
        assert twiml_text(deliver(http, server, twilio_form(PROSPECT, "hola", "SM901")))
