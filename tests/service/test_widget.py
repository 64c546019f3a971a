"""``GET /widget``: the static page, its script and stylesheet, and their security headers."""

from __future__ import annotations

import re

import pytest

from conftest import MakeSettings, Serve

ASSETS = [
    ("/widget", "text/html; charset=utf-8"),
    ("/widget/widget.js", "text/javascript; charset=utf-8"),
    ("/widget/widget.css", "text/css; charset=utf-8"),
]


@pytest.mark.parametrize(("path", "content_type"), ASSETS)
def test_every_widget_file_is_served_with_a_strict_policy(
    path: str, content_type: str, sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy == {
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


def test_who_may_embed_the_widget_follows_the_setting(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    sites = "https://listings.example.com https://*.example.org"
    server = serve(make_settings(sqlite_url, widget_frame_ancestors=sites))
    with server.client() as http:
        policy = http.get("/widget").headers["content-security-policy"]
    assert policy.endswith(f"frame-ancestors {sites}")


def test_the_page_has_no_inline_code_and_loads_its_files_relatively(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """Inline scripts, styles or handlers would be refused by the policy (and are a risk);
    relative paths keep the widget working under a path prefix."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        page = http.get("/widget").text
    assert re.findall(r"<script[^>]*>", page) == ['<script src="widget/widget.js">']
    assert "<style" not in page
    assert "style=" not in page
    assert not re.search(r"\son[a-z]+=", page)
    assert 'href="widget/widget.css"' in page


def test_the_script_never_parses_text_as_markup(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        script = http.get("/widget/widget.js").text
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert forbidden not in script
    assert "textContent" in script
    assert '"use strict"' in script


def test_the_widget_is_not_part_of_the_api_schema(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/widget")]
