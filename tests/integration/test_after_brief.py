"""Golden conversations past the brief (tests/dialogues/after/*.yaml), in both languages: the
preview while the brief fills, the list once it is confirmed, relaxations, the market check
with numbers, a listing opened by its number, the guides' answers with their source, the
simulator, and the routing of each intent (a broker, a visit).

The service runs on a catalog of 3,000 synthetic listings seeded as ``make run`` seeds it
(same generator, a fixed seed and date), so every run sees the same listings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from realty.catalog.calibration import load_calibration
from realty.catalog.seed import CatalogSeeder
from realty.domain.market import Market
from realty.evaluation.dialogues import GoldenConversation, check_turn, load_dir
from realty.parsing.places import load_zones
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService
from realty.services.matching import MatchResult, MatchService
from realty.settings import Settings
from realty.store.listings import MemoryCatalog

TODAY = dt.date(2026, 11, 22)  # the listings' availability dates are drawn from it
DIALOGUES = load_dir(Path(__file__).parent.parent / "dialogues" / "after")


@pytest.fixture(scope="module")
def matcher(parser: Parser) -> MatchService:
    market = Market.default("MX")
    seeder = CatalogSeeder(
        load_calibration(), market, parser.cities.gazetteer.resolve, load_zones()
    )
    listings = list(seeder.listings(3000, seed=0, today=TODAY))
    return MatchService(MemoryCatalog(market, listings), market, Settings().field_registry())


def summary(found: MatchResult | None, complete: bool) -> dict[str, Any] | None:
    """What a golden turn may say about the matches a turn carried."""
    if found is None:
        return None
    check = found.market.check if found.market else None
    return {
        "complete": complete,
        "listings": len(found.listings),
        "listings_strict": found.total,
        "relaxed": found.relaxed,
        "verdict": check.budget.verdict if check and check.budget else None,
        "offer": found.want.offer,
    }


async def _run(service: ConversationService, conv: GoldenConversation) -> list[str]:
    start = await service.start(conv.language)  # type: ignore[arg-type]
    problems = []
    for number, turn in enumerate(conv.turns, start=1):
        result = await service.handle_turn(start.conversation_id, turn.user, access=start.access)
        issues = check_turn(
            turn.expect,
            brief=result.brief,
            reply=result.reply,
            actions=result.actions,
            asked=result.asked,
            intent=result.intent.intent if result.intent else None,
            matches=summary(result.matches, bool(result.brief["complete"])),
        )
        problems += [f"turn {number} ({turn.user[:60]!r}): {p}" for p in issues]
    return problems


def test_the_set_covers_both_languages_and_every_route() -> None:
    said = [t.expect for _, c in DIALOGUES for t in c.turns]
    assert {c.language for _, c in DIALOGUES} == {"en", "es"}
    assert {e.get("intent") for e in said} >= {
        "search",
        "ask_question",
        "simulate",
        "talk_to_person",
        "book_visit",
    }


@pytest.mark.parametrize(
    "conversation", [c for _, c in DIALOGUES], ids=[f"{s}:{c.name[:40]}" for s, c in DIALOGUES]
)
def test_golden_conversation_after_the_brief(
    conversation: GoldenConversation,
    make_service: Callable[..., ConversationService],
    matcher: MatchService,
) -> None:
    service = make_service(matcher=matcher)
    problems = asyncio.run(_run(service, conversation))
    assert not problems, "\n".join(problems)


UNTIL_THE_END = "any more?"  # sent again until the reply says there are no more


async def _chat(service: ConversationService, *texts: str) -> list[Any]:
    """Each message's result, in one new English conversation."""
    start = await service.start("en")
    said: list[Any] = []
    for text in texts:
        while True:
            said.append(await service.handle_turn(start.conversation_id, text, access=start.access))
            if text != UNTIL_THE_END or "Those are all" in said[-1].reply or len(said) > 20:
                break
    return said


def test_more_after_a_list_pages_the_ranking_and_picks_from_the_new_page(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, confirmed, more, again, picked = asyncio.run(
        _chat(
            service,
            "Looking for office space in Mexico City, 200 m2, budget 80k MXN monthly",
            "yes",
            "show me more",
            "more",
            "2",
        )
    )
    ranking = asyncio.run(matcher.matches(confirmed.brief, limit=9)).listings
    ids = [m.listing.id for m in ranking]
    first = [m.listing.id for m in confirmed.matches.listings[:3]]
    assert first == ids[:3]
    assert "Here are 3 more that fit your brief:" in more.reply
    assert [m.listing.id for m in more.matches.listings[:3]] == ids[3:6]
    assert [m.listing.id for m in again.matches.listings[:3]] == ids[6:9]
    # A number now opens the listing of the page last shown.
    assert picked.reply.startswith("2. ")
    assert again.matches.listings[1].summary["en"].split(" · ")[0] in picked.reply


def test_more_past_the_last_listing_says_so(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    said = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
            "yes",
            UNTIL_THE_END,
        )
    )
    total = said[1].matches.total
    # Every page of three, then the end of the list.
    assert len(said) == 2 + -(-(total - 3) // 3) + 1
    assert "Those are all the listings that fit this brief" in said[-1].reply


def test_asked_for_something_cheaper_the_listings_that_fit_come_cheapest_first(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    *_, cheaper = asyncio.run(
        _chat(
            service,
            "Busco oficina en Monterrey de 300 m2, 100 mil al mes",
            "sí",
            "¿hay algo más barato?",
        )
    )
    assert "Los 3 más económicos que coinciden con tu búsqueda:" in cheaper.reply
    market = Market.default("MX")
    shown = cheaper.matches.listings[:3]
    prices = [market.to_home(m.listing.price, m.listing.currency) for m in shown]
    assert prices == sorted(prices)
    fits = asyncio.run(matcher.matches(cheaper.brief, limit=30)).listings
    cheapest = min(market.to_home(m.listing.price, m.listing.currency) for m in fits)
    assert prices[0] == cheapest


def test_a_question_about_the_features_of_the_listings_shown_is_answered_from_them(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, confirmed, one, every = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
            "yes",
            "does the first one have parking?",
            "do they have loading docks and three phase power?",
        )
    )
    shown = confirmed.matches.listings[:3]
    first = shown[0].listing.amenities.parking_spaces
    said = f"{first} parking spaces" if first is not None else "parking spaces: not stated"
    assert (
        one.reply.splitlines()[0] == f"1. warehouse in {shown[0].listing.zone}, Guadalajara: {said}"
    )
    assert len(one.reply.splitlines()) == 1
    lines = every.reply.splitlines()
    assert [line[:3] for line in lines] == [f"{n}. " for n in range(1, len(shown) + 1)]
    assert all("loading dock" in line and "three-phase" in line for line in lines)
    assert one.brief == confirmed.brief  # a question fills nothing


def test_how_big_a_listing_shown_is_answered_from_it_not_from_the_guides(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, confirmed, size = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
            "yes",
            "how big is the first one?",
        )
    )
    first = confirmed.matches.listings[0].listing
    assert size.reply.splitlines()[0].endswith(f": {first.size_m2:,.0f} m²")
    assert "Source:" not in size.reply


def test_a_second_yes_does_not_repeat_the_confirmation_and_the_list(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, confirmed, again = asyncio.run(
        _chat(
            service, "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month", "yes", "correct"
        )
    )
    assert "listings fit your brief:" in confirmed.reply
    assert again.reply.startswith("Your brief is already confirmed.")
    assert "listings fit" not in again.reply


def test_a_contact_left_with_the_request_for_a_broker_is_not_asked_for_again(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, handed = asyncio.run(
        _chat(
            service,
            "I need an office in Miami, 1200 sf, 5k a month",
            "can someone call me? my number is 305 555 0199",
        )
    )
    assert handed.brief["extras"]["phone"]["value"] == "+13055550199"
    assert "at +13055550199" in handed.reply
    assert "leave a phone number" not in handed.reply


def test_no_budget_yet_is_answered_with_what_the_market_asks_for_the_brief(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, flexible, sized = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara",
            "the budget is flexible",
            "about 500 m2",
        )
    )
    prices = asyncio.run(matcher.prices(flexible.brief))["en"]
    assert flexible.reply.startswith("No problem, we can settle the budget later. For reference, ")
    assert prices[:1].lower() + prices[1:] in flexible.reply
    assert flexible.reply.endswith("What is the total size you need in m²?")
    assert "budget" not in flexible.brief["fields"]
    # Only when the prospect says so: the next turn asks for the budget gently, no prices.
    assert "For reference" not in sized.reply
    assert "budget" in sized.reply


def test_no_budget_before_the_kind_and_city_are_known_is_just_noted(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, unknown = asyncio.run(_chat(service, "hi, I need some space", "no idea about the budget"))
    assert unknown.reply.startswith("No problem, we can settle the budget later.")
    assert "For reference" not in unknown.reply


def test_prices_are_quoted_in_the_prospects_currency(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    """Offices in Miami in dollars (the city's own currency), offices in Mexico City in pesos,
    and in dollars once the budget is in dollars."""
    service = make_service(matcher=matcher)
    _, miami = asyncio.run(_chat(service, "office in Miami", "how much do offices cost there?"))
    _, cdmx, dollars = asyncio.run(
        _chat(
            service,
            "office in Mexico City",
            "how much do offices cost there?",
            "our budget is 10,000 USD a month, how much do offices cost there?",
        )
    )
    assert "Rents for offices in Miami run about" in miami.reply
    assert "USD/m² a month" in miami.reply
    assert "MXN" not in miami.reply
    assert "MXN/m² a month" in cdmx.reply
    assert "USD/m² a month" in dollars.reply
    assert "MXN" not in dollars.reply


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (
            (
                "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
                "yes",
                "can I visit the second one on Tuesday?",
                "my email is ops@example.com",
            ),
            "Thank you: the broker will get in touch with you at ops@example.com to agree the "
            "day and time of the visit.",
        ),
        (
            (
                "I need an office in Miami, 1200 sf, 5k a month",
                "I'd like to talk to a broker",
                "you can call me at 305 555 0199",
            ),
            "A broker already has your conversation and will get in touch at +13055550199.",
        ),
    ],
)
def test_the_contact_a_broker_was_waiting_for_is_taken_with_thanks(
    make_service: Callable[..., ConversationService],
    matcher: MatchService,
    texts: tuple[str, ...],
    expected: str,
) -> None:
    service = make_service(matcher=matcher)
    *_, asked, left = asyncio.run(_chat(service, *texts))
    assert "leave a phone number or an email" in asked.reply
    assert left.reply == expected
    assert set(left.brief["extras"]) & {"email", "phone"}


def _zones(service: ConversationService, matcher: MatchService, kind: str) -> dict[str, float]:
    """The zones of Mexico City with a listing of ``kind`` for rent, and one's size."""
    (opened,) = asyncio.run(_chat(service, f"{kind} for rent in Mexico City"))
    found = asyncio.run(matcher.matches(opened.brief, limit=300)).listings
    return {m.listing.zone: m.listing.size_m2 for m in found if m.listing.zone}


def test_a_zone_with_nothing_that_fits_is_said_before_the_listings_elsewhere(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    listed = _zones(service, matcher, "office")
    zone = next(z.name for z in load_zones() if z.city == "Mexico City" and z.name not in listed)
    _, confirmed = asyncio.run(
        _chat(
            service, f"I need an office in {zone}, Mexico City, 300 m2, 150k pesos a month", "yes"
        )
    )
    assert confirmed.brief["extras"]["zone"]["value"] == zone
    shown = confirmed.matches.listings[:3]
    assert shown
    assert (
        f"None in {zone} for now; these {len(shown)} in other parts of the city fit the rest "
        "of your brief:" in confirmed.reply
    )
    assert "listings fit your brief" not in confirmed.reply


def test_a_zone_with_listings_that_fit_shows_them_without_excuses(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    zone, size = sorted(_zones(service, matcher, "office").items())[0]
    _, confirmed = asyncio.run(
        _chat(
            service, f"office in {zone}, Mexico City, {size:.0f} m2, 2 million pesos a month", "yes"
        )
    )
    assert any(m.listing.zone == zone for m in confirmed.matches.listings[:3])
    assert "None in" not in confirmed.reply


def test_an_ok_before_a_request_for_a_broker_is_not_a_second_confirmation(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, _, handed = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
            "yes",
            "ok, can a broker call me? 33 1234 5678",
        )
    )
    assert handed.reply == (
        "Of course: I'm passing your conversation to one of our brokers, who will get in touch "
        "with you at +523312345678."
    )
    assert handed.state.confirmed


def test_a_question_about_prices_beside_another_request_is_answered_too(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    (asked,) = asyncio.run(
        _chat(
            service,
            "Hello! Two questions: do you have warehouses in Monterrey, and what's the typical "
            "price per m2?",
        )
    )
    prices = asyncio.run(matcher.prices(asked.brief))["en"]
    assert asked.brief["fields"]["property_type"]["value"] == "warehouse"
    assert prices in asked.reply
    assert asked.reply.endswith(
        "What is your budget (amount and currency) and the total size you need in m²?"
    )


def test_a_question_after_the_details_in_one_sentence_is_put_to_the_guides_alone(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    (asked,) = asyncio.run(
        _chat(service, "I need an office in Mexico City, what documents do I need?")
    )
    assert "Source: Documents to lease commercial space" in asked.reply
    assert asked.brief["fields"]["city"]["value"] == "Mexico City"


def test_when_the_listings_shown_are_available_is_answered_from_them(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    _, confirmed, opened, available = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
            "yes",
            "can I see the first one?",
            "are they available in March?",
        )
    )
    shown = [m.listing for m in confirmed.matches.listings[:3]]
    assert opened.reply.startswith("1. ")
    lines = available.reply.splitlines()
    assert len(lines) == len(shown)
    for n, (line, listing) in enumerate(zip(lines, shown, strict=True), start=1):
        assert line.startswith(f"{n}. ")
        if listing.available_from is None:
            assert line.endswith("availability not stated")
        elif listing.available_from <= TODAY:
            assert line.endswith("available now")
        else:
            assert line.endswith(f"available from {listing.available_from.isoformat()}")
    # A question about the listings: no move-in date for the brief, no new summary.
    assert available.brief == confirmed.brief
    assert "Here is your updated brief" not in available.reply


def test_asked_for_something_bigger_the_listings_that_fit_come_largest_first(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    *_, larger = asyncio.run(
        _chat(
            service,
            "I need a warehouse in Guadalajara, 1000 m2, 90k MXN a month",
            "yes",
            "anything bigger?",
        )
    )
    shown = larger.matches.listings[:3]
    assert larger.reply.startswith(f"The {len(shown)} largest that fit your brief:")
    sizes = [m.listing.size_m2 for m in shown]
    assert sizes == sorted(sizes, reverse=True)
    fits = asyncio.run(matcher.matches(larger.brief, limit=30)).listings
    assert sizes[0] == max(m.listing.size_m2 for m in fits)


def test_asked_for_something_bigger_with_nothing_to_show_is_no_question_for_the_guides(
    make_service: Callable[..., ConversationService], matcher: MatchService
) -> None:
    service = make_service(matcher=matcher)
    *_, larger = asyncio.run(
        _chat(
            service, "I need an office in Oaxaca, 80 m2, 12,000 pesos a month", "yes", "and bigger?"
        )
    )
    assert "Source:" not in larger.reply
    assert larger.reply.startswith("I have no listings that fit this brief yet")
