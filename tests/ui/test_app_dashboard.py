"""The staff dashboard under AppTest against a live API seeded through the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from uisupport import Prospect, fresh_app, leads, sqlite_settings

from livesupport import Serve, Server
from realty_ui.client import ApiClient, LeadFilters
from realty_ui.leads import CSV_COLUMNS, export_csv

App = Callable[[], AppTest]
CHARTS = 9


@pytest.fixture
def seeded(api: Server) -> list[Prospect]:
    """A confirmed English lead, a Spanish lead after a blocked (whitespace) message, and a
    conversation that never completed."""
    english = Prospect.open(api)
    english.say("I need an office in Mexico City.", "I can spend 20,000 USD for 500m².")
    english.confirm()
    spanish = Prospect.open(api)
    spanish.say("Busco una bodega en Monterrey", "   ", "50 mil pesos al mes, 1200 m2")
    idle = Prospect.open(api)
    idle.say("hola")
    human = Prospect.open(api)
    human.say("I'd rather talk to a person, can someone call me?")
    return [english, spanish, idle, human]


def dashboard(app: App) -> AppTest:
    """The dashboard opened directly (its URL), as staff open it."""
    return app().switch_page("dashboard.py").run()


def signed_in(app: App, key: str = "staff-key") -> AppTest:
    at = dashboard(app)
    assert not at.exception
    at.text_input(key="staff_key_input").input(key)
    return at.button(key="sign_in").click().run()


def table(at: AppTest) -> list[dict[str, object]]:
    [frame] = at.dataframe
    rows: list[dict[str, object]] = frame.value.to_dict("records")
    return rows


def test_the_key_is_asked_for_and_the_numbers_charts_and_leads_follow(
    app: App, api: Server, seeded: list[Prospect]
) -> None:
    at = dashboard(app)
    assert [t.label for t in at.text_input] == ["Staff key"]
    assert at.text_input(key="staff_key_input").proto.type == 1  # a password field
    assert not at.get("vega_lite_chart")

    at.text_input(key="staff_key_input").input("staff-key")
    at.button(key="sign_in").click().run()

    assert not at.exception
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Conversations"] == "4"
    assert metrics["Leads"] == "3"
    assert metrics["Blocked inputs"] == "1"
    assert metrics["Completion rate"] == "50%"
    assert metrics["Mean sentiment"].startswith(("+", "-"))
    assert len(at.get("vega_lite_chart")) == CHARTS
    assert not at.info  # every chart has data
    rows = table(at)
    assert {row["City"] for row in rows} == {"Mexico City", "Monterrey", ""}  # "" the handoff
    assert {row["Status"] for row in rows} == {"confirmed", "new", "wants a broker"}
    assert [b.proto.label for b in at.get("download_button")] == ["Download CSV"]


def test_a_lead_shows_its_brief_and_transcript(
    app: App, api: Server, seeded: list[Prospect]
) -> None:
    at = signed_in(app)
    spanish = next(lead for lead in leads(api) if lead["city"] == "Monterrey")

    at.selectbox(key="lead_choice").set_value(spanish["id"]).run()

    assert not at.exception
    shown = [t.value for t in at.text]
    assert "ciudad: Monterrey" in shown
    assert "Status: new" in shown
    assert "Channel: api" in shown
    assert "Busco una bodega en Monterrey" in shown
    assert "50 mil pesos al mes, 1200 m2" in shown
    assert "Tu mensaje llegó vacío. ¿Qué estás buscando?" in shown
    assert "This message was not taken into account." in at.caption.values
    # Each message read says what it wanted and how it felt.
    notes = [c for c in at.caption.values if c.startswith("gives details (")]
    assert len(notes) == 2
    assert all(" · mean sentiment " in note for note in notes)


def test_filters_narrow_the_leads(app: App, api: Server, seeded: list[Prospect]) -> None:
    at = signed_in(app)

    at.selectbox(key="filter_city").set_value("Monterrey").run()
    assert [row["City"] for row in table(at)] == ["Monterrey"]

    at.selectbox(key="filter_city").set_value("").run()
    at.selectbox(key="filter_status").set_value("confirmed").run()
    assert [row["City"] for row in table(at)] == ["Mexico City"]

    at.selectbox(key="filter_type").set_value("warehouse").run()
    assert not at.dataframe
    assert at.info.values[-1] == "No leads match these filters."


def test_the_window_selector_changes_the_days_charted(
    app: App, api: Server, seeded: list[Prospect]
) -> None:
    at = signed_in(app)

    at.segmented_control(key="window").set_value(90).run()

    assert not at.exception
    assert len(at.get("vega_lite_chart")) == CHARTS


def test_the_csv_export_holds_every_matching_lead_up_to_the_cap(
    api: Server, seeded: list[Prospect]
) -> None:
    with ApiClient(api.url, staff_key="staff-key") as client:
        every = list(csv.DictReader(io.StringIO(export_csv(client, LeadFilters()).decode())))
        capped = export_csv(client, LeadFilters(), cap=1).decode().splitlines()
        city = export_csv(client, LeadFilters(city="Monterrey")).decode()

    assert len(every) == 3
    assert set(every[0]) == set(CSV_COLUMNS)
    assert {row["id"] for row in every} == {lead["id"] for lead in leads(api)}
    budgets = {row["budget"] for row in every}
    assert "20,000 USD" in budgets
    assert len(capped) == 2  # the header and one lead
    assert "Mexico City" not in city
    assert "Monterrey" in city


def test_a_wrong_key_says_so_and_asks_again(app: App, api: Server) -> None:
    at = signed_in(app, key="not-the-key")

    assert not at.exception
    assert at.error.values == ["That staff key is not valid. Please check it and try again."]
    assert not at.get("vega_lite_chart")
    assert [t.label for t in at.text_input] == ["Staff key"]


def test_a_server_without_a_staff_key_says_the_staff_api_is_disabled(
    serve: Serve, tmp_path: Path, point_app: Callable[[str], None]
) -> None:
    api = serve(sqlite_settings(tmp_path, staff_api_key=None))
    point_app(api.url)
    at = fresh_app()
    at.switch_page("dashboard.py").run()
    at.text_input(key="staff_key_input").input("anything")
    at.button(key="sign_in").click().run()

    assert not at.exception
    [error] = at.error.values
    assert "REALTY_STAFF_API_KEY" in error


def test_a_staff_only_deployment_skips_the_key_prompt(
    app: App, api: Server, seeded: list[Prospect], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALTY_UI_STAFF_KEY", "staff-key")

    at = dashboard(app)

    assert not at.exception
    assert not at.text_input
    assert len(at.get("vega_lite_chart")) == CHARTS
    assert not [b for b in at.button if b.key == "sign_out"]


def test_the_api_down_is_a_polite_error(
    point_app: Callable[[str], None], closed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_app(closed_url)
    monkeypatch.setenv("REALTY_UI_STAFF_KEY", "staff-key")
    at = fresh_app()

    at.switch_page("dashboard.py").run()

    assert not at.exception
    assert at.error.values == ["The service is not answering right now. Try again in a moment."]


def test_an_empty_window_says_there_is_no_data(app: App, api: Server) -> None:
    at = signed_in(app)

    assert not at.exception
    assert not at.get("vega_lite_chart")
    assert "No data in this window yet." in at.info.values
    assert "No leads match these filters." in at.info.values
