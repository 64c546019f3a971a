"""Browser tests: Debian's chromium driven by Playwright against real servers.

* ``browser``: one headless chromium per test module, launched from the system binary
  (``REALTY_TEST_CHROMIUM`` or ``chromium`` on PATH; ``make test`` installs Debian's package
  when it is missing). Playwright never downloads a browser here.
* ``page``: a fresh browser context per test; every JavaScript dialog (``alert``…) is recorded
  in ``page_dialogs`` and dismissed, so a test can assert that injected markup ran nothing.
* ``api``: the API under uvicorn over a SQLite file (parser only, staff key ``staff-key``).
* ``shot(page, name)``: saves a full-page screenshot under ``artifacts/screenshots``
  (``REALTY_ARTIFACTS_DIR`` to change) and returns its path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from livesupport import Serve, Server, serving, settings_for_tests
from realty.pipeline.parse import Parser

ROOT = Path(__file__).resolve().parents[2]
# Chromium on a machine without network or display: no sandbox as root, no GPU, and none of
# the background connections (updates, sync) that a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system chromium binary (fails the test run with the fix when it is missing)."""
    configured = os.environ.get("REALTY_TEST_CHROMIUM")
    found = configured or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        pytest.fail(
            "Debian's chromium is not installed: `make test` installs it "
            "(apt-get install chromium), or set REALTY_TEST_CHROMIUM to a chromium binary"
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium per test module.

    Not per session: Playwright's synchronous API keeps an event loop running in the main
    thread while it is open, and later asyncio tests could not start theirs.
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page_dialogs() -> list[str]:
    """Messages of the JavaScript dialogs the page opened (an XSS would show up here)."""
    return []


@pytest.fixture
def page(browser: Browser, page_dialogs: list[str]) -> Iterator[Page]:
    """A fresh context and page, 1280×900, English locale."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    opened = context.new_page()

    def dismiss(dialog: object) -> None:
        page_dialogs.append(getattr(dialog, "message", ""))
        dialog.dismiss()  # type: ignore[attr-defined]

    opened.on("dialog", dismiss)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def serve(parser: Parser) -> Iterator[Serve]:
    """Start API servers; every one is stopped after the test."""
    with serving(parser) as start:
        yield start


@pytest.fixture
def api(serve: Serve, tmp_path: Path) -> Server:
    """The API over a fresh SQLite file (parser only; staff key ``staff-key``)."""
    return serve(settings_for_tests(tmp_path, f"sqlite:///{tmp_path / 'realty.db'}"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (created on demand)."""
    folder = Path(os.environ.get("REALTY_ARTIFACTS_DIR", ROOT / "artifacts")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(artifacts: Path) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot named ``name``.png and return its path."""

    def take(target: Page, name: str) -> Path:
        path = artifacts / f"{name}.png"
        target.screenshot(path=str(path), full_page=True)
        return path

    return take
