"""The app's API client against a live API: typed answers and typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from uisupport import Prospect, sqlite_settings

from livesupport import Serve, Server
from realty_ui.client import (
    Access,
    ApiClient,
    ApiUnavailable,
    BriefEdit,
    Conflict,
    Forbidden,
    InvalidInput,
    LeadFilters,
    MessageTooLong,
    NotFound,
    RateLimited,
    Unauthorized,
)


@pytest.fixture
def client(api: Server) -> Iterator[ApiClient]:
    with ApiClient(api.url, staff_key="staff-key", timeout=10) as opened:
        yield opened


def test_a_conversation_round_trip_is_typed(client: ApiClient) -> None:
    created = client.open_conversation()
    access = Access(created.id, created.token)

    first = client.send(access, "I need an office in Mexico City.", "m-1")
    again = client.send(access, "anything", "m-1")
    second = client.send(access, "I can spend 20,000 USD for 500m².")
    edited = client.edit(access, BriefEdit(size="650 m²"))
    switched = client.switch_language(access, "es")
    confirmed = client.confirm(access)
    read = client.read(access)

    assert created.display.missing[0].key == "property_type"
    assert first.display.filled == 2
    assert again.replayed
    assert again.reply == first.reply
    assert second.display.complete
    assert second.brief.fields["budget"].amount == 20000
    assert (edited.brief.fields["size"].m2, edited.brief.fields["size"].source) == (
        650,
        "user_edit",
    )
    assert switched.display.language == "es"
    assert "confirmed" in confirmed.actions
    assert [e.kind for e in read.history] == [
        "start",
        "message",
        "message",
        "edit",
        "edit",
        "confirm",
    ]


def test_staff_reads_are_typed(client: ApiClient, api: Server) -> None:
    prospect = Prospect.open(api)
    prospect.say("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")

    stats = client.stats(7)
    page = client.leads(LeadFilters(city="Mexico City"), limit=1)
    detail = client.lead(page.items[0].id)

    assert len(stats.days) == 7
    assert stats.leads_by_city == {"Mexico City": 1}
    assert page.items[0].display.summary == "office in Mexico City, budget 20,000 USD, 500 m²"
    assert [e.kind for e in detail.transcript] == ["start", "message", "message"]
    assert client.leads(LeadFilters(city="Monterrey")).items == []
    assert len(client.all_leads()) == 1


def test_every_refusal_is_a_typed_error(client: ApiClient, api: Server) -> None:
    created = client.open_conversation()
    access = Access(created.id, created.token)

    with pytest.raises(NotFound):
        client.read(Access(created.id, "wrong-token"))
    with pytest.raises(Conflict):
        client.confirm(access)
    with pytest.raises(InvalidInput) as refused:
        client.edit(access, BriefEdit(size="-3 m²", city="Atlantis"))
    assert {p.field for p in refused.value.problems} == {"size", "city"}
    with pytest.raises(NotFound):
        client.lead("no-such-lead")
    with ApiClient(api.url, staff_key="wrong") as wrong, pytest.raises(Unauthorized):
        wrong.stats()


def test_limits_are_typed_errors(serve: Serve, tmp_path: Path) -> None:
    api = serve(
        sqlite_settings(tmp_path, max_message_chars=50, rate_limit_messages=1, staff_api_key=None)
    )
    with ApiClient(api.url, staff_key="staff-key") as client:
        created = client.open_conversation()
        access = Access(created.id, created.token)
        with pytest.raises(MessageTooLong) as long:
            client.send(access, "x" * 51)
        client.send(access, "hello")
        with pytest.raises(RateLimited) as limited:
            client.send(access, "hello again")
        with pytest.raises(Forbidden):
            client.stats()

    assert long.value.limit == 50
    assert limited.value.retry_after >= 1


def test_no_answer_is_api_unavailable(closed_url: str) -> None:
    with ApiClient(closed_url, timeout=2) as client, pytest.raises(ApiUnavailable):
        client.open_conversation()


def test_the_browser_address_is_forwarded(serve: Serve, tmp_path: Path) -> None:
    api = serve(sqlite_settings(tmp_path, trust_forwarded_for=True, rate_limit_conversations=1))
    with ApiClient(api.url, forwarded_for="203.0.113.7") as first:
        first.open_conversation()
        with pytest.raises(RateLimited):
            first.open_conversation()
    with ApiClient(api.url, forwarded_for="203.0.113.8") as other:
        assert other.open_conversation().id
