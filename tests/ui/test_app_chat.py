"""The prospect's chat page under AppTest against a live API: what a prospect sees and does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from uisupport import Prospect, fresh_app, leads, sqlite_settings

from livesupport import Serve, Server
from realty.llm.base import LLMRequest
from realty.llm.fake import FunctionLLM

FIRST = "I need an office in Mexico City."
SECOND = "I can spend 20,000 USD for 500m²."

App = Callable[[], AppTest]


def bubbles(at: AppTest) -> list[tuple[str, list[str]]]:
    """Every chat bubble: who, and the plain texts inside it."""
    return [(m.name, [t.value for t in m.text]) for m in at.chat_message]


def last_reply(at: AppTest) -> str:
    """The text of the last assistant bubble."""
    replies = [texts for name, texts in bubbles(at) if name == "assistant" and texts]
    return replies[-1][-1]


def sidebar_texts(at: AppTest) -> list[str]:
    return [t.value for t in at.sidebar.text]


def progress_text(at: AppTest) -> str:
    bars = at.sidebar.get("progress")
    assert len(bars) == 1
    return str(bars[0].proto.text)


def send(at: AppTest, message: str) -> AppTest:
    """Type ``message`` in the chat box and submit it."""
    at.chat_input[0].set_value(message).run()
    assert not at.exception
    return at


def canonical(at: AppTest) -> AppTest:
    """The README's two turns."""
    at.run()
    send(at, FIRST)
    return send(at, SECOND)


def conversation_of(at: AppTest, api: Server) -> Prospect:
    """The conversation the app opened (from the URL it keeps), to check the API's side."""
    return Prospect(api, at.query_params["c"], at.query_params["t"], "")


def test_first_open_shows_the_greeting_and_keeps_the_conversation_in_the_url(
    app: App, api: Server
) -> None:
    at = app().run()

    assert not at.exception
    assert bubbles(at) == [("assistant", [conversation_of(at, api).read()["history"][0]["reply"]])]
    assert progress_text(at) == "0 of 4 details"
    needed = [m.value for m in at.sidebar.markdown]
    for label in ("Property type", "City", "Budget", "Total size"):
        assert f":gray[{label}]" in needed


def test_the_canonical_two_turns_fill_the_brief_and_confirm_makes_a_confirmed_lead(
    app: App, api: Server
) -> None:
    at = app().run()
    send(at, FIRST)
    first_reply = last_reply(at)
    assert "budget" in first_reply
    assert "total size" in first_reply
    assert progress_text(at) == "2 of 4 details"

    send(at, SECOND)

    assert last_reply(at).startswith("Here is your brief: office in Mexico City")
    assert progress_text(at) == "4 of 4 details"
    shown = sidebar_texts(at)
    assert {"office", "Mexico City", "20,000 USD", "500 m²"} <= set(shown)
    assert "office in Mexico City, budget 20,000 USD, 500 m²" in shown
    headings = [m.value for m in at.sidebar.markdown]
    assert headings.count("**Budget** :gray[· read from your message]") == 1
    assert sum("read from your message" in h for h in headings) == 4
    assert [name for name, _ in bubbles(at)] == ["assistant", "user", "assistant"] * 1 + [
        "user",
        "assistant",
    ]
    assert leads(api)[0]["status"] == "new"

    at.sidebar.button(key="confirm").click().run()

    assert not at.exception
    assert leads(api)[0]["status"] == "confirmed"
    assert "confirmed" in last_reply(at)
    assert any("You confirmed the brief." in c for c in at.caption.values)
    assert at.sidebar.success.values == ["Confirmed: the listings that fit are below."]
    assert not [b for b in at.sidebar.button if b.key == "confirm"]


def test_an_edit_in_the_sidebar_changes_the_brief_through_the_api(app: App, api: Server) -> None:
    at = canonical(app())

    at.sidebar.text_input(key="edit_size").input("650 m²")
    at.sidebar.button(key="save_size").click().run()

    assert not at.exception
    size = conversation_of(at, api).read()["brief"]["fields"]["size"]
    assert (size["m2"], size["source"]) == (650, "user_edit")
    assert "650 m²" in sidebar_texts(at)
    assert "**Total size** :gray[· edited by you]" in [m.value for m in at.sidebar.markdown]
    assert "Updated the total size to 650 m²" in last_reply(at)
    assert any("You edited the brief." in c for c in at.caption.values)


def test_budget_words_and_a_kind_are_edited_and_a_field_removed(app: App, api: Server) -> None:
    at = canonical(app())

    at.sidebar.text_input(key="edit_budget").input("30 mil dólares al mes")
    at.sidebar.button(key="save_budget").click().run()
    at.sidebar.selectbox(key="edit_property_type").set_value("warehouse")
    at.sidebar.button(key="save_property_type").click().run()

    fields = conversation_of(at, api).read()["brief"]["fields"]
    assert (fields["budget"]["amount"], fields["budget"]["currency"]) == (30000, "USD")
    assert fields["property_type"]["value"] == "warehouse"
    assert "warehouse" in sidebar_texts(at)

    at.sidebar.button(key="remove_city").click().run()

    assert not at.exception
    assert "city" not in conversation_of(at, api).read()["brief"]["fields"]
    assert progress_text(at) == "3 of 4 details"
    assert ":gray[City]" in [m.value for m in at.sidebar.markdown]  # now still needed


def test_a_refused_edit_shows_the_apis_messages_and_changes_nothing(app: App, api: Server) -> None:
    at = canonical(app())

    at.sidebar.text_input(key="edit_size").input("-3 m²")
    at.sidebar.button(key="save_size").click().run()

    assert not at.exception
    [escaped] = at.sidebar.error.values
    refusal = escaped.replace("\\", "")  # Markdown escapes: the page shows the text as is
    assert refusal.startswith("The change was not saved:")
    assert "size" in refusal
    assert "size: sizes must be within 1..1,000,000 m²: [-3.0]" in refusal
    assert conversation_of(at, api).read()["brief"]["fields"]["size"]["m2"] == 500
    assert "500 m²" in sidebar_texts(at)


def test_extras_are_listed_and_removed_one_by_one(app: App, api: Server) -> None:
    at = canonical(app())
    send(at, "We also need 10 parking spaces.")
    assert "10" in sidebar_texts(at)
    assert "Parking spaces" in sidebar_texts(at)

    at.sidebar.button(key="remove_extra_parking_spaces").click().run()

    assert not at.exception
    assert conversation_of(at, api).read()["brief"]["extras"] == {}
    assert "Parking spaces" not in sidebar_texts(at)


def test_the_language_switch_patches_the_conversation_and_the_labels_follow(
    app: App, api: Server
) -> None:
    at = app().run()
    send(at, FIRST)

    at.sidebar.radio(key="brief_language").set_value("es").run()

    assert not at.exception
    assert conversation_of(at, api).read()["language"] == "es"
    assert at.sidebar.subheader.values == ["Tu búsqueda"]
    assert progress_text(at) == "2 de 4 datos"
    assert {"oficina", "Ciudad de México"} <= set(sidebar_texts(at))
    assert "presupuesto" in last_reply(at)
    assert any("Cambiaste el idioma." in c for c in at.caption.values)
    assert at.title.values == ["Encuentra tu inmueble comercial"]


def test_a_reload_resumes_the_conversation_from_the_url(app: App, api: Server) -> None:
    prospect = Prospect.open(api)
    prospect.say(FIRST, "   ")
    prospect.edit({"size": "500 m2"})
    reload = app()
    reload.query_params.update({"c": prospect.id, "t": prospect.token})

    at = reload.run()

    assert not at.exception
    history = prospect.read()["history"]
    assert bubbles(at) == [
        ("assistant", [prospect.greeting]),
        ("user", [FIRST]),
        ("assistant", [history[1]["reply"]]),
        ("user", []),  # only spaces: said in a caption
        ("assistant", [history[2]["reply"]]),
        ("user", []),  # the note about the edit
        ("assistant", [history[3]["reply"]]),
    ]
    assert "(an empty message)" in at.caption.values
    assert "This message was not taken into account." in at.caption.values
    assert any("You edited the brief." in c for c in at.caption.values)
    assert progress_text(at) == "3 of 4 details"
    assert at.query_params["c"] == prospect.id


def test_after_a_reload_the_next_message_continues_the_same_conversation(
    app: App, api: Server
) -> None:
    prospect = Prospect.open(api)
    prospect.say(FIRST)
    reload = app()
    reload.query_params.update({"c": prospect.id, "t": prospect.token})
    at = reload.run()

    send(at, SECOND)

    assert at.query_params["c"] == prospect.id
    assert last_reply(at).startswith("Here is your brief: office in Mexico City")
    assert [e["kind"] for e in prospect.read()["history"]] == ["start", "message", "message"]
    assert progress_text(at) == "4 of 4 details"


def test_a_gone_conversation_starts_anew_and_says_so(app: App, api: Server) -> None:
    reload = app()
    reload.query_params.update({"c": "0" * 32, "t": "not-a-token"})

    at = reload.run()

    assert not at.exception
    [notice] = at.info.values
    assert "expired or could not be found" in notice
    assert at.query_params["c"] != "0" * 32
    assert [name for name, _ in bubbles(at)] == ["assistant"]


def test_start_over_opens_a_new_conversation(app: App, api: Server) -> None:
    at = app().run()
    send(at, FIRST)
    first = at.query_params["c"]

    at.sidebar.button(key="start_over").click().run()

    assert not at.exception
    assert at.query_params["c"] != first
    assert [name for name, _ in bubbles(at)] == ["assistant"]
    assert at.info.values == ["You started a new conversation."]
    assert progress_text(at) == "0 of 4 details"


@pytest.mark.parametrize(
    "markup", ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "**bold** :red[x] $y$"]
)
def test_user_text_is_shown_verbatim_never_as_markup(app: App, markup: str) -> None:
    at = send(app().run(), markup)

    assert ("user", [markup]) in bubbles(at)
    assert not at.get("html")
    assert all(markup not in m.value for m in at.markdown)


def test_the_api_down_is_a_polite_error_and_the_message_is_kept(
    point_app: Callable[[str], None], closed_url: str
) -> None:
    point_app(closed_url)
    at = fresh_app().run()

    assert not at.exception
    assert at.error.values == [
        "The service is not answering right now, so the conversation could not start. "
        "Try again in a moment."
    ]

    send(at, FIRST)

    assert not at.exception
    assert at.error.values == [
        "The service is not answering right now; your message was not sent. Try again in a moment."
    ]
    assert ("user", [FIRST]) in bubbles(at)
    assert "Not sent" in at.caption.values
    assert [b.key for b in at.button if b.key == "send_again"] == ["send_again"]


def test_sending_again_after_the_api_comes_back_delivers_the_message(
    app: App, api: Server, point_app: Callable[[str], None], closed_url: str
) -> None:
    at = app().run()
    point_app(closed_url)
    send(at, FIRST)
    assert any("not sent" in e for e in at.error.values)

    point_app(api.url)
    at.button(key="send_again").click().run()

    assert not at.exception
    assert not at.error
    assert "budget" in last_reply(at)
    history = conversation_of(at, api).read()["history"]
    assert [e["text"] for e in history if e["kind"] == "message"] == [FIRST]


def test_a_message_over_the_limit_states_the_limit_and_sends_nothing(
    serve: Serve, tmp_path: Path, point_app: Callable[[str], None]
) -> None:
    api = serve(sqlite_settings(tmp_path, max_message_chars=50, max_body_bytes=65536))
    point_app(api.url)
    at = fresh_app().run()
    long = "I need an office in Mexico City with twenty parking spaces."

    send(at, long)

    [error] = at.error.values
    assert "the limit is 50 characters" in error
    assert ("user", [long]) in bubbles(at)
    assert at.chat_input[0].value == long  # kept in the box, to shorten
    assert not [b for b in at.button if b.key == "send_again"]
    history = conversation_of(at, api).read()["history"]
    assert [e["kind"] for e in history] == ["start"]


def test_too_many_messages_say_how_long_to_wait(
    serve: Serve, tmp_path: Path, point_app: Callable[[str], None]
) -> None:
    api = serve(sqlite_settings(tmp_path, rate_limit_messages=1, rate_limit_window_s=60))
    point_app(api.url)
    at = send(fresh_app().run(), FIRST)

    send(at, SECOND)

    [error] = at.error.values
    assert error.startswith("You're sending messages very quickly. Please wait ")
    assert error.endswith(" seconds and try again.")
    assert ("user", [SECOND]) in bubbles(at)
    history = conversation_of(at, api).read()["history"]
    assert [e["text"] for e in history if e["kind"] == "message"] == [FIRST]


def test_a_spanish_conversation_resumes_with_spanish_labels(app: App, api: Server) -> None:
    prospect = Prospect.open(api)
    prospect.say("Busco una oficina en Monterrey")
    reload = app()
    reload.query_params.update({"c": prospect.id, "t": prospect.token})

    at = reload.run()

    assert not at.exception
    assert at.title.values == ["Encuentra tu inmueble comercial"]
    assert at.sidebar.subheader.values == ["Tu búsqueda"]
    assert "**Tipo de inmueble** :gray[· tomado de tu mensaje]" in [
        m.value for m in at.sidebar.markdown
    ]


def test_an_invalid_setting_is_named_not_a_traceback(
    point_app: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    point_app("http://127.0.0.1:1")
    monkeypatch.setenv("REALTY_UI_API_URL", "localhost:8000")

    at = fresh_app().run()

    assert not at.exception
    [error] = at.error.values
    assert "REALTY_UI_API_URL" in error


def test_what_a_slow_model_adds_after_the_reply_joins_the_chat_and_the_brief(
    serve: Serve, tmp_path: Path, point_app: Callable[[str], None]
) -> None:
    async def slow(request: LLMRequest) -> dict[str, Any]:
        await asyncio.sleep(0.5)  # well past the reply deadline below
        return {
            "extras": [
                {
                    "key": "rooftop_terrace",
                    "value": True,
                    "type": "bool",
                    "evidence": "rooftop terrace",
                }
            ]
        }

    settings = sqlite_settings(tmp_path, llm_reply_deadline_ms=50)
    api = serve(settings, llm=FunctionLLM(slow))
    point_app(api.url)
    at = fresh_app().run()
    send(at, "I need an office in Monterrey with a rooftop terrace")
    assert "rooftop" not in " ".join(sidebar_texts(at))  # the reply did not wait
    assert "Still reading" in " ".join(c.value for c in at.caption)

    deadline = time.monotonic() + 10
    while "Also noted" not in last_reply(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()

    assert not at.exception
    assert last_reply(at) == "Also noted: rooftop terrace."
    assert "Rooftop terrace" in sidebar_texts(at)  # the extras table
    history = conversation_of(at, api).read()["history"]
    assert [entry["kind"] for entry in history] == ["start", "message", "refine"]
    # A reload shows the same chat, the late addition included.
    again = fresh_app()
    again.query_params.update(at.query_params)
    again.run()
    assert bubbles(again) == bubbles(at)
