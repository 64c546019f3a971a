"""The embeddable widget in Debian's chromium: the canonical example, reconnects, reloads,
Spanish, markup shown as text, and a page that keeps to its Content-Security-Policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, WebSocketRoute, expect

from livesupport import Serve, Server, settings_for_tests

FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."
Shot = Callable[[Page, str], Path]


def stored(page: Page) -> dict[str, str]:
    """The conversation the widget keeps in localStorage."""
    raw = page.evaluate("() => window.localStorage.getItem('realty.widget.v1')")
    conversation: dict[str, str] = json.loads(raw)
    return conversation


def send(page: Page, text: str) -> None:
    page.get_by_role("textbox").fill(text)
    page.get_by_role("textbox").press("Enter")


def bubbles(page: Page, who: str) -> list[str]:
    texts: list[str] = page.locator(f"#log .message.{who}").all_text_contents()
    return texts


def open_widget(page: Page, api: Server, query: str = "?lang=en") -> Any:
    response = page.goto(f"{api.url}/widget{query}")
    expect(page.locator("#status")).to_have_text("online" if "en" in query else "en línea")
    return response


def test_the_canonical_example_in_two_turns(page: Page, api: Server, shot: Shot) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    response = open_widget(page, api)
    assert "frame-ancestors" in response.headers["content-security-policy"]
    expect(page.locator("#log .message.bot").first).to_contain_text("Hi!")
    expect(page.locator("#progress-text")).to_have_text("0/4")

    send(page, FIRST)
    bot = page.locator("#log .message.bot")
    expect(bot).to_have_count(2)
    expect(bot.nth(1)).to_contain_text("budget (amount and currency) and the total size")
    chips = page.locator("#chips .chip")
    expect(chips).to_have_text(
        ["property type: office", "city: Mexico City", "budget", "total size"]
    )
    expect(page.locator("#progress-text")).to_have_text("2/4")

    send(page, SECOND)
    expect(bot).to_have_count(3)
    expect(bot.nth(2)).to_contain_text(
        "Here is your brief: office in Mexico City, budget 20,000 USD, 500 m²"
    )
    expect(page.locator("#progress-text")).to_have_text("4/4")
    expect(chips).to_have_text(
        [
            "property type: office",
            "city: Mexico City",
            "budget: 20,000 USD",
            "total size: 500 m²",
        ]
    )
    assert bubbles(page, "user") == [FIRST, SECOND]
    expect(page.locator("#log .pending")).to_have_count(0)
    shot(page, "widget_canonical")
    assert problems == []  # no CSP violation, no script error


def test_a_dropped_connection_loses_and_duplicates_nothing(page: Page, api: Server) -> None:
    """The socket is cut by the network; meanwhile a message arrives over HTTP and one is typed
    in the widget. After the reconnect each message and reply is there exactly once."""
    sockets: list[WebSocketRoute] = []
    network = {"up": True}

    def relay(route: WebSocketRoute) -> None:
        if not network["up"]:
            route.close(code=1011)  # the connection fails at once
            return
        route.connect_to_server()
        sockets.append(route)

    page.route_web_socket("**/ws?*", relay)
    open_widget(page, api)
    send(page, FIRST)
    expect(page.locator("#log .message.bot")).to_have_count(2)
    conversation = stored(page)

    network["up"] = False
    sockets[-1].close(code=1001)  # cut the live connection
    expect(page.locator("#status")).to_have_text("reconnecting…")
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    sent = httpx.post(
        f"{api.url}/v1/conversations/{conversation['id']}/messages",
        json={"text": "My budget is 20,000 USD a month."},
        headers=headers,
    )
    assert sent.status_code == 200
    send(page, "About 500 m².")  # typed while offline: queued
    expect(page.locator("#log .message.user.pending")).to_have_count(1)

    network["up"] = True
    expect(page.locator("#status")).to_have_text("online", timeout=20_000)
    expect(page.locator("#log .message.bot")).to_have_count(4)
    expect(page.locator("#log .pending")).to_have_count(0)
    users = bubbles(page, "user")
    assert users.count("My budget is 20,000 USD a month.") == 1
    assert users.count("About 500 m².") == 1
    assert len(users) == 3
    expect(page.locator("#progress-text")).to_have_text("4/4")
    history = httpx.get(f"{api.url}/v1/conversations/{conversation['id']}", headers=headers).json()[
        "history"
    ]
    assert [h["text"] for h in history if h["kind"] == "message"] == [
        FIRST,
        "My budget is 20,000 USD a month.",
        "About 500 m².",
    ]
    bots = bubbles(page, "bot")
    assert bots == [h["reply"] for h in history]


def test_a_reload_resumes_the_whole_conversation_once(page: Page, api: Server) -> None:
    open_widget(page, api)
    send(page, FIRST)
    send(page, SECOND)
    expect(page.locator("#log .message.bot")).to_have_count(3)
    before = (bubbles(page, "user"), bubbles(page, "bot"))
    page.reload()
    expect(page.locator("#status")).to_have_text("online")
    expect(page.locator("#log .message.bot")).to_have_count(3)
    assert (bubbles(page, "user"), bubbles(page, "bot")) == before
    expect(page.locator("#progress-text")).to_have_text("4/4")
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#log .message.bot")).to_have_count(1)
    assert bubbles(page, "user") == []
    expect(page.locator("#progress-text")).to_have_text("0/4")


def test_markup_in_messages_is_shown_literally_and_runs_nothing(
    page: Page, api: Server, page_dialogs: list[str], shot: Shot
) -> None:
    attacks = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]
    open_widget(page, api)
    for n, attack in enumerate(attacks, start=1):
        send(page, attack)
        expect(page.locator("#log .message.bot")).to_have_count(1 + n)
    assert bubbles(page, "user") == attacks
    assert page.locator("#log img, #log script").count() == 0
    page.reload()  # rendered again from the stored history: still text
    expect(page.locator("#log .message.user")).to_have_count(2)
    assert bubbles(page, "user") == attacks
    assert page.locator("#log img, #log script").count() == 0
    assert page_dialogs == []
    shot(page, "widget_xss")


def test_spanish_and_the_language_switch(page: Page, api: Server) -> None:
    open_widget(page, api, "?lang=es")
    expect(page.locator("#log .message.bot").first).to_contain_text("¡Hola!")
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    expect(page.get_by_role("textbox")).to_have_attribute("placeholder", "Escribe tu mensaje…")
    send(page, "Busco una oficina en Guadalajara.")
    expect(page.locator("#log .message.bot")).to_have_count(2)
    expect(page.locator("#chips .chip").first).to_have_text("tipo de inmueble: oficina")

    page.get_by_role("button", name="English").click()
    expect(page.locator("#log .note")).to_have_text(["You edited your brief."])
    expect(page.locator("#log .message.bot").last).to_contain_text("What is your budget")
    expect(page.locator("#chips .chip").first).to_have_text("property type: office")
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_an_over_long_message_is_refused_politely_and_kept_for_editing(
    page: Page, serve: Serve, tmp_path: Path
) -> None:
    api = serve(
        settings_for_tests(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", max_message_chars=40)
    )
    open_widget(page, api)
    long = "I need an office in Mexico City with lots and lots of parking."
    send(page, long)
    expect(page.locator("#log .notice")).to_have_text(
        ["Your message is too long (the limit is 40 characters). Please shorten it."]
    )
    expect(page.get_by_role("textbox")).to_have_value(long)
    assert bubbles(page, "user") == []
