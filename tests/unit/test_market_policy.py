"""The deployment's market (REALTY_HOME_COUNTRY) through the policy, the parser and the service.

A Mexican deployment and a US one differ in three places: what a bare "$" means, the order in
which the currency question offers pesos and dollars, and which city a name shared by both
countries designates. Everything else is the same conversation.
"""

from __future__ import annotations

import asyncio
from datetime import date
from importlib import resources
from typing import Any

import pytest
import yaml

from realty.domain.brief import City, Language, Money
from realty.domain.fields import FieldRegistry
from realty.domain.machine import advance
from realty.domain.market import Market
from realty.domain.state import ClarifyCurrency, ConversationState, PendingCurrency, Transition
from realty.domain.turn import Candidate, ParseContext, TurnUpdate
from realty.errors import ConfigurationError
from realty.pipeline.parse import Parser
from realty.pipeline.respond import Responder
from realty.services.conversation import TurnResult
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore

REGISTRY = FieldRegistry.from_mapping(
    yaml.safe_load(resources.files("realty.data").joinpath("fields.yaml").read_text("utf-8"))
)
MX, US = Market.default("MX"), Market.default("US")
GUADALAJARA = City(value="Guadalajara", country="MX", lat=20.67, lon=-103.39)
AUSTIN = City(value="Austin", country="US", lat=30.27, lon=-97.74)


def _first_message(market: Market, language: Language, city: City | None) -> Transition:
    """One message: maybe a city, and "$20,000" with no currency named."""
    accepted = [Candidate(key="budget", value=Money(amount=20_000), span=(0, 7), currency_hint="$")]
    if city is not None:
        accepted.append(Candidate(key="city", value=city, span=(8, 12)))
    update = TurnUpdate(
        text="message", accepted=tuple(accepted), language=language, language_confidence=0.95
    )
    return advance(ConversationState(), update, REGISTRY, market=market)


@pytest.mark.parametrize(
    ("market", "language", "city", "currency"),
    [
        # A Mexican deployment, as before: the peso in Spanish, the dollar in English.
        (MX, "es", None, "MXN"),
        (MX, "es", AUSTIN, "MXN"),
        (MX, "en", None, "USD"),
        (MX, "en", AUSTIN, "USD"),
        # A US deployment: "$" is the dollar in either language.
        (US, "en", None, "USD"),
        (US, "en", AUSTIN, "USD"),
        (US, "es", None, "USD"),
        (US, "es", AUSTIN, "USD"),
    ],
)
def test_a_bare_dollar_sign_is_inferred_for_the_market(
    market: Market, language: Language, city: City | None, currency: str
) -> None:
    state = _first_message(market, language, city).state
    slot = state.brief.slots["budget"]
    assert slot.value == Money(amount=20_000, currency=currency)
    assert (slot.meta.status, slot.meta.confidence) == ("unconfirmed", 0.8)
    assert state.pending is None


@pytest.mark.parametrize(
    ("market", "options"), [(MX, ("MXN", "USD")), (US, ("USD", "MXN"))], ids=["MX", "US"]
)
def test_english_about_a_property_in_mexico_asks_home_currency_first(
    market: Market, options: tuple[str, str]
) -> None:
    first = _first_message(market, "en", GUADALAJARA)
    state = first.state
    assert ClarifyCurrency(amount=20_000, options=options) in first.actions
    assert state.pending == PendingCurrency(options=options)
    assert state.brief.slots["budget"].value == Money(amount=20_000)
    # "The first one" is the market's home currency.
    choice = TurnUpdate(text="the first one", choice=0)
    after = advance(state, choice, REGISTRY, market=market).state
    assert after.brief.slots["budget"].value == Money(amount=20_000, currency=options[0])
    assert after.brief.slots["budget"].meta.status == "valid"


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("en", "Is 20,000 in US dollars (USD) or Mexican pesos (MXN)?"),
        ("es", "¿Los 20,000 son dólares estadounidenses (USD) o pesos mexicanos (MXN)?"),
    ],
)
def test_a_us_market_words_its_currency_question_dollars_first(
    language: Language, question: str
) -> None:
    reply = Responder(REGISTRY).render(_first_message(US, "en", GUADALAJARA), language)
    assert question in reply


# ---- name clashes: the market's own large cities win ----


@pytest.fixture(scope="module")
def us_parser() -> Parser:
    return Parser.build(country="US")


def _city(parser: Parser, text: str) -> tuple[str, str]:
    found = parser.parse(text, ParseContext(language="en"))
    cities = [c.value for c in found.candidates if c.key == "city"]
    assert len(cities) == 1, found
    assert isinstance(cities[0], City)
    return cities[0].value, cities[0].country


# Per name: the city a Mexican deployment reads, then the one a US deployment reads.
CLASHES = {
    # Both countries have a large city of this name (or spelling).
    "Pueblo": (("Puebla", "MX"), ("Pueblo", "US")),
    "Miramar": (("Miramar", "MX"), ("Miramar", "US")),
    "Durango": (("Victoria de Durango", "MX"), ("Durango", "US")),
    "San Luis": (("San Luis Potosí", "MX"), ("St. Louis", "US")),
    # One letter from Monterrey: the Mexican city for a Mexican market only.
    "Monterey": (("Monterrey", "MX"), ("Monterey", "US")),
    # Names only one country has are that country's in either market.
    "Guadalajara": (("Guadalajara", "MX"), ("Guadalajara", "MX")),
    "Springfield": (("Springfield", "US"), ("Springfield", "US")),
}


@pytest.mark.parametrize("name", CLASHES)
def test_a_shared_city_name_is_the_markets_own(
    parser: Parser, us_parser: Parser, name: str
) -> None:
    assert (parser.country, us_parser.country) == ("MX", "US")
    text = f"I need an office in {name}"
    assert (_city(parser, text), _city(us_parser, text)) == CLASHES[name]


# ---- a whole conversation through the service the settings build ----


def _converse(
    country: str, monkeypatch: pytest.MonkeyPatch, *messages: str
) -> tuple[list[str], dict[str, Any], tuple[str, ...]]:
    """The replies of a parser-only service built from the environment, the final brief and
    the last turn's actions."""
    monkeypatch.setenv("REALTY_HOME_COUNTRY", country)
    service = build_service(
        Settings(llm_provider="none"), store=InMemoryStore(), today=lambda: date(2026, 11, 22)
    )

    async def run() -> list[TurnResult]:
        start = await service.start()
        try:
            return [
                await service.handle_turn(start.conversation_id, text, access=start.access)
                for text in messages
            ]
        finally:
            await service.aclose()

    results = asyncio.run(run())
    return [r.reply for r in results], results[-1].brief, results[-1].actions


CONVERSATION = (
    "I'm looking for an office in Guadalajara.",
    "$20,000 a month for 500 m2",
    "the first one",
    "yes",
)


@pytest.mark.parametrize(
    ("country", "question", "currency"),
    [
        ("US", "Is 20,000 in US dollars (USD) or Mexican pesos (MXN)?", "USD"),
        ("MX", "Is 20,000 in Mexican pesos (MXN) or US dollars (USD)?", "MXN"),
    ],
)
def test_a_deployment_asks_and_settles_the_currency_of_its_market(
    monkeypatch: pytest.MonkeyPatch, country: str, question: str, currency: str
) -> None:
    replies, brief, actions = _converse(country, monkeypatch, *CONVERSATION)
    assert question in replies[1]
    assert brief["fields"]["budget"]["currency"] == currency
    assert brief["fields"]["budget"]["status"] == "valid"
    assert actions == ("confirmed",)


def test_a_us_deployment_reads_a_bare_dollar_and_its_own_city(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replies, brief, actions = _converse(
        "US", monkeypatch, "An office in Miramar, $20,000 a month, 500 m2", "yes"
    )
    assert "I assumed USD" in replies[0]
    assert (brief["fields"]["city"]["value"], brief["fields"]["city"]["country"]) == (
        "Miramar",
        "US",
    )
    assert brief["fields"]["budget"]["currency"] == "USD"
    assert actions == ("confirmed",)


def test_the_factory_refuses_a_parser_built_for_another_market(parser: Parser) -> None:
    with pytest.raises(ConfigurationError, match="REALTY_HOME_COUNTRY"):
        build_service(Settings(llm_provider="none", home_country="US"), parser=parser)
