"""The embeddable widget in Debian's chromium against a real API server: the canonical example,
typing, reconnects, reloads, refusals, markup shown as text, Spanish, the
Content-Security-Policy in force, and the widget framed by another site."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    ConsoleMessage,
    Error,
    Frame,
    Locator,
    Page,
    Response,
    ViewportSize,
    WebSocketRoute,
    expect,
)

from livesupport import Serve, Server, http_server, settings_for_tests
from realty.llm.base import LLMRequest
from realty.llm.fake import FunctionLLM

FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."
GREETING = "Hi!"
SUMMARY = "Here is your brief: office in Mexico City, budget 20,000 USD, 500 m²"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors *"
)
# The size of the iframe a listing site gives the widget.
FRAME: ViewportSize = {"width": 400, "height": 720}
Shot = Callable[[Page, str], Path]
Transcript = list[tuple[str, str]]


def stored(page: Page) -> dict[str, str]:
    """The conversation the widget keeps in localStorage."""
    raw = page.evaluate("() => window.localStorage.getItem('realty.widget.v1')")
    conversation: dict[str, str] = json.loads(raw)
    return conversation


def send(target: Page | Frame, text: str) -> None:
    box = target.get_by_role("textbox")
    box.fill(text)
    box.press("Enter")


def transcript(target: Page | Frame) -> Transcript:
    """Every bubble in the log, in order: ("user" | "bot", its text)."""
    rows: list[list[str]] = target.evaluate(
        """() => Array.from(document.querySelectorAll('#log > .message'), (e) => [
               e.classList.contains('user') ? 'user' : 'bot',
               e.querySelector('.text').textContent])"""
    )
    return [(who, text) for who, text in rows]


def history(api: Server, conversation: dict[str, str]) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{api.url}/v1/conversations/{conversation['id']}",
        headers={"Authorization": f"Bearer {conversation['token']}"},
    )
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["history"]
    return entries


def as_transcript(entries: list[dict[str, Any]]) -> Transcript:
    """What the log should show for these history entries (messages and replies)."""
    rows: Transcript = []
    for entry in entries:
        if entry["kind"] == "message":
            rows.append(("user", entry["text"]))
        rows.append(("bot", entry["reply"]))
    return rows


def open_widget(page: Page, api: Server, query: str = "?lang=en") -> Response:
    response = page.goto(f"{api.url}/widget{query}")
    assert response is not None
    expect(page.locator("#status")).to_have_text("en línea" if "es" in query else "online")
    return response


def bots(target: Page | Frame) -> Locator:
    return target.locator("#log .message.bot")


def test_the_canonical_example_in_two_turns(page: Page, api: Server, shot: Shot) -> None:
    page.set_viewport_size(FRAME)
    open_widget(page, api)
    expect(bots(page).first).to_contain_text(GREETING)
    expect(page.locator("#progress-text")).to_have_text("0/4")

    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    expect(bots(page).nth(1)).to_contain_text("budget (amount and currency) and the total size")
    chips = page.locator("#chips .chip")
    expect(chips).to_have_text(
        ["property type: office", "city: Mexico City", "budget", "total size"]
    )
    expect(page.locator("#chips .chip.missing")).to_have_text(["budget", "total size"])
    expect(page.locator("#progress-text")).to_have_text("2/4")

    send(page, SECOND)
    expect(bots(page)).to_have_count(3)
    expect(bots(page).nth(2)).to_contain_text(SUMMARY)
    expect(page.locator("#progress-text")).to_have_text("4/4")
    expect(chips).to_have_text(
        ["property type: office", "city: Mexico City", "budget: 20,000 USD", "total size: 500 m²"]
    )
    expect(page.locator("#chips .chip.missing")).to_have_count(0)
    expect(page.locator("#log .pending")).to_have_count(0)
    assert [who for who, _ in transcript(page)] == ["bot", "user", "bot", "user", "bot"]
    assert transcript(page) == as_transcript(history(api, stored(page)))
    # Fits the frame: nothing wider than 400 px, so no sideways scrolling.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= FRAME["width"]
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    shot(page, "widget_canonical")


def test_typing_shows_until_the_reply_arrives(page: Page, api: Server) -> None:
    """The server's frames pass through the test, which holds the reply back for a moment."""
    routes: list[WebSocketRoute] = []
    held: list[str | bytes] = []
    holding = {"on": False}

    def relay(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        routes.append(route)

        def from_server(message: str | bytes) -> None:
            if holding["on"] and json.loads(message).get("type") == "reply":
                held.append(message)
            else:
                route.send(message)

        server.on_message(from_server)

    page.route_web_socket("**/ws?*", relay)
    open_widget(page, api)
    typing = page.locator("#typing")
    expect(typing).to_be_hidden()
    holding["on"] = True
    send(page, FIRST)
    expect(typing).to_be_visible()
    expect(typing).to_have_text("Typing…")
    expect(page.locator("#log .message.user.pending .text")).to_have_text([FIRST])
    for _ in range(250):  # the reply reaches the relay just after the typing event
        if held:
            break
        page.wait_for_timeout(20)
    assert len(held) == 1
    expect(typing).to_be_visible()  # still: its reply has not arrived
    routes[-1].send(held[0])
    expect(typing).to_be_hidden()
    expect(bots(page)).to_have_count(2)
    expect(page.locator("#log .pending")).to_have_count(0)
    assert transcript(page)[1] == ("user", FIRST)
    assert "budget" in transcript(page)[2][1]


def test_what_the_model_reads_after_the_reply_joins_the_chat_and_the_chips(
    page: Page, serve: Serve, tmp_path: Path
) -> None:
    async def slow(request: LLMRequest) -> dict[str, Any]:
        await asyncio.sleep(1.0)  # well past the reply deadline below
        extra = {"key": "rooftop_terrace", "value": True, "type": "bool"}
        return {"extras": [{**extra, "evidence": "rooftop terrace"}]}

    settings = settings_for_tests(
        tmp_path, f"sqlite:///{tmp_path / 'realty.db'}", llm_reply_deadline_ms=50
    )
    api = serve(settings, llm=FunctionLLM(slow))
    open_widget(page, api)
    typing = page.locator("#typing")
    send(page, "I need an office in Monterrey with a rooftop terrace")

    # The reply did not wait for the model; the hint says it is still reading.
    expect(bots(page)).to_have_count(2)
    expect(typing).to_have_text("Still reading the rest of your message…")
    expect(page.locator("#chips")).not_to_contain_text("rooftop")

    expect(bots(page).last.locator(".text")).to_have_text(
        "Also noted: rooftop terrace.", timeout=10_000
    )
    expect(typing).to_be_hidden()
    expect(page.locator("#chips")).to_contain_text("rooftop terrace")


def test_a_dropped_connection_loses_and_duplicates_nothing(page: Page, api: Server) -> None:
    """The socket is cut by the network; meanwhile a message arrives over HTTP and one is typed
    in the widget. After the reconnect each message and reply is there exactly once, in order."""
    sockets: list[WebSocketRoute] = []
    network = {"up": True}

    def relay(route: WebSocketRoute) -> None:
        if not network["up"]:
            route.close(code=1011)  # the connection fails at once
            return
        route.connect_to_server()
        sockets.append(route)
        urls.append(route.url)

    urls: list[str] = []
    page.route_web_socket("**/ws?*", relay)
    open_widget(page, api)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    conversation = stored(page)

    network["up"] = False
    sockets[-1].close(code=1001)  # cut the live connection
    expect(page.locator("#status")).to_have_text("reconnecting…")
    elsewhere = "My budget is 20,000 USD a month."
    sent = httpx.post(
        f"{api.url}/v1/conversations/{conversation['id']}/messages",
        json={"text": elsewhere},
        headers={"Authorization": f"Bearer {conversation['token']}"},
    )
    assert sent.status_code == 200
    typed = "About 500 m²."
    send(page, typed)  # typed while offline: shown at once, queued
    expect(page.locator("#log .message.user.pending .text")).to_have_text([typed])

    network["up"] = True
    expect(page.locator("#status")).to_have_text("online", timeout=20_000)
    expect(bots(page)).to_have_count(4)
    expect(page.locator("#log .pending")).to_have_count(0)
    expect(page.locator("#progress-text")).to_have_text("4/4")
    entries = history(api, conversation)
    assert [e["text"] for e in entries if e["kind"] == "message"] == [FIRST, elsewhere, typed]
    shown = transcript(page)
    assert shown == as_transcript(entries)
    for text in (FIRST, elsewhere, typed):
        assert shown.count(("user", text)) == 1
    # It came back asking only for what it had not seen (everything after the first reply).
    assert len(sockets) == 2
    assert urls[1].endswith(f"/ws?after={entries[1]['seq']}")


def test_the_token_goes_in_the_first_frame_never_in_the_url(page: Page, api: Server) -> None:
    """A URL ends up in access logs; a frame does not. Every socket, the first and the one
    after a reconnect, opens with the auth frame and carries the token nowhere else."""
    routes: list[WebSocketRoute] = []
    sent: list[list[str]] = []

    def relay(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        frames: list[str] = []
        routes.append(route)
        sent.append(frames)

        def from_page(message: str | bytes) -> None:
            frames.append(message if isinstance(message, str) else message.decode())
            server.send(message)

        route.on_message(from_page)

    page.route_web_socket("**/ws?*", relay)
    open_widget(page, api)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    routes[-1].close(code=1001)  # the connection drops; the widget reconnects
    expect(page.locator("#status")).to_have_text("reconnecting…")
    expect(page.locator("#status")).to_have_text("online", timeout=20_000)
    send(page, SECOND)
    expect(bots(page)).to_have_count(3)
    token = stored(page)["token"]
    assert len(routes) == 2
    for route, frames in zip(routes, sent, strict=True):
        assert "token" not in route.url
        assert json.loads(frames[0]) == {"type": "auth", "token": token}
        assert all(token not in frame for frame in frames[1:])
    assert json.loads(sent[1][1])["text"] == SECOND


def test_a_reload_resumes_the_whole_conversation_once(page: Page, api: Server) -> None:
    open_widget(page, api)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    send(page, SECOND)
    expect(bots(page)).to_have_count(3)
    page.get_by_role("button", name="Español").click()  # an `edit` entry: a note
    expect(bots(page)).to_have_count(4)
    expect(page.locator("#log .note")).to_have_count(1)
    before = transcript(page)
    conversation = stored(page)

    page.reload()
    # The conversation is Spanish now, so the widget is too, whatever ?lang says.
    expect(page.locator("#status")).to_have_text("en línea")
    expect(bots(page)).to_have_count(4)
    assert transcript(page) == before
    assert transcript(page) == as_transcript(history(api, conversation))
    expect(page.locator("#log .note")).to_have_text(["Editaste tu búsqueda."])
    expect(page.locator("#progress-text")).to_have_text("4/4")
    expect(page.locator("#chips .chip").first).to_have_text("tipo de inmueble: oficina")

    page.get_by_role("button", name="Nueva conversación").click()
    expect(bots(page)).to_have_count(1)
    assert [who for who, _ in transcript(page)] == ["bot"]
    expect(page.locator("#progress-text")).to_have_text("0/4")
    expect(page.locator("#log .note")).to_have_count(0)
    assert stored(page)["id"] != conversation["id"]


def test_a_conversation_that_is_gone_is_replaced(page: Page, api: Server) -> None:
    open_widget(page, api)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    conversation = stored(page)
    erased = httpx.delete(
        f"{api.url}/v1/conversations/{conversation['id']}",
        headers={"Authorization": f"Bearer {conversation['token']}"},
    )
    assert erased.status_code == 204
    gone = "That conversation has ended; here is a new one."
    expect(page.locator("#log .notice")).to_have_text([gone])  # erased: close 4410
    expect(bots(page)).to_have_count(1)
    expect(page.locator("#status")).to_have_text("online")
    assert transcript(page)[0][0] == "bot"
    assert stored(page)["id"] != conversation["id"]

    page.evaluate(
        """() => window.localStorage.setItem('realty.widget.v1',
                                             JSON.stringify({id: 'expired', token: 'old'}))"""
    )
    page.reload()  # the stored conversation answers 404
    expect(page.locator("#status")).to_have_text("online")
    expect(page.locator("#log .notice")).to_have_text([gone])
    expect(bots(page)).to_have_count(1)
    assert stored(page)["id"] != "expired"


def test_markup_in_messages_is_shown_literally_and_runs_nothing(
    page: Page, api: Server, page_dialogs: list[str], shot: Shot
) -> None:
    page.set_viewport_size(FRAME)
    attacks = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]
    open_widget(page, api)
    for n, attack in enumerate(attacks, start=1):
        send(page, attack)
        expect(bots(page)).to_have_count(1 + n)
    assert [text for who, text in transcript(page) if who == "user"] == attacks
    assert page.locator("#log img, #log script").count() == 0
    page.reload()  # rendered again from the stored history: still text
    expect(page.locator("#log .message.user")).to_have_count(2)
    assert [text for who, text in transcript(page) if who == "user"] == attacks
    assert page.locator("#log img, #log script").count() == 0
    assert page.locator("img").count() == 0
    assert page_dialogs == []
    shot(page, "widget_xss")


def test_spanish_and_the_language_switch(page: Page, api: Server) -> None:
    open_widget(page, api, "?lang=es")
    expect(bots(page).first).to_contain_text("¡Hola!")
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    expect(page.get_by_role("button", name="Nueva conversación")).to_be_visible()
    expect(page.get_by_role("textbox", name="Mensaje")).to_have_attribute(
        "placeholder", "Escribe tu mensaje…"
    )
    expect(page.get_by_role("heading", name="Tu búsqueda")).to_be_visible()
    assert page.evaluate("() => document.documentElement.lang") == "es"
    send(page, "Busco una oficina en Guadalajara.")
    expect(bots(page)).to_have_count(2)
    expect(bots(page).nth(1)).to_contain_text("presupuesto")
    expect(page.locator("#chips .chip").first).to_have_text("tipo de inmueble: oficina")

    page.get_by_role("button", name="English").click()
    expect(page.locator("#log .note")).to_have_text(["You edited your brief."])
    expect(bots(page)).to_have_count(3)
    expect(bots(page).last).to_contain_text("What is your budget")
    expect(page.locator("#chips .chip").first).to_have_text("property type: office")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    send(page, "About 300 m².")
    expect(bots(page)).to_have_count(4)
    expect(bots(page).last).to_contain_text("budget")
    assert "presupuesto" not in transcript(page)[-1][1]
    assert page.evaluate("() => document.documentElement.lang") == "en"


NOT_YET = "error: Failed to load resource: the server responded with a status of 409 (Conflict) @ "


def logged(message: ConsoleMessage) -> str:
    """A console line as ``type: text``, with where a failed request went (``@ path``)."""
    place = urlsplit(message.location.get("url", "")).path
    failed = message.text.startswith("Failed to load resource")
    at = f" @ {place}" if failed and place.endswith("/matches") else ""
    return f"{message.type}: {message.text}{at}"


def test_the_page_keeps_to_its_content_security_policy(page: Page, api: Server) -> None:
    """The policy is sent, the widget (WebSocket included) works under it without one
    violation, and it is really enforced: an injected inline script does not run."""
    page.add_init_script(
        """window.__violations = [];
           document.addEventListener('securitypolicyviolation',
             (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(logged(message)))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))

    response = open_widget(page, api)
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    page.get_by_role("button", name="Español").click()
    expect(bots(page)).to_have_count(3)

    assert page.evaluate("() => window.__violations") == []
    # The browser logs every 4xx; matches asked before the brief allows a search answer 409.
    assert [line for line in console if not line.startswith(NOT_YET)] == []
    assert len(sockets) == 1
    assert sockets[0].startswith(api.url.replace("http", "ws", 1) + "/v1/conversations/")

    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__inline = true';
                   document.body.append(s); }"""
    )
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("() => window.__inline") is None
    assert page.evaluate("() => window.__violations")[0].startswith("script-src")


@pytest.fixture
def listing_site() -> Iterator[Callable[..., str]]:
    """A listing site: ``publish(html, host="localhost")`` serves ``html`` and returns its URL.

    A real server on another port (another origin; on ``localhost`` another site, as the
    widget is on ``127.0.0.1``), because chromium refuses to let a page that does not come from
    the loopback network (as a page fulfilled by ``page.route`` counts) frame one that does.
    """
    page = {"html": ""}

    class Listing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    with http_server(Listing) as port:

        def publish(html: str, host: str = "localhost") -> str:
            page["html"] = html
            return f"http://{host}:{port}/listing/42"

        yield publish


def test_a_listing_site_embeds_it_with_one_iframe(
    page: Page, api: Server, listing_site: Callable[..., str]
) -> None:
    """A page of another origin frames the widget: it chats, and resumes after a reload."""
    snippet = f'<iframe src="{api.url}/widget" title="Chat" width="400" height="640"></iframe>'
    listing = f"<!doctype html><title>Listing</title><h1>Office</h1>{snippet}"
    page.goto(listing_site(listing, host="127.0.0.1"))  # another port: another origin
    expect(page.frame_locator("iframe").locator("#status")).to_have_text("online")
    send(page.frames[1], FIRST)
    expect(bots(page.frames[1])).to_have_count(2)
    page.reload()
    expect(page.frame_locator("iframe").locator("#status")).to_have_text("online")
    expect(bots(page.frames[1])).to_have_count(2)
    assert transcript(page.frames[1])[1] == ("user", FIRST)


def test_a_frame_refused_storage_still_chats(
    page: Page, api: Server, listing_site: Callable[..., str]
) -> None:
    """Framed by another site, a browser may refuse the frame its storage (third-party data
    blocked: reading ``localStorage`` throws). The widget chats all the same; it just cannot
    resume after a reload, so it starts afresh."""
    page.add_init_script(
        """Object.defineProperty(window, 'localStorage', {configurable: true, get() {
               throw new DOMException('Access is denied for this document.', 'SecurityError');
           }});"""
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(logged(message)))
    page.goto(listing_site(f'<!doctype html><iframe src="{api.url}/widget"></iframe>'))
    frame = page.frame_locator("iframe")
    expect(frame.locator("#status")).to_have_text("online")
    send(page.frames[1], FIRST)
    expect(bots(page.frames[1])).to_have_count(2)
    expect(bots(page.frames[1]).last).to_contain_text("budget")
    with pytest.raises(Error, match="Access is denied"):
        page.frames[1].evaluate("() => window.localStorage")
    page.reload()
    expect(frame.locator("#status")).to_have_text("online")
    expect(bots(page.frames[1])).to_have_count(1)
    assert [who for who, _ in transcript(page.frames[1])] == ["bot"]
    assert [line for line in console if not line.startswith(NOT_YET)] == []


def test_a_site_not_allowed_to_frame_it_gets_nothing(
    page: Page, serve: Serve, tmp_path: Path, listing_site: Callable[..., str]
) -> None:
    api = serve(
        settings_for_tests(
            tmp_path,
            f"sqlite:///{tmp_path / 'r.db'}",
            widget_frame_ancestors="https://partner.example",
        )
    )
    url = listing_site(f'<!doctype html><iframe src="{api.url}/widget"></iframe>')
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        page.goto(url)
    assert page.frames[1].locator("#log").count() == 0


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
    expect(page.get_by_role("textbox")).to_be_focused()
    assert [who for who, _ in transcript(page)] == ["bot"]
    send(page, FIRST)  # shortened: goes through
    expect(bots(page)).to_have_count(2)
    assert transcript(page)[1] == ("user", FIRST)


WINDOW_S = 6


def test_a_message_over_the_rate_limit_is_sent_when_allowed(
    page: Page, serve: Serve, tmp_path: Path
) -> None:
    api = serve(
        settings_for_tests(
            tmp_path,
            f"sqlite:///{tmp_path / 'r.db'}",
            rate_limit_messages=1,
            # Long enough that the first turn, however slow the machine, ends inside it.
            rate_limit_window_s=WINDOW_S,
        )
    )
    open_widget(page, api)
    # The limiter's sliding-window counter weighs the previous fixed window (aligned to
    # multiples of the window on the clock) by its overlap: a message in the next fixed
    # window would pass. Both messages are sent within one fixed window.
    time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.05)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    send(page, SECOND)  # the window's one message is spent: refused, kept, sent again later
    expect(page.locator("#log .notice")).to_contain_text(["You are sending messages too fast."])
    expect(page.locator("#log .message.user.pending .text")).to_have_text([SECOND])
    expect(bots(page)).to_have_count(3, timeout=20_000)
    expect(page.locator("#log .pending")).to_have_count(0)
    expect(bots(page).last).to_contain_text(SUMMARY)
    assert [text for who, text in transcript(page) if who == "user"] == [FIRST, SECOND]


# --- listings that fit -------------------------------------------------------------------

PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def catalog_api(serve: Serve, tmp_path: Path) -> Server:
    """The API over a fresh SQLite file whose empty catalog is seeded at start-up."""
    settings = settings_for_tests(
        tmp_path,
        f"sqlite:///{tmp_path / 'realty.db'}",
        catalog_seed_if_empty=True,
        catalog_seed_count=3000,
    )
    return serve(settings)


def matches(api: Server, conversation: dict[str, str], language: str = "en") -> dict[str, Any]:
    """The API's answer the widget shows (its limit and language)."""
    response = httpx.get(
        f"{api.url}/v1/conversations/{conversation['id']}/matches",
        params={"limit": "5", "language": language},
        headers={"Authorization": f"Bearer {conversation['token']}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def amount(value: float) -> str:
    """A number as the cards write it (thousands separated, one decimal at most)."""
    return f"{value:,.1f}".removesuffix(".0")


def pin_tips(page: Page) -> dict[str, tuple[float, float]]:
    """Every pin's number and where its tip is on the map (the start of its path)."""
    rows: list[list[Any]] = page.evaluate(
        """() => Array.from(document.querySelectorAll('#map svg a.pin'), (pin) => [
               pin.querySelector('.pin-number').textContent,
               pin.querySelector('.pin-body').getAttribute('d')])"""
    )
    tips: dict[str, tuple[float, float]] = {}
    for number, path in rows:
        x, y = path[1:].split("l", 1)[0].split()
        tips[number] = (float(x), float(y))
    return tips


def canonical_with_cards(page: Page, api: Server) -> dict[str, Any]:
    open_widget(page, api)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    send(page, SECOND)
    expect(bots(page)).to_have_count(3)
    expect(page.locator("#cards > li.card")).to_have_count(5)
    return matches(api, stored(page))


def test_a_complete_brief_shows_cards_and_a_map_of_them(
    page: Page, catalog_api: Server, shot: Shot
) -> None:
    page.set_viewport_size(FRAME)
    body = canonical_with_cards(page, catalog_api)
    shot(page, "widget_listings")

    listings = body["listings"]
    cards = page.locator("#cards > li.card")
    expect(page.locator("#listings-title")).to_have_text("Listings that fit")
    expect(page.locator("#market")).to_have_text(f"Market check: {body['market_check']['text']}")
    expect(page.locator("#relaxation")).to_be_hidden()
    expect(page.locator("#listings-count")).to_have_text(f"5 of {body['total']} listings that fit")
    first = listings[0]["listing"]
    place = f"{first['zone']}, {first['city']}" if first["zone"] else first["city"]
    expect(cards.first.locator(".card-title")).to_have_text(f"1Office · {place}")
    expect(cards.first.locator(".card-price")).to_have_text(
        f"{amount(first['price'])} {first['currency']} a month"
    )
    per_m2 = f"{amount(first['price_per_m2'])} {first['currency']}/m² a month"
    expect(cards.first.locator(".card-size")).to_have_text(
        f"{amount(first['size_m2'])} m² · {per_m2}"
    )
    expect(cards.first.locator(".card-reasons li")).to_have_text(listings[0]["reasons"])
    expect(cards.first.locator(".card-amenities")).to_contain_text("parking spaces")
    link = cards.first.locator("a.card-map")
    lat, lon = f"{first['lat']:.5f}", f"{first['lon']:.5f}"
    expect(link).to_have_attribute(
        "href", f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
    )
    expect(link).to_have_attribute("rel", "noopener")
    expect(link).to_have_attribute("target", "_blank")
    for n, match in enumerate(listings, start=1):
        expect(cards.nth(n - 1).locator(".card-price")).to_contain_text(
            amount(match["listing"]["price"])
        )

    # One numbered pin per card, placed by latitude and longitude (north up, east right).
    pins = page.locator("#map svg a.pin")
    expect(pins).to_have_count(5)
    expect(page.locator("#map svg .map-city")).to_have_text("Mexico City")
    expect(page.locator("#map svg")).to_have_attribute(
        "aria-label", "Map of the listings in Mexico City"
    )
    tips = pin_tips(page)
    assert sorted(tips) == ["1", "2", "3", "4", "5"]
    coordinates = {str(n): m["listing"] for n, m in enumerate(listings, start=1)}
    by_east = sorted(tips, key=lambda n: tips[n][0])
    by_north = sorted(tips, key=lambda n: -tips[n][1])
    assert by_east == sorted(coordinates, key=lambda n: coordinates[n]["lon"])
    assert by_north == sorted(coordinates, key=lambda n: coordinates[n]["lat"])
    for x, y in tips.values():
        assert 0 <= x <= 320
        assert 26 <= y <= 180

    # Keyboard: a pin is a link to its card.
    pins.last.focus()  # drawn first to last from 5 to 1: the best fit stays on top
    page.keyboard.press("Enter")
    expect(cards.first).to_be_focused()
    assert page.evaluate("() => window.location.hash") == ""


def test_the_cards_follow_the_brief_and_its_language(page: Page, catalog_api: Server) -> None:
    page.set_viewport_size(FRAME)
    canonical_with_cards(page, catalog_api)

    page.get_by_role("button", name="Español").click()
    expect(page.locator("#listings-title")).to_have_text("Inmuebles que coinciden")
    spanish = matches(catalog_api, stored(page), "es")
    expect(page.locator("#market")).to_have_text(
        f"Comparación con el mercado: {spanish['market_check']['text']}"
    )
    expect(page.locator("#cards > li.card").first.locator(".card-price")).to_contain_text("al mes")

    page.reload()  # resumed from storage: the cards come back
    expect(page.locator("#cards > li.card")).to_have_count(5)
    expect(page.locator("#listings-title")).to_have_text("Inmuebles que coinciden")
    expect(page.locator("#map svg a.pin")).to_have_count(5)


def test_nothing_fits_shows_the_relaxation_sentence(page: Page, catalog_api: Server) -> None:
    open_widget(page, catalog_api, "?lang=es")
    send(page, "Busco una bodega en Monterrey de 2,000 m2")
    expect(bots(page)).to_have_count(2)
    # A type and a city: a preview of what fits so far (warehouses of any size).
    expect(page.locator("#listings")).to_be_visible()
    expect(page.locator("#cards > li.card").first).to_be_visible()
    send(page, "mi presupuesto es 90 mil pesos al mes")
    expect(bots(page)).to_have_count(3)

    expect(page.locator("#relaxation")).to_be_visible()
    body = matches(catalog_api, stored(page), "es")
    assert body["total"] == 0
    expect(page.locator("#relaxation")).to_have_text(body["relaxation"]["text"])
    expect(page.locator("#cards > li.card")).to_have_count(len(body["listings"]))


def test_listings_found_by_relaxing_a_requirement_are_placed_in_their_cities(
    page: Page, catalog_api: Server
) -> None:
    open_widget(page, catalog_api)
    send(page, FIRST)
    expect(bots(page)).to_have_count(2)
    send(page, "I can spend 5,000 USD a month for 500m².")
    expect(bots(page)).to_have_count(3)

    expect(page.locator("#relaxation")).to_be_visible()
    body = matches(catalog_api, stored(page))
    assert body["total"] == 0
    assert body["relaxation"]["applied"] == "nearby"
    expect(page.locator("#relaxation")).to_have_text(body["relaxation"]["text"])
    expect(page.locator("#listings-count")).to_be_hidden()  # never "4 of 0"
    expect(page.locator("#cards > li.card")).to_have_count(len(body["listings"]))
    cities = list(dict.fromkeys(m["listing"]["city"] for m in body["listings"]))
    assert len(cities) > 1
    expect(page.locator("#map svg .map-city")).to_have_text(" · ".join(cities))
    tips = pin_tips(page)
    west = min(tips, key=lambda n: tips[n][0])
    assert body["listings"][int(west) - 1]["listing"]["lon"] == min(
        m["listing"]["lon"] for m in body["listings"]
    )


def test_the_cards_fit_a_360_px_wide_screen(page: Page, catalog_api: Server, shot: Shot) -> None:
    page.set_viewport_size(PHONE)
    canonical_with_cards(page, catalog_api)
    page.locator("#listings").scroll_into_view_if_needed()

    overflowing = page.evaluate(
        """(width) => Array.from(document.querySelectorAll('#listings, #listings *'))
               .filter((e) => e.getBoundingClientRect().right > width + 0.5
                         || (!(e instanceof SVGElement) && e.scrollWidth > e.clientWidth + 1))
               .map((e) => e.id || e.className.baseVal || e.className)""",
        PHONE["width"],
    )
    assert overflowing == []
    assert page.evaluate("() => document.documentElement.scrollWidth") == PHONE["width"]
    picture = shot(page, "widget_listings_360").read_bytes()
    width, height = struct.unpack(">II", picture[16:24])  # the PNG header's IHDR
    assert (width, height) == (PHONE["width"], PHONE["height"])
    card = page.locator("#cards > li.card").first.screenshot()
    assert struct.unpack(">I", card[16:20])[0] <= PHONE["width"]
