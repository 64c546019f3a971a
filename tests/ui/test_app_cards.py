"""Listings in the app's words: prices, sizes, amenities, availability, the map's view and
the client's reading of ``GET …/matches`` (a 409 is "none yet", a preview is labelled)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uisupport import Prospect, sqlite_settings

from livesupport import Serve, Server
from realty.domain.listing import AMENITY_KEYS
from realty.pipeline.templates import MONTHS as API_MONTHS
from realty_ui.cards import (
    MapPoint,
    amenities_text,
    availability_text,
    detail_rows,
    number_text,
    osm_url,
    price_text,
    title,
)
from realty_ui.client import Access, ApiClient, Listing, Matches
from realty_ui.i18n import AMENITY_WORDS, LANGUAGES, MONTHS, Language
from realty_ui.listings_panel import heading, refresh, view_of
from realty_ui.state import ChatSession

TODAY = dt.date(2026, 12, 7)


def listing(**changes: Any) -> Listing:
    values: dict[str, Any] = {
        "id": "syn-1",
        "property_type": "office",
        "offer": "rent",
        "title": "Oficina de 485 m² en Del Valle, Ciudad de México",
        "city": "Mexico City",
        "country": "MX",
        "admin1": "Ciudad de México",
        "zone": "Del Valle",
        "lat": 19.495428,
        "lon": -99.180655,
        "size_m2": 485.0,
        "price": 14000.0,
        "currency": "USD",
        "price_per_m2": 28.87,
        "amenities": {"parking_spaces": 10, "furnished": False, "elevator": True},
        "available_from": "2027-02-15",
    }
    values.update(changes)
    return Listing.model_validate(values)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (14000, "14,000"),
        (28.87, "28.9"),
        (485.0, "485"),
        (0.04, "0"),
        (1_234_567.25, "1,234,567.2"),
    ],
)
def test_numbers_have_thousands_separators_and_a_decimal_only_when_there_is_one(
    value: float, expected: str
) -> None:
    assert number_text(value) == expected


@pytest.mark.parametrize(
    ("changes", "language", "price", "per_m2"),
    [
        ({}, "en", "14,000 USD a month", "28.9 USD/m² a month"),
        ({}, "es", "14,000 USD al mes", "28.9 USD/m² al mes"),
        (
            {"offer": "sale", "price": 4_500_000, "currency": "MXN", "price_per_m2": 9278.35},
            "en",
            "4,500,000 MXN for sale",
            "9,278.4 MXN/m²",
        ),
        ({"offer": "sale", "price": 4_500_000}, "es", "4,500,000 USD en venta", "28.9 USD/m²"),
    ],
)
def test_prices_say_their_currency_and_whether_monthly_or_for_sale(
    changes: dict[str, Any], language: Language, price: str, per_m2: str
) -> None:
    shown = listing(**changes)
    assert price_text(shown, language) == price
    assert price_text(shown, language, per_m2=True) == per_m2


@pytest.mark.parametrize(
    ("changes", "language", "expected"),
    [
        ({}, "en", "Office · Del Valle, Mexico City"),
        ({"zone": None}, "en", "Office · Mexico City"),
        ({"property_type": "mixed_use"}, "es", "Uso mixto · Del Valle, Mexico City"),
        ({"property_type": "warehouse"}, "es", "Bodega · Del Valle, Mexico City"),
    ],
)
def test_the_title_is_the_kind_and_the_place(
    changes: dict[str, Any], language: Language, expected: str
) -> None:
    assert title(listing(**changes), language) == expected


@pytest.mark.parametrize(
    ("amenities", "language", "expected"),
    [
        (
            {"parking_spaces": 10, "furnished": False, "elevator": True},
            "en",
            ("10 parking spaces", "elevator"),
        ),
        ({"parking_spaces": 1, "loading_docks": 1}, "en", ("1 parking space", "1 loading dock")),
        ({"parking_spaces": 0, "security_24h": True}, "es", ("seguridad 24/7",)),
        (
            {"ceiling_height": 9.5, "power_kva": 250},
            "es",
            ("altura libre de 9.5 m", "250 kVA de potencia"),
        ),
        ({"rooftop": True, "floors": 3}, "en", ("rooftop", "floors: 3")),
    ],
)
def test_amenities_in_words_leave_out_what_the_listing_lacks(
    amenities: dict[str, Any], language: Language, expected: tuple[str, ...]
) -> None:
    assert amenities_text(amenities, language) == expected


def test_every_amenity_of_the_api_has_words_in_both_languages() -> None:
    for language in LANGUAGES:
        words = AMENITY_WORDS[language]
        assert set(AMENITY_KEYS) <= set(words)
        assert {key.removesuffix("_one") for key in words} == set(AMENITY_KEYS)


def test_the_month_names_are_the_apis() -> None:
    assert {language: MONTHS[language] for language in LANGUAGES} == dict(API_MONTHS)


@pytest.mark.parametrize(
    ("available", "language", "expected"),
    [
        (None, "en", "Availability not stated"),
        (TODAY, "en", "Available now"),
        (dt.date(2025, 1, 1), "es", "Disponible ya"),
        (dt.date(2027, 2, 15), "en", "Available from February 15, 2027"),
        (dt.date(2027, 2, 15), "es", "Disponible desde el 15 de febrero de 2027"),
    ],
)
def test_availability_is_now_a_date_or_not_stated(
    available: dt.date | None, language: Language, expected: str
) -> None:
    assert availability_text(available, language, TODAY) == expected


def test_the_map_link_opens_openstreetmap_at_the_listing() -> None:
    assert osm_url(19.495428, -99.180655) == (
        "https://www.openstreetmap.org/?mlat=19.49543&mlon=-99.18066#map=16/19.49543/-99.18066"
    )


def test_the_detail_has_every_member_in_words() -> None:
    rows = dict(detail_rows(listing(), "en", TODAY))
    assert rows == {
        "Offer": "for rent",
        "Price": "14,000 USD a month",
        "Price per m²": "28.9 USD/m² a month",
        "Size": "485 m²",
        "Where": "Del Valle, Mexico City, Ciudad de México, MX",
        "Coordinates": "19.49543, -99.18066",
        "Amenities": "10 parking spaces, elevator",
        "Availability": "Available from February 15, 2027",
        "Listing id": "syn-1",
    }


def test_the_map_is_centred_on_the_pins_and_zoomed_to_show_them_all() -> None:
    one = [MapPoint(1, 19.4, -99.1, "1")]
    city = [MapPoint(1, 19.30, -99.20, "1"), MapPoint(2, 19.55, -99.04, "2")]
    country = [MapPoint(1, 32.5, -117.0, "1"), MapPoint(2, 21.1, -86.8, "2")]

    assert view_of(one) == (19.4, -99.1, 14.0)
    lat, lon, zoom = view_of(city)
    assert (lat, lon) == pytest.approx((19.425, -99.12))
    assert 8 < zoom < 11
    assert 3 <= view_of(country)[2] < 5 < zoom


# --- the client against the API ----------------------------------------------------------


@pytest.fixture
def catalog_api(serve: Serve, tmp_path: Path) -> Server:
    return serve(sqlite_settings(tmp_path, catalog_seed_if_empty=True, catalog_seed_count=3000))


@pytest.fixture
def client(catalog_api: Server) -> Iterator[ApiClient]:
    with ApiClient(catalog_api.url, timeout=10) as opened:
        yield opened


def test_matches_are_none_until_the_api_can_search_then_typed(
    client: ApiClient, catalog_api: Server
) -> None:
    prospect = Prospect.open(catalog_api)
    access = Access(prospect.id, prospect.token)

    assert client.matches(access) is None  # 409 brief-incomplete: no cards, no error

    prospect.say("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")
    found = client.matches(access, limit=3, language="es")

    assert found is not None
    assert found.complete  # no ``complete`` in the body: a complete brief's answer
    assert found.language == "es"
    assert len(found.listings) == 3
    first = found.listings[0]
    assert first.listing.property_type == "office"
    assert first.summary == " · ".join(first.reasons)
    assert found.market_check is not None
    assert (found.market_check.text or "").startswith("20,000 USD al mes por 500 m²")
    assert client.listing(first.listing.id) == first.listing


def test_a_preview_is_labelled_as_one(client: ApiClient, catalog_api: Server) -> None:
    prospect = Prospect.open(catalog_api)
    prospect.say("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")
    found = client.matches(Access(prospect.id, prospect.token))
    assert found is not None
    preview = Matches.model_validate({**found.model_dump(mode="json"), "complete": False})

    assert heading(found, "en") == "Listings that fit"
    assert heading(preview, "en") == "Listings that fit · Preview"
    assert heading(preview, "es") == "Inmuebles que coinciden · Vista previa"


def test_listings_are_fetched_once_per_brief_and_again_after_a_failure(
    client: ApiClient, catalog_api: Server, closed_url: str
) -> None:
    prospect = Prospect.open(catalog_api)
    prospect.say("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")
    access = Access(prospect.id, prospect.token)
    conversation = client.read(access)
    session = ChatSession(access=access, brief=conversation.brief, display=conversation.display)

    with ApiClient(closed_url, timeout=2) as down:
        refresh(down, session)
        assert (session.matches, session.matches_failed) == (None, True)
        refresh(client, session)
        assert session.matches is not None
        assert not session.matches_failed
        refresh(down, session)  # the same brief: not asked again, so nothing fails
        assert session.matches is not None
        assert not session.matches_failed

    session.display = conversation.display.model_copy(update={"language": "es"})
    refresh(client, session)
    assert session.matches is not None
    assert session.matches.language == "es"
