"""The simulation and knowledge-base endpoints over a real server."""

from __future__ import annotations

import pytest

from livesupport import MakeSettings, Serve


def test_purchase_simulation(sqlite_url: str, make_settings: MakeSettings, serve: Serve) -> None:
    server = serve(make_settings(sqlite_url))
    body = {
        "price": 250_000,
        "down_payment_percent": 20,
        "term_years": 30,
        "annual_rate": 6,
        "currency": "USD",
    }
    with server.client() as http:
        response = http.post("/v1/simulations/purchase", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["monthly_payment"] == pytest.approx(1_199.10, abs=0.005)
    assert data["financed"] == 200_000
    assert data["term_months"] == 360
    assert data["total_interest"] == pytest.approx(231_676.38, abs=0.01)
    assert "the monthly payment would be $1,199.10 USD" in data["text"]


def test_lease_simulation_in_spanish(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    body = {
        "monthly_rent": 45_000,
        "term_years": 3,
        "deposit_months": 2,
        "broker_fee": {"unit": "months", "value": 1},
        "vat_percent": 16,
        "language": "es",
    }
    with server.client() as http:
        response = http.post("/v1/simulations/lease", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["move_in_cost"] == 187_200
    assert [item["key"] for item in data["move_in"]] == [
        "deposit",
        "advance_rent",
        "broker_fee",
        "vat",
    ]
    assert data["yearly_costs"] == [671_400, 626_400, 626_400]
    assert data["refundable_deposit"] == 90_000
    assert data["text"].startswith("Para una renta de $45,000 MXN al mes, entrar costaría")


def test_out_of_range_inputs_are_a_422_problem_in_the_requested_language(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    body = {
        "price": 1_000_000,
        "down_payment_percent": 20,
        "term_years": 50,
        "annual_rate": 120,
        "language": "es",
    }
    with server.client() as http:
        response = http.post("/v1/simulations/purchase", json=body)
        malformed = http.post("/v1/simulations/lease", json={"monthly_rent": "a lot"})
        both_terms = http.post(
            "/v1/simulations/lease",
            json={"monthly_rent": 10_000, "term_years": 1, "term_months": 12},
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/invalid-simulation"
    assert problem["errors"] == [
        {
            "field": "body.term_months",
            "message": "El plazo debe ser de 1 a 40 años (12 a 480 meses).",
        },
        {"field": "body.annual_rate", "message": "La tasa anual (%) debe estar entre 0 y 100."},
    ]
    assert malformed.status_code == 422
    assert malformed.json()["type"] == "/problems/invalid-request"
    assert both_terms.status_code == 422
    assert "not both" in both_terms.json()["detail"]


def test_knowledge_base_answers_with_sources_or_declines(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        known = http.post("/v1/kb/ask", json={"question": "¿Qué es el plazo forzoso?"})
        unknown = http.post("/v1/kb/ask", json={"question": "Who won the World Series?"})
        empty = http.post("/v1/kb/ask", json={"question": ""})
    assert known.status_code == 200, known.text
    body = known.json()
    assert body["confident"] is True
    assert body["language"] == "es"
    assert body["sources"][0]["section"] == "Plazo forzoso"
    assert body["answer"].startswith("El plazo forzoso es el periodo mínimo")
    assert unknown.json() == {
        "answer": "I don't know that one: it is not in my guides. If you like, I can connect "
        "you with a broker who can help.",
        "sources": [],
        "confident": False,
        "language": "en",
    }
    assert empty.status_code == 422
