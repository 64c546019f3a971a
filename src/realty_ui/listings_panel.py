"""Under the chat: the listings that fit the brief, as cards, with a map of them.

The listings come from ``GET /v1/conversations/{id}/matches``, fetched again whenever the
brief (or its language) changes, and on a reload. While the API has none to give (409: the
brief lacks what a search needs) nothing is shown; a preview (``complete`` false) is labelled
as one. Every word from the API is shown verbatim, never as Markdown.
"""

from __future__ import annotations

import datetime as dt
import math

import pydeck as pdk  # type: ignore[import-untyped]
import streamlit as st

from realty_ui.cards import Card, MapPoint, cards, detail_rows, map_points, osm_url, title
from realty_ui.client import ApiClient, ApiProblem, Listing, Matches, NotFound
from realty_ui.common import connect
from realty_ui.i18n import Language, text
from realty_ui.markup import verbatim
from realty_ui.settings import get_ui_settings
from realty_ui.state import ChatSession

LIMIT = 6
"""Cards shown (the API's best first): enough to compare, few enough to read."""
COLUMNS = 2
MAP_KEY = "listings_map"
PIN_COLOR = (11, 110, 79)  # the widget's brand green
PIN_RADIUS_PX = 11
MAP_HEIGHT_PX = 320
TILE_PX = 512  # deck.gl's world size at zoom 0
MIN_ZOOM, MAX_ZOOM = 3.0, 14.0  # a country; a few streets


def refresh(api: ApiClient, session: ChatSession) -> None:
    """Fetch the listings again when the brief or its language changed since the last fetch.

    A failure leaves no cards and a note; the next change (or rerun) tries again.
    """
    if session.access is None or session.brief is None or session.display is None:
        _forget(session)
        return
    language = session.display.language
    wanted = f"{language}:{session.brief.model_dump_json()}"
    if wanted == session.matches_for and not session.matches_failed:
        return
    if not session.brief.fields:
        _forget(session)  # nothing to search on yet: no need to ask
        session.matches_for = wanted
        return
    try:
        found = api.matches(session.access, limit=LIMIT, language=language)
    except NotFound:
        found = None  # the conversation expired: the chat starts a new one on its next send
    except ApiProblem:
        _forget(session)
        session.matches_failed = True
        return
    session.matches = found
    session.matches_for = wanted
    session.matches_failed = False


def _forget(session: ChatSession) -> None:
    session.matches = None
    session.matches_for = None
    session.matches_failed = False


def render(session: ChatSession, language: Language, today: dt.date | None = None) -> None:
    """The heading, the relaxation and market check sentences, the map and one card each."""
    if session.matches_failed:
        st.caption(text(language, "listings_error"))
        return
    found = session.matches
    if found is None:
        return
    language = found.language
    with st.container(key="listings"):
        st.subheader(heading(found, language), anchor=False, divider="gray")
        if not found.complete:
            st.caption(text(language, "listings_preview_note"))
        _sentences(found, language)
        if not found.listings:
            return
        if found.total:  # none fit exactly: the listings are the relaxation's, said above
            shown = len(found.listings)
            st.caption(text(language, "listings_count", shown=shown, total=found.total))
        show_map(map_points(found.listings, language), language)
        drawn = cards(found.listings, language, today or dt.date.today())
        for start in range(0, len(drawn), COLUMNS):
            row = st.columns(COLUMNS)
            for place, one in zip(row, drawn[start : start + COLUMNS], strict=False):
                with place:
                    _card(one, language)


def heading(found: Matches, language: Language) -> str:
    """The section's heading, marked as a preview while the brief is not complete."""
    label = text(language, "listings_title")
    return label if found.complete else f"{label} · {text(language, 'listings_preview')}"


def _sentences(found: Matches, language: Language) -> None:
    """What would fit when nothing does, and how the budget compares with the market."""
    if found.relaxation is not None:
        st.info(verbatim(found.relaxation.text), icon=":material/tune:")
    elif not found.listings:
        st.info(text(language, "listings_none"), icon=":material/search_off:")
    check = found.market_check
    if check is not None and check.text:
        st.markdown(f"**{text(language, 'market_check')}** · {verbatim(check.text)}")


def show_map(points: list[MapPoint], language: Language) -> None:
    """The listings on a map, each pin numbered as its card (tiles come from the internet)."""
    rows = [{"number": str(p.number), "lat": p.lat, "lon": p.lon, "label": p.label} for p in points]
    lat, lon, zoom = view_of(points)
    pins = pdk.Layer(
        "ScatterplotLayer",
        data=rows,
        get_position=["lon", "lat"],
        get_fill_color=[*PIN_COLOR, 230],
        get_line_color=[255, 255, 255],
        line_width_min_pixels=2,
        stroked=True,
        radius_units="'pixels'",  # a string literal, not a pydeck expression
        get_radius=PIN_RADIUS_PX,
        pickable=True,
    )
    numbers = pdk.Layer(
        "TextLayer",
        data=rows,
        get_position=["lon", "lat"],
        get_text="number",
        get_color=[255, 255, 255],
        get_size=13,
        get_alignment_baseline="'center'",
    )
    deck = pdk.Deck(
        layers=[pins, numbers],
        initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom),
        tooltip={"text": "{label}"},
        map_style=None,  # Streamlit's own, light or dark with the theme
    )
    st.pydeck_chart(deck, height=MAP_HEIGHT_PX, key=MAP_KEY)
    st.caption(text(language, "map_caption"))


def view_of(points: list[MapPoint]) -> tuple[float, float, float]:
    """The centre of the pins' bounding box and the zoom that fits it in three quarters of the
    map's height (the narrowest a phone shows it)."""
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    lat = (min(lats) + max(lats)) / 2
    lon = (min(lons) + max(lons)) / 2
    span = max(max(lats) - min(lats), (max(lons) - min(lons)) * math.cos(math.radians(lat)))
    # At zoom z the world's 360° are TILE_PX * 2**z pixels wide.
    zoom = MAX_ZOOM if span <= 0 else math.log2(MAP_HEIGHT_PX * 0.75 * 360 / (TILE_PX * span))
    return lat, lon, round(min(MAX_ZOOM, max(MIN_ZOOM, zoom)), 2)


def _card(card: Card, language: Language) -> None:
    """One listing: title, price, size and price per m², why it fits, amenities, availability,
    its detail and a link to the map."""
    with st.container(border=True, key=f"card_{card.number}"):
        st.markdown(f"**{card.number}. {verbatim(card.title)}**")
        st.markdown(f":green[**{verbatim(card.price)}**]")
        st.caption(f"{verbatim(card.size)} · {verbatim(card.price_per_m2)}")
        if card.reasons:
            st.markdown("\n".join(f"- {verbatim(reason)}" for reason in card.reasons))
        if card.amenities:
            st.caption(
                f"**{text(language, 'card_amenities')}:** "
                + " · ".join(verbatim(amenity) for amenity in card.amenities)
            )
        st.caption(verbatim(card.availability))
        with st.container(horizontal=True):
            if st.button(
                text(language, "card_details"),
                key=f"detail_{card.listing_id}",
                icon=":material/info:",
            ):
                _detail(card.listing_id, language)
            st.link_button(
                text(language, "card_on_map"), card.map_url, icon=":material/map:", type="tertiary"
            )


def _detail(listing_id: str, language: Language) -> None:
    """Open the listing's detail (``GET /v1/listings/{id}``) in a dialog."""
    st.dialog(text(language, "detail_title"), width="medium")(_detail_body)(listing_id, language)


def _detail_body(listing_id: str, language: Language) -> None:
    try:
        with connect(get_ui_settings()) as api:
            listing = api.listing(listing_id)
    except NotFound:
        st.warning(text(language, "detail_gone"), icon=":material/home_work:")
        return
    except (ApiProblem, ValueError) as exc:
        st.error(verbatim(str(exc)), icon=":material/error:")
        return
    show_listing(listing, language)


def show_listing(listing: Listing, language: Language, today: dt.date | None = None) -> None:
    """Every member of a listing in words, and a link to it on OpenStreetMap."""
    st.markdown(f"**{verbatim(title(listing, language))}**")
    for label, value in detail_rows(listing, language, today or dt.date.today()):
        name, words = st.columns([2, 5], gap="small")
        name.caption(verbatim(label))
        words.text(value)
    st.link_button(
        text(language, "card_on_map"), osm_url(listing.lat, listing.lon), icon=":material/map:"
    )
