"""``GET /widget``: the static page, its script and stylesheet, and their security headers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from livesupport import Serve, Server
from realty.domain.brief import PROPERTY_KINDS
from realty.domain.listing import AMENITY_KEYS
from realty.settings import Settings

# The folder's ``make_settings`` fixture (its type is restated here: importing ``conftest`` by
# name is ambiguous when the browser tests' conftest is collected in the same run).
MakeSettings = Callable[..., Settings]

ASSETS = [
    ("/widget", "text/html; charset=utf-8"),
    ("/widget/widget.js", "text/javascript; charset=utf-8"),
    ("/widget/widget.css", "text/css; charset=utf-8"),
]


@pytest.fixture
def widget_server(serve: Serve, make_settings: MakeSettings, sqlite_url: str) -> Server:
    """The API (which serves the widget) over a fresh SQLite file, on the default settings."""
    return serve(make_settings(sqlite_url))


def directives(header: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}."""
    pairs = (part.strip().split(" ", 1) for part in header.split(";"))
    return {name: sources for name, sources in pairs}


@pytest.mark.parametrize(("path", "content_type"), ASSETS)
def test_every_widget_file_is_served_with_a_strict_policy(
    path: str, content_type: str, widget_server: Server
) -> None:
    with widget_server.client() as http:
        response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert directives(response.headers["content-security-policy"]) == {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "connect-src": "'self'",
        "img-src": "'self' data:",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "*",
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])


@pytest.mark.parametrize(("path", "content_type"), ASSETS)
def test_an_unchanged_file_is_revalidated_without_its_body(
    path: str, content_type: str, widget_server: Server
) -> None:
    with widget_server.client() as http:
        etag = http.get(path).headers["etag"]
        unchanged = http.get(path, headers={"If-None-Match": etag})
        among_others = http.get(path, headers={"If-None-Match": f'"0123", W/{etag}'})
        changed = http.get(path, headers={"If-None-Match": '"0123456789abcdef"'})
        prefix = http.get(path, headers={"If-None-Match": etag[:-5] + '"'})
    for answer in (unchanged, among_others):
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == etag
        assert "frame-ancestors" in answer.headers["content-security-policy"]
    for answer in (changed, prefix):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == content_type
        assert answer.content


def test_who_may_embed_the_widget_follows_the_setting(
    serve: Serve, make_settings: MakeSettings, sqlite_url: str
) -> None:
    site = "https://listings.example.com"
    server = serve(make_settings(sqlite_url, widget_frame_ancestors=site))
    with server.client() as http:
        policies = [http.get(path).headers["content-security-policy"] for path, _ in ASSETS]
    for policy in policies:
        assert directives(policy)["frame-ancestors"] == site
        assert directives(policy)["connect-src"] == "'self'"


def test_several_sites_may_be_allowed_to_embed_it(
    serve: Serve, make_settings: MakeSettings, sqlite_url: str
) -> None:
    sites = "'self' https://listings.example.com https://*.example.org"
    server = serve(make_settings(sqlite_url, widget_frame_ancestors=sites))
    with server.client() as http:
        policy = http.get("/widget").headers["content-security-policy"]
    assert policy.endswith(f"; frame-ancestors {sites}")


def test_the_page_has_no_inline_code_and_loads_its_files_relatively(
    widget_server: Server,
) -> None:
    """Inline scripts, styles or handlers would be refused by the policy (and are a risk);
    relative paths keep the widget working under a path prefix."""
    with widget_server.client() as http:
        page = http.get("/widget").text
    assert re.findall(r"<script[^>]*>", page) == ['<script src="widget/widget.js">']
    assert "<style" not in page
    assert "style=" not in page
    assert not re.search(r"\son[a-z]+=", page)
    assert "javascript:" not in page
    assert '<link rel="stylesheet" href="widget/widget.css">' in page


def test_the_page_is_accessible_by_construction(widget_server: Server) -> None:
    with widget_server.client() as http:
        page = http.get("/widget").text
    assert re.search(r'<div [^>]*id="log"[^>]*role="log"[^>]*aria-live="polite"', page)
    assert '<label for="input"' in page
    assert '<textarea id="input"' in page
    assert '<meta name="viewport"' in page


# The only other origins the files name: the SVG namespace (an identifier, never fetched) and
# OpenStreetMap, where a card's map link goes (a navigation in a new tab, not a load).
NAMED_ORIGINS = {"http://www.w3.org/", "https://www.openstreetmap.org/"}


def test_nothing_is_loaded_from_another_origin(widget_server: Server) -> None:
    with widget_server.client() as http:
        texts = {path: http.get(path).text for path, _ in ASSETS}
    for path, text in texts.items():
        named = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text))
        assert named == (NAMED_ORIGINS if path.endswith(".js") else set()), path
        assert "@import" not in text
    script = texts["/widget/widget.js"]
    assert script.count("http://www.w3.org/") == 1
    assert 'const SVG_NS = "http://www.w3.org/2000/svg";' in script
    assert script.count("https://www.openstreetmap.org/") == 1
    assert 'link.rel = "noopener";' in script


def test_the_script_never_parses_text_as_markup(widget_server: Server) -> None:
    """A static check: text reaches the page through textContent only."""
    with widget_server.client() as http:
        script = http.get("/widget/widget.js").text
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "createContextualFragment",
        "DOMParser",
        'setTimeout("',
        'setInterval("',
    ):
        assert forbidden not in script, forbidden
    assert "textContent" in script
    assert '"use strict";' in script


def test_an_unknown_widget_file_is_not_found(widget_server: Server) -> None:
    with widget_server.client() as http:
        assert http.get("/widget/other.js").status_code == 404
        assert http.get("/widget/__init__.py").status_code == 404


def test_the_widget_is_not_part_of_the_api_schema(widget_server: Server) -> None:
    with widget_server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/widget")]


def test_the_script_has_words_for_every_kind_and_amenity_in_both_languages(
    widget_server: Server,
) -> None:
    with widget_server.client() as http:
        script = http.get("/widget/widget.js").text
    for language in ("en", "es"):
        labels = script.split(f"\n    {language}: {{", 1)[1].split("\n    },", 1)[0]
        kinds = labels.split("kinds: {", 1)[1].split("}", 1)[0]
        amenities = labels.split("amenities: {", 1)[1].split("\n      },", 1)[0]
        assert set(re.findall(r"\b([a-z_]+):", kinds)) == set(PROPERTY_KINDS) - {"other"}
        assert set(re.findall(r"^\s+([a-z_0-9]+): ", amenities, re.M)) == set(AMENITY_KEYS)
