"""The pick stage (a number from the list last shown), the route stage (what an intent
leads to) and WhatsApp's splitting of long replies."""

from __future__ import annotations

import pytest

from realty.channels.whatsapp import MAX_BODY_CHARS, bodies
from realty.domain.brief import Brief, Money, PropertyType, Scalar, Slot
from realty.domain.turn import Candidate, TurnUpdate
from realty.parsing.questions import asked_clauses, asked_sentences
from realty.pipeline.intent import TurnIntent
from realty.pipeline.pick import (
    ListingPicker,
    Pick,
    named_position,
    wants_cheaper,
    wants_more,
)
from realty.pipeline.route import Route, Router


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("2", 2),
        ("#3", 3),
        ("ver el 2", 2),
        ("Show me number 3 please", 3),
        ("la segunda", 2),
        ("the second one", 2),
        ("I like the first one", 1),
        ("quiero ver la opción 1", 1),
        ("me interesa la 3", 3),
        ("dos", 2),
        ("el último", 3),
        ("the last one", 3),
        ("can I see the first one?", 1),
        ("could you show me number 2?", 2),
        ("¿puedo ver la primera?", 1),
        ("¿me puedes mostrar la 2?", 2),
    ],
)
def test_a_choice_from_the_list_is_read(text: str, position: int) -> None:
    assert ListingPicker().pick(text, 3) == Pick(position=position, valid=True)


@pytest.mark.parametrize(
    "text",
    [
        "2 parking spaces",
        "the second floor, 300 m²",
        "20 mil",
        "2.5",
        "1 or 2",
        "in 2 months",
        "yes",
        "an office in Monterrey",
        "show me number 2 with 10 parking spaces and a loading dock in the north",
        "I want something cheaper in Polanco",
        "the cheapest and the biggest",
        "can I get 2 parking spaces?",
        "puedo pagar 2",
    ],
)
def test_a_message_that_says_more_than_a_choice_is_not_a_pick(text: str) -> None:
    assert ListingPicker().pick(text, 3) is None


@pytest.mark.parametrize(
    ("text", "which"),
    [
        ("¿cuál es la más barata?", "cheapest"),
        ("which one is the cheapest?", "cheapest"),
        ("the least expensive please", "cheapest"),
        ("la más grande", "largest"),
        ("show me the biggest", "largest"),
        ("the smallest one", "smallest"),
        ("¿cuál es la más chica?", "smallest"),
        ("what's the cheapest one?", "cheapest"),
        ("which of them is the biggest?", "largest"),
    ],
)
def test_a_listing_asked_for_by_what_it_is_is_a_pick_the_service_resolves(
    text: str, which: str
) -> None:
    assert ListingPicker().pick(text, 3) == Pick(position=0, valid=True, superlative=which)


def test_a_position_outside_the_list_is_read_as_invalid_and_an_empty_list_has_no_picks() -> None:
    picker = ListingPicker()
    assert picker.pick("7", 3) == Pick(position=7, valid=False)
    assert picker.pick("0", 3) == Pick(position=0, valid=False)
    assert picker.pick("2", 0) is None


def _intent(name: str, confidence: float = 0.9) -> TurnIntent:
    return TurnIntent(intent=name, confidence=confidence, sentiment=0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("intent", "route"),
    [
        ("ask_question", Route("assist")),
        ("simulate", Route("assist")),
        ("talk_to_person", Route("handoff", "person")),
        ("book_visit", Route("handoff", "visit")),
        ("search", Route("search")),
        ("market", Route("market")),
        ("give_details", Route("brief")),
        ("greeting", Route("brief")),
        ("off_topic", Route("assist")),
    ],
)
def test_each_intent_has_its_route(intent: str, route: Route) -> None:
    assert Router().route(_intent(intent)) == route


def test_a_guessed_intent_or_none_follows_the_brief() -> None:
    assert Router().route(_intent("talk_to_person", 0.55)) == Route("brief")
    assert Router().route(None) == Route("brief")


def test_the_handoff_says_how_the_broker_will_reach_the_prospect() -> None:
    router = Router()
    web = router.handoff_text("person", "en", contact_known=False, again=False)
    assert "leave a phone number or an email" in web
    whatsapp = router.handoff_text("person", "es", contact_known=True, again=False)
    assert whatsapp.endswith("a este número.")
    assert router.handoff_text("person", "en", contact_known=True, again=True).startswith(
        "A broker already has your conversation"
    )
    assert "visita" in router.handoff_text("visit", "es", contact_known=True, again=True)
    # A contact the prospect left is the one the broker will use: nothing is asked.
    left = router.handoff_text(
        "person", "en", contact_known=False, again=False, contact="+13055550199"
    )
    assert left.endswith("will get in touch with you at +13055550199.")


def test_a_short_reply_is_one_whatsapp_message() -> None:
    assert bodies("Hola") == ["Hola"]
    assert bodies("") == [""]


def test_a_long_reply_is_split_between_paragraphs_and_nothing_is_lost() -> None:
    paragraphs = [f"{n}. " + "word " * 80 for n in range(1, 12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = bodies(text)
    assert len(parts) > 1
    assert all(len(part) <= MAX_BODY_CHARS for part in parts)
    assert "\n\n".join(parts) == text


def test_a_paragraph_longer_than_a_message_is_split_by_lines_then_words() -> None:
    text = "x" * 10 + " " + ("y" * 30 + " ") * 100
    parts = bodies(text.strip(), limit=100)
    assert all(len(part) <= 100 for part in parts)
    assert " ".join(parts).split() == text.split()
    assert bodies("z" * 250, limit=100) == ["z" * 100, "z" * 100, "z" * 50]


def _update(*keys: str) -> TurnUpdate:
    return TurnUpdate(
        text="…", accepted=tuple(Candidate(key=k, value=None, span=(0, 1)) for k in keys)
    )


def test_a_cost_question_does_not_set_the_budget_it_supposes() -> None:
    update = _update("budget", "property_type")
    kept = Router().hypothetical(update, Brief(), _intent("simulate"))
    assert [c.key for c in kept.accepted] == ["property_type"]


def test_a_process_question_does_not_replace_what_the_brief_holds() -> None:
    brief = Brief().with_slot("property_type", Slot(value=PropertyType(value="office")))
    brief = brief.with_slot("city", Slot(value=Scalar(kind="text", value="Monterrey")))
    update = _update("property_type", "city")
    kept = Router().hypothetical(update, brief, _intent("ask_question"))
    # The kind named in passing goes; a city stands ("can we look in Monterrey instead?").
    assert [c.key for c in kept.accepted] == ["city"]
    # A detail, or nothing to drop, leaves the update as it was.
    assert Router().hypothetical(update, brief, _intent("give_details")) is update
    assert Router().hypothetical(_update("city"), brief, _intent("ask_question")).accepted


def test_renting_named_in_a_process_question_is_no_budget() -> None:
    text = "¿qué documentos necesito para rentar?"
    rent = Candidate(key="budget", value=Money(modality="rent"), span=(29, 36))
    amount = Candidate(key="budget", value=Money(amount=70000, modality="rent"), span=(29, 36))
    update = TurnUpdate(text=text, accepted=(rent,))
    assert Router().hypothetical(update, Brief(), _intent("ask_question")).accepted == ()
    # An amount said in the same question stands, and so does renting in a statement.
    kept = TurnUpdate(text=text, accepted=(amount,))
    assert Router().hypothetical(kept, Brief(), _intent("ask_question")) is kept
    stated = rent.model_copy(update={"span": (7, 13)})
    said = TurnUpdate(text="Quiero rentar. ¿Qué documentos piden?", accepted=(stated,))
    assert Router().hypothetical(said, Brief(), _intent("ask_question")) is said


def test_a_budget_stated_beside_a_cost_question_stays() -> None:
    text = "500m2, 20k USD a month. How much would I pay to move in? Or with 30k?"
    stated, asked = text.index("20k"), text.index("30k")
    update = TurnUpdate(
        text=text,
        accepted=(
            Candidate(key="budget", value=None, span=(stated, stated + 7)),
            Candidate(key="budget", value=None, span=(asked, asked + 3)),
        ),
    )
    kept = Router().hypothetical(update, Brief(), _intent("simulate"))
    # Only the amount inside a sentence marked as a question is the simulation's own.
    assert [c.span[0] for c in kept.accepted] == [stated]


@pytest.mark.parametrize(
    ("text", "questions"),
    [
        ("Necesito 200 m2. ¿Cuánto es el depósito?", ["¿Cuánto es el depósito?"]),
        ("We need a warehouse, but first: what documents?", ["what documents?"]),
        ("¿una bodega en Monterrey", ["¿una bodega en Monterrey"]),
        ("office. How much? And the deposit?", ["How much?", "And the deposit?"]),
        ("no questions here.", []),
    ],
)
def test_sentences_marked_as_questions(text: str, questions: list[str]) -> None:
    assert [text[a:b] for a, b in asked_sentences(text)] == questions


@pytest.mark.parametrize(
    ("text", "questions"),
    [
        (
            "Hello! Two questions: do you have warehouses in Monterrey, and what's the price?",
            ["do you have warehouses in Monterrey", "what's the price?"],
        ),
        (
            "I need an office in Mexico City, what documents do I need?",
            ["I need an office in Mexico City", "what documents do I need?"],
        ),
        ("busco oficina en Guadalajara, ¿y cuánto cuestan?", ["¿y cuánto cuestan?"]),
        (
            "¿Tienen bodegas en Monterrey y cuánto cuestan?",
            ["¿Tienen bodegas en Monterrey", "cuánto cuestan?"],
        ),
        ("is there parking for trucks and vans?", ["is there parking for trucks and vans?"]),
    ],
)
def test_questions_joined_in_one_sentence_are_read_apart(text: str, questions: list[str]) -> None:
    assert asked_clauses(text) == questions


@pytest.mark.parametrize(
    ("text", "more"),
    [
        ("show me more", True),
        ("muéstrame más opciones", True),
        ("any more?", True),
        ("what else do you have?", True),
        ("¿tienes otros?", True),
        ("siguientes", True),
        # Something else than the next listings of the same search.
        ("any cheaper?", False),
        ("¿hay algo más barato?", False),
        ("I need more space", False),
        ("otra ciudad", False),
        ("more than 500 m2", False),
    ],
)
def test_wants_more_reads_a_request_for_the_next_listings(text: str, more: bool) -> None:
    assert wants_more(text) is more


@pytest.mark.parametrize(
    ("text", "cheaper"),
    [
        ("any cheaper?", True),
        ("¿hay algo más barato?", True),
        ("something more affordable please", True),
        ("algo menos caro", True),
        ("show me more", False),
        ("the cheapest", False),  # a pick of the list shown
        ("más grande", False),
    ],
)
def test_wants_cheaper_reads_a_request_for_lower_prices(text: str, cheaper: bool) -> None:
    assert wants_cheaper(text) is cheaper


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("does the first one have parking?", 1),
        ("¿la 2 tiene andenes?", 2),
        ("does #3 have docks?", 3),
        ("the last one, is it furnished?", 3),
        ("do they have 2 docks?", None),  # a count, not a position
        ("¿tiene estacionamiento?", None),
        ("is the fifth one furnished?", None),  # past the list
    ],
)
def test_named_position_inside_a_longer_message(text: str, position: int | None) -> None:
    assert named_position(text, 3) == position
