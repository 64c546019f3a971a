"""The Streamlit app in Debian's chromium: the real app process (``streamlit run``) against a
real API, driven by Playwright."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from livesupport import Serve, Server, settings_for_tests
from realty.launch import ui_command

START_TIMEOUT_S = 90
STEP_MS = 20_000
FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."
ATTACKS = ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>")

Shot = Callable[[Page, str], Path]


def app_command(port: int) -> list[str]:
    """How `realty run` starts the app (headless, no usage statistics, no file watcher, no
    developer toolbar)."""
    return ui_command("127.0.0.1", port)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def running_app(api: Server, tmp_path: Path) -> Iterator[str]:
    """The app in its own process, pointed at ``api``; stopped on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALTY_UI_")}
    env.update({"REALTY_UI_API_URL": api.url, "HOME": str(tmp_path)})
    log = (tmp_path / "app.log").open("wb")
    process = subprocess.Popen(app_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, tmp_path / "app.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def app_url(api: Server, tmp_path: Path) -> Iterator[str]:
    """The app against ``api`` (an empty catalog)."""
    with running_app(api, tmp_path) as url:
        yield url


@pytest.fixture
def catalog_app_url(serve: Serve, tmp_path: Path) -> Iterator[str]:
    """The app against an API whose empty catalog is seeded at start-up."""
    database = f"sqlite:///{tmp_path / 'realty.db'}"
    api = serve(
        settings_for_tests(tmp_path, database, catalog_seed_if_empty=True, catalog_seed_count=3000)
    )
    with running_app(api, tmp_path) as url:
        yield url


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the app did not answer in {START_TIMEOUT_S} s: {log.read_text()[-2000:]}")


def settle(page: Page) -> None:
    """Wait until the app has finished its run (the status widget is gone) and drawn."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=STEP_MS)
    page.wait_for_timeout(800)  # transitions (the progress bar) end


def send(page: Page, message: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_editable(timeout=STEP_MS)
    box.fill(message)
    box.press("Enter")


def user_bubble(page: Page, message: str) -> Locator:
    return page.get_by_test_id("stChatMessage").filter(has_text=message)


def seed(api: Server) -> None:
    """A few conversations: two complete briefs (one confirmed), a blocked message, one idle."""
    scripts = [
        [FIRST, SECOND],
        ["Busco una bodega en Monterrey", "   ", "50 mil pesos al mes, 1200 m2"],
        ["Need retail space in Guadalajara, 300 m2", "budget 5,000 USD a month"],
        ["hola"],
    ]
    with api.client() as http:
        for number, texts in enumerate(scripts):
            opened = http.post("/v1/conversations", json={}).json()
            auth = {"authorization": f"Bearer {opened['token']}"}
            path = f"/v1/conversations/{opened['id']}"
            for text in texts:
                http.post(f"{path}/messages", json={"text": text}, headers=auth)
            if number == 0:
                http.post(f"{path}/confirm", headers=auth)


def canonical(page: Page, url: str) -> None:
    """The README's two turns, up to the summary."""
    page.goto(url)
    expect(page.get_by_text("Hi! I can help you find")).to_be_visible(timeout=STEP_MS)
    send(page, FIRST)
    expect(page.get_by_text("Got it: office in Mexico City.")).to_be_visible(timeout=STEP_MS)
    send(page, SECOND)
    expect(page.get_by_text("Here is your brief: office in Mexico City")).to_be_visible(
        timeout=STEP_MS
    )


def test_the_canonical_conversation_fills_the_sidebar(
    app_url: str, page: Page, shot: Shot, page_dialogs: list[str]
) -> None:
    canonical(page, app_url)

    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("4 of 4 details")).to_be_visible()
    for value in ("office", "Mexico City", "20,000 USD", "500 m²"):
        expect(sidebar.get_by_text(value, exact=True)).to_be_visible()
    expect(sidebar.get_by_text("office in Mexico City, budget 20,000 USD, 500 m²")).to_be_visible()
    expect(sidebar.get_by_role("button", name="Confirm")).to_be_visible()
    assert "c=" in page.url
    settle(page)
    shot(page, "app_chat_brief")
    assert page_dialogs == []


def test_markup_in_a_message_is_shown_literally_and_runs_nothing(
    app_url: str, page: Page, shot: Shot, page_dialogs: list[str]
) -> None:
    page.goto(app_url)
    expect(page.get_by_text("Hi! I can help you find")).to_be_visible(timeout=STEP_MS)

    for attack in ATTACKS:
        send(page, attack)
        expect(user_bubble(page, attack).get_by_text(attack, exact=True)).to_be_visible(
            timeout=STEP_MS
        )
    settle(page)
    page.wait_for_timeout(500)  # any injected handler would have fired by now

    assert page_dialogs == []
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.locator("img[src='x']")).to_have_count(0)
    expect(messages.locator("script")).to_have_count(0)
    shot(page, "app_xss_literal")


def test_the_dashboard_draws_its_charts_after_the_staff_key(
    api: Server, app_url: str, page: Page, shot: Shot, page_dialogs: list[str]
) -> None:
    seed(api)
    page.goto(f"{app_url}/dashboard")
    key = page.get_by_label("Staff key", exact=True)
    expect(key).to_be_visible(timeout=STEP_MS)
    assert key.get_attribute("type") == "password"

    key.fill("staff-key")
    page.get_by_role("button", name="Sign in").click()

    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(9, timeout=STEP_MS)
    for index in range(8):
        drawn = charts.nth(index).locator("canvas, svg.marks")
        expect(drawn.first).to_be_visible(timeout=STEP_MS)
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    settle(page)
    # The app scrolls inside its main area: a viewport as tall as the page shows all of it.
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(900, int(height))})
    settle(page)
    shot(page, "app_dashboard")
    assert page_dialogs == []


def test_listings_that_fit_show_under_the_chat_as_cards_with_a_map(
    catalog_app_url: str, page: Page, shot: Shot, page_dialogs: list[str]
) -> None:
    canonical(page, catalog_app_url)

    listings = page.locator(".st-key-listings")
    expect(listings.get_by_role("heading", name="Listings that fit")).to_be_visible(timeout=STEP_MS)
    cards = listings.locator("[class*='st-key-card_']")
    expect(cards).to_have_count(6)
    expect(cards.first).to_contain_text("1. Office · ")
    expect(cards.first).to_contain_text("USD a month")
    expect(cards.first.get_by_role("button", name="Details")).to_be_visible()
    osm = cards.first.get_by_role("link", name="OpenStreetMap")
    expect(osm).to_have_attribute("href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat="))
    expect(listings.get_by_test_id("stDeckGlJsonChart")).to_be_visible()

    cards.first.get_by_role("button", name="Details").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Listing id")).to_be_visible(timeout=STEP_MS)
    expect(dialog.get_by_text("Coordinates")).to_be_visible()
    settle(page)
    shot(page, "app_listing_detail")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    # The chat scrolls inside its own area: a viewport as tall as it shows all of it.
    area = page.get_by_test_id("stAppScrollToBottomContainer")
    height = area.evaluate("main => main.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(900, int(height))})
    settle(page)
    shot(page, "app_listings")
    assert page_dialogs == []
