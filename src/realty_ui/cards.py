"""Listings that fit, in words, without Streamlit: one card per listing and the map's points.

The API gives each listing as data (a price, a size, amenities by key) and its reasons in
words; this module turns the data into the app's own words, in the conversation's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from realty_ui.client import Amenity, Listing, ListingMatch
from realty_ui.i18n import Language, amenity_words, kind_name, month_name, text

OSM_ZOOM = 16
"""How close the OpenStreetMap link opens (a street or two around the listing)."""


@dataclass(frozen=True, slots=True)
class Card:
    """One listing as a card shows it: every member is plain text (or a URL)."""

    number: int
    listing_id: str
    title: str
    price: str
    size: str
    price_per_m2: str
    reasons: tuple[str, ...]
    amenities: tuple[str, ...]
    availability: str
    map_url: str


@dataclass(frozen=True, slots=True)
class MapPoint:
    """One pin of the map: the card's number, where, and what a tooltip says."""

    number: int
    lat: float
    lon: float
    label: str


def card(number: int, match: ListingMatch, language: Language, today: dt.date) -> Card:
    """The card of the ``number``-th listing (1 is the best fit)."""
    listing = match.listing
    return Card(
        number=number,
        listing_id=listing.id,
        title=title(listing, language),
        price=price_text(listing, language),
        size=text(language, "card_size", m2=number_text(listing.size_m2)),
        price_per_m2=price_text(listing, language, per_m2=True),
        reasons=tuple(match.reasons),
        amenities=amenities_text(listing.amenities, language),
        availability=availability_text(listing.available_from, language, today),
        map_url=osm_url(listing.lat, listing.lon),
    )


def cards(matches: list[ListingMatch], language: Language, today: dt.date) -> list[Card]:
    """Every listing's card, numbered from 1 in the API's order (best first)."""
    return [card(n, match, language, today) for n, match in enumerate(matches, start=1)]


def map_points(matches: list[ListingMatch], language: Language) -> list[MapPoint]:
    """The map's pins, numbered as the cards."""
    return [
        MapPoint(n, m.listing.lat, m.listing.lon, f"{n}. {title(m.listing, language)}")
        for n, m in enumerate(matches, start=1)
    ]


def title(listing: Listing, language: Language) -> str:
    """``Office · Polanco, Mexico City`` (the neighbourhood when the listing has one)."""
    kind = kind_name(language, listing.property_type)
    place = f"{listing.zone}, {listing.city}" if listing.zone else listing.city
    return f"{kind[:1].upper()}{kind[1:]} · {place}"


def number_text(value: float) -> str:
    """``12,500`` or ``12,500.5``: thousands separated, a decimal only when there is one."""
    rounded = round(value, 1)
    return f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"


def price_text(listing: Listing, language: Language, *, per_m2: bool = False) -> str:
    """``350,000 MXN a month`` for rent, ``4,500,000 USD for sale`` for sale; with ``per_m2``
    the price of one square metre (``729 MXN/m² a month``)."""
    key, amount = ("card_per_m2", listing.price_per_m2) if per_m2 else ("card_price", listing.price)
    return text(
        language, f"{key}_{listing.offer}", price=number_text(amount), currency=listing.currency
    )


def amenity_text(key: str, value: Amenity, language: Language) -> str:
    """``24 parking spaces``, ``1 loading dock``, ``9.5 m clear height``, ``elevator``."""
    if isinstance(value, bool):
        return amenity_words(language, key, None)
    return amenity_words(language, key, number_text(value))


def amenities_text(amenities: dict[str, Amenity], language: Language) -> tuple[str, ...]:
    """What the listing has, in words: absent ones (false, or none of them) are left out."""
    return tuple(
        amenity_text(key, value, language)
        for key, value in amenities.items()
        if value is not False and value != 0
    )


def availability_text(available: dt.date | None, language: Language, today: dt.date) -> str:
    """``Available now``, ``Available from 1 March 2027``, or that it was not stated."""
    if available is None:
        return text(language, "available_unknown")
    if available <= today:
        return text(language, "available_now")
    day = text(
        language,
        "date_long",
        day=available.day,
        month=month_name(language, available.month),
        year=available.year,
    )
    return text(language, "available_from", date=day)


def osm_url(lat: float, lon: float) -> str:
    """The OpenStreetMap page centred on ``lat``/``lon`` with a marker there."""
    lat_text, lon_text = f"{lat:.5f}", f"{lon:.5f}"
    query = urlencode({"mlat": lat_text, "mlon": lon_text})
    return f"https://www.openstreetmap.org/?{query}#map={OSM_ZOOM}/{lat_text}/{lon_text}"


def detail_rows(listing: Listing, language: Language, today: dt.date) -> list[tuple[str, str]]:
    """A listing's detail as (label, words) rows."""
    place = ", ".join(p for p in (listing.zone, listing.city, listing.admin1, listing.country) if p)
    rows = [
        (text(language, "detail_offer"), text(language, f"detail_offer_{listing.offer}")),
        (text(language, "detail_price"), price_text(listing, language)),
        (text(language, "detail_per_m2"), price_text(listing, language, per_m2=True)),
        (
            text(language, "detail_size"),
            text(language, "card_size", m2=number_text(listing.size_m2)),
        ),
        (text(language, "detail_place"), place),
        (text(language, "detail_coordinates"), f"{listing.lat:.5f}, {listing.lon:.5f}"),
        (text(language, "card_amenities"), ", ".join(amenities_text(listing.amenities, language))),
        (
            text(language, "detail_availability"),
            availability_text(listing.available_from, language, today),
        ),
        (text(language, "detail_id"), listing.id),
    ]
    return [(label, words) for label, words in rows if words]
