"""Volunteered facts, dates, withdrawals, conversational signals and language detection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realty.domain.brief import Scalar
from realty.domain.turn import ParseContext
from realty.parsing.facts import FactFinder
from realty.parsing.signals import (
    LanguageDetector,
    SignalFinder,
    choice_index,
    is_filler,
    looks_gibberish,
    looks_off_topic,
)
from realty.parsing.text import Message

TODAY = ParseContext(today="2026-03-10")


@pytest.fixture(scope="module")
def facts() -> FactFinder:
    return FactFinder()


@pytest.fixture(scope="module")
def signals() -> SignalFinder:
    return SignalFinder(LanguageDetector())


def _facts(finder: FactFinder, text: str) -> list[tuple[str, str, object]]:
    out = []
    for cand in finder.find(Message.of(text), TODAY):
        value = cand.value.value if isinstance(cand.value, Scalar) else None
        out.append((cand.key, cand.op, value))
    return out


# ---- yes/no extras -----------------------------------------------------------------------

FACT_CASES = [
    ("pet friendly please", [("pets_allowed", "set", True)]),
    ("que acepte mascotas", [("pets_allowed", "set", True)]),
    ("no pets", [("pets_allowed", "set", False)]),
    ("sin mascotas", [("pets_allowed", "set", False)]),
    ("pets are not allowed", [("pets_allowed", "set", False)]),
    ("amueblado", [("furnished", "set", True)]),
    ("fully furnished", [("furnished", "set", True)]),
    ("not furnished", [("furnished", "set", False)]),
    ("sin amueblar", [("furnished", "set", False)]),
    ("an unfurnished office", [("furnished", "set", False)]),
    ("con energía trifásica", [("three_phase_power", "set", True)]),
    ("3-phase power", [("three_phase_power", "set", True)]),
    ("elevador", [("elevator", "set", True)]),
    ("no elevator", [("elevator", "set", False)]),
    ("aire acondicionado", [("air_conditioning", "set", True)]),
    ("A/C", [("air_conditioning", "set", True)]),
    ("seguridad 24/7", [("security_24h", "set", True)]),
    ("24-hour security", [("security_24h", "set", True)]),
    ("with parking", [("parking", "set", True)]),
    ("con estacionamiento", [("parking", "set", True)]),
    ("500 m2 with parking", [("parking", "set", True)]),
    ("3 parking spaces", []),
    ("3 cajones de estacionamiento", []),
    ("estacionamiento para 10 autos", []),
    ("cochera", [("garage", "set", True)]),
    ("a garage", [("garage", "set", True)]),
    ("in-unit laundry", [("in_unit_laundry", "set", True)]),
    ("washer/dryer", [("in_unit_laundry", "set", True)]),
    ("lavandería", [("in_unit_laundry", "set", True)]),
    (
        "sin elevador ni aire acondicionado",
        [("elevator", "set", False), ("air_conditioning", "set", False)],
    ),
    (
        "sin mascotas, con estacionamiento",
        [("pets_allowed", "set", False), ("parking", "set", True)],
    ),
    ("I can spend 20,000 USD for 500m².", []),
]


@pytest.mark.parametrize(("text", "expected"), FACT_CASES)
def test_yes_no_extras(facts: FactFinder, text: str, expected: list[object]) -> None:
    assert _facts(facts, text) == expected


# A question about a property's features is not a requirement; a request still is.
QUESTION_CASES = [
    ("Is it furnished?", []),
    ("Is the apartment furnished? What is the phone number?", []),
    ("Are pets allowed?", []),
    ("Yes, that's right. Does it have in-unit laundry and a garage?", []),
    ("What's their number, and do they have a garage", []),
    ("Tell me the phone number and if it is furnished", []),
    ("Does the home have laundry machines? A garage?", []),
    ("¿Está amueblado?", []),
    ("Can you find me a place with a garage?", [("garage", "set", True)]),
    ("Do you have anything furnished?", [("furnished", "set", True)]),
    ("Anything with a garage?", [("garage", "set", True)]),
    ("Is there an office with parking in Monterrey?", [("parking", "set", True)]),
    ("Are there any apartments that allow pets?", [("pets_allowed", "set", True)]),
    ("Is there a garage?", []),
    (
        "I need a place that has parking and is furnished.",
        [("parking", "set", True), ("furnished", "set", True)],
    ),
    ("I'd also prefer if it was furnished.", [("furnished", "set", True)]),
    ("¿Tienen oficinas con estacionamiento?", [("parking", "set", True)]),
    ("Busco oficina amueblada?", [("furnished", "set", True)]),
    # A suggestion is a wish, not a question about a listing.
    ("what about parking?", [("parking", "set", True)]),
    ("And how about a garage?", [("garage", "set", True)]),
    ("¿y con estacionamiento?", [("parking", "set", True)]),
    ("with parking?", [("parking", "set", True)]),
]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("does the first one have parking?", ("parking_spaces",)),
        ("¿tiene estacionamiento?", ("parking_spaces",)),
        (
            "do they have loading docks and three phase power?",
            ("loading_docks", "three_phase_power"),
        ),
        ("¿qué altura libre tiene?", ("ceiling_height",)),
        ("Is it furnished?", ("furnished",)),
        ("how big is the first one?", ("size",)),
        ("¿cuánto mide la 3?", ("size",)),
        # A wish or a request asks nothing about a listing.
        ("we need parking", ()),
        ("what about parking?", ()),
        ("Anything with a garage?", ()),
    ],
)
def test_the_features_a_question_about_a_listing_names(
    facts: FactFinder, text: str, keys: tuple[str, ...]
) -> None:
    assert facts.asked(Message.of(text)) == keys


@pytest.mark.parametrize(("text", "expected"), QUESTION_CASES)
def test_questions_about_features_set_nothing(
    facts: FactFinder, text: str, expected: list[object]
) -> None:
    assert _facts(facts, text) == expected


def test_negation_span_covers_the_negation(facts: FactFinder) -> None:
    (cand,) = facts.find(Message.of("Busco algo sin mascotas"), TODAY)
    assert cand.span == (11, 23)


REMOVAL_CASES = [
    ("forget the parking", "parking"),
    ("ya no necesito estacionamiento", "parking"),
    ("remove pets", "pets_allowed"),
    ("quita lo de las mascotas", "pets_allowed"),
    ("no longer need an elevator", "elevator"),
    ("I don't need parking anymore", "parking"),
    ("forget the move-in date", "move_in_date"),
    ("quita la zona", "zone"),
    # Not needing a feature withdraws it; it does not ask for a place without it.
    ("I don't need an elevator", "elevator"),
    ("no necesito estacionamiento", "parking"),
    ("no ocupamos elevador", "elevator"),
    ("we do not need it furnished", "furnished"),
    ("no hace falta el clima", "air_conditioning"),
]


@pytest.mark.parametrize(("text", "key"), REMOVAL_CASES)
def test_withdrawals(facts: FactFinder, text: str, key: str) -> None:
    found = _facts(facts, text)
    assert found[0] == (key, "remove", None)
    # Withdrawing parking also withdraws a parking-space count stated earlier.
    companions = [("parking_spaces", "remove", None)] if key == "parking" else []
    assert found[1:] == companions


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("forget the loading docks", "loading_docks"),
        ("ya no necesito los andenes", "loading_docks"),
        ("remove the floor requirement", "floor"),
        ("olvida la altura libre", "ceiling_height"),
        # Required fields too: withdrawn, they are asked for again.
        ("olvídate del presupuesto", "budget"),
        ("forget the budget", "budget"),
        ("quita el tamaño", "size"),
    ],
)
def test_withdrawals_of_counted_extras(facts: FactFinder, text: str, key: str) -> None:
    assert (key, "remove", None) in _facts(facts, text)


PRIORITY_CASES = [
    ("#1 priority is parking", "parking", "#1 priority is parking"),
    ("lo más importante es el estacionamiento", "parking", "más importante es el estacionamiento"),
    ("My top priority is price", "budget", "top priority is price"),
    ("pet friendly is a must have", "pets_allowed", "pet friendly is a must have"),
]


@pytest.mark.parametrize(
    "text", ["it must have an elevator", "must have 8 parking stalls", "and it must have trifásica"]
)
def test_must_have_asks_without_ranking(facts: FactFinder, text: str) -> None:
    found = facts.find(Message.of(text), TODAY)
    assert [c for c in found if c.key == "top_priority"] == []


@pytest.mark.parametrize(("text", "value", "covered"), PRIORITY_CASES)
def test_top_priority(facts: FactFinder, text: str, value: str, covered: str) -> None:
    found = facts.find(Message.of(text), TODAY)
    priority = [c for c in found if c.key == "top_priority"]
    assert [c.value for c in priority] == [Scalar(kind="text", value=value)]
    start, end = priority[0].span
    assert text[start:end] == covered


def test_priority_also_sets_the_fact(facts: FactFinder) -> None:
    found = _facts(facts, "#1 priority is parking")
    assert ("parking", "set", True) in found


DATE_CASES = [
    ("move in March 2027", "2027-03-01"),
    ("I'd like to move in next month", "2026-04-01"),
    ("a partir de enero", "2027-01-01"),
    ("starting next month", "2026-04-01"),
    ("para el 15 de febrero", "2027-02-15"),
    ("disponible desde el 1 de abril", "2026-04-01"),
    ("quiero mudarme el mes que viene", "2026-04-01"),
    ("ASAP", "2026-03-10"),
    ("lo antes posible", "2026-03-10"),
    ("we need to move in 2 months", "2026-05-01"),
    # "next" / "próximo" before a month name: that month ahead.
    ("starting next March", "2027-03-01"),
    ("nos mudamos el próximo marzo", "2027-03-01"),
    ("we plan to move in this coming June", "2026-06-01"),
]


@pytest.mark.parametrize(("text", "iso"), DATE_CASES)
def test_move_in_date(facts: FactFinder, text: str, iso: str) -> None:
    found = [c for c in facts.find(Message.of(text), TODAY) if c.key == "move_in_date"]
    assert [c.value for c in found] == [Scalar(kind="date", value=iso)]


NO_DATE_CASES = [
    "from 20,000 USD",
    "oficina para 20 personas",
    "15 de febrero",
    "start over",
    "desde 500 m2",
    "I need 2 months of free rent",
]


@pytest.mark.parametrize("text", NO_DATE_CASES)
def test_no_date_without_a_move_cue(facts: FactFinder, text: str) -> None:
    assert [c for c in facts.find(Message.of(text), TODAY) if c.key == "move_in_date"] == []


# TODAY is Tuesday 2026-03-10.
VISIT_CASES = [
    ("I want to visit the apartment on the 11th of this month", "2026-03-11"),
    ("Can you schedule a visit for the 20th of March?", "2026-03-20"),
    ("I'd like to schedule a tour on Wednesday next week.", "2026-03-18"),
    ("I would like to go see the apartment on Sunday this week.", "2026-03-15"),
    ("Yes, I want to visit later today.", "2026-03-10"),
    ("I'd like to see it on the 3rd", "2026-04-03"),
    ("I want to go on the 14th.", "2026-03-14"),
    ("Me gustaría visitarla el 15 de marzo", "2026-03-15"),
    ("¿Podemos agendar una cita el próximo lunes?", "2026-03-16"),
    ("Quiero visitarla el miércoles de la próxima semana", "2026-03-18"),
    ("On March 16th I'd like to visit the property.", "2026-03-16"),
    ("Would you set up a property visit for me? Let's try for Friday this week.", "2026-03-13"),
    ("Me gustaría visitarla. ¿Qué tal el 15 de marzo?", "2026-03-15"),
    ("Yeah, I'd like to plan a trip on the 13th.", "2026-03-13"),
    ("I want to go the day after tomorrow.", "2026-03-12"),
    ("me gusta la 1, ¿la puedo ver el lunes?", "2026-03-16"),
    ("quiero conocerla mañana", "2026-03-11"),
]


@pytest.mark.parametrize(("text", "iso"), VISIT_CASES)
def test_visit_date(facts: FactFinder, text: str, iso: str) -> None:
    found = [c for c in facts.find(Message.of(text), TODAY) if c.key.endswith("date")]
    assert [(c.key, c.value) for c in found] == [("visit_date", Scalar(kind="date", value=iso))]


NO_VISIT_CASES = [
    "I want to visit",
    "schedule a call with the agent",
    "I want to go with 3 bedrooms",
    "Can I schedule a visit? I need 500 m2 by March",
]


@pytest.mark.parametrize("text", NO_VISIT_CASES)
def test_no_visit_date_without_a_date_after_the_cue(facts: FactFinder, text: str) -> None:
    assert [c for c in facts.find(Message.of(text), TODAY) if c.key == "visit_date"] == []


RESCHEDULING = [
    ("Make it for the 19th of March.", "2026-03-19"),
    ("No, how about the 12th instead?", "2026-03-12"),
    ("Mejor el 19", "2026-03-19"),
]


@pytest.mark.parametrize(("text", "iso"), RESCHEDULING)
def test_a_new_date_changes_the_visit_being_arranged(
    facts: FactFinder, text: str, iso: str
) -> None:
    arranging = TODAY.model_copy(update={"known": ("visit_date",)})
    found = [c for c in facts.find(Message.of(text), arranging) if c.key.endswith("date")]
    assert [(c.key, c.value) for c in found] == [("visit_date", Scalar(kind="date", value=iso))]
    # Without a visit being arranged the same words name no visit.
    assert [c for c in facts.find(Message.of(text), TODAY) if c.key == "visit_date"] == []


def test_date_span_covers_the_numbers(facts: FactFinder) -> None:
    text = "Oficina en CDMX para el 15 de febrero"
    (cand,) = [c for c in facts.find(Message.of(text), TODAY) if c.key == "move_in_date"]
    assert text[cand.span[0] : cand.span[1]] == "para el 15 de febrero"


def test_bad_today_gives_no_date(facts: FactFinder) -> None:
    found = facts.find(Message.of("move in March"), ParseContext(today="not a date"))
    assert found == []


# ---- signals -----------------------------------------------------------------------------

SIGNAL_CASES = [
    ("Hola", {"greeting"}),
    ("ola", {"greeting"}),  # as chats spell it
    ("holi", {"greeting"}),
    ("buenos días", {"greeting"}),
    ("Hi there!", {"greeting"}),
    ("good morning", {"greeting"}),
    ("sí", {"affirm"}),
    ("Sí, correcto", {"affirm"}),
    ("listo, así está bien", {"affirm"}),
    ("dale", {"affirm"}),
    ("go ahead", {"affirm"}),
    ("works for me", {"affirm"}),
    ("más adelante lo vemos", {"off_topic"}),
    ("así es", {"affirm"}),
    ("yes", {"affirm"}),
    ("yeah that's right", {"affirm"}),
    ("sounds good", {"affirm"}),
    ("no", {"deny"}),
    ("nope", {"deny"}),
    ("No, that's wrong", {"deny"}),
    ("no es correcto", {"deny"}),
    ("no pets", {"correction"}),
    ("no, mejor en Guadalajara", {"correction"}),
    ("no sé", {"dont_know"}),
    ("no se todavía", {"dont_know"}),
    ("aún no sé", {"dont_know"}),
    ("not sure", {"dont_know"}),
    ("I don't know yet", {"dont_know"}),
    ("no idea", {"dont_know"}),
    ("tbd", {"dont_know"}),
    ("no tengo presupuesto definido", {"dont_know"}),
    ("aún no tengo el dato", {"dont_know"}),
    ("we don't have a budget yet", {"dont_know"}),
    ("no hemos decidido", {"dont_know"}),
    ("start over", {"start_over"}),
    ("empezar de nuevo", {"start_over"}),
    ("volver a empezar", {"start_over"}),
    ("borrar todo", {"start_over"}),
    ("gracias", {"thanks"}),
    ("thank you!", {"thanks"}),
    ("what can you do?", {"help", "question"}),
    ("ayuda", {"help"}),
    ("¿qué puedes hacer?", {"help", "question"}),
    ("how does this work", {"help", "question"}),
    ("Where is it?", {"question"}),
    ("¿Cuánto cuesta?", {"question"}),
    ("actually make it 600", {"correction"}),
    ("I mean Monterrey", {"correction"}),
    ("mejor en Guadalajara", {"correction"}),
    ("en realidad son 600", {"correction"}),
    ("perdón, 600 m2", {"correction"}),
    ("What's the weather like today?", {"off_topic", "question"}),
    ("me gusta mucho el fútbol", {"off_topic"}),
    ("asldkfjaslkdfj", {"gibberish"}),
    ("qwerty zxcv", {"gibberish"}),
    # ordinary sentences that contain signal words in other roles
    ("Right now I need an office", set()),
    ("la mejor oficina", set()),
    ("si tienen oficinas en renta", set()),
    ("no se puede rentar", {"correction"}),
    ("I need an office in Mexico City.", set()),
    ("I can spend 20,000 USD for 500m².", set()),
    ("500 m2", set()),
    ("CDMX", set()),
]


@pytest.mark.parametrize(("text", "expected"), SIGNAL_CASES)
def test_signals(signals: SignalFinder, text: str, expected: set[str]) -> None:
    assert set(signals.find(Message.of(text), ParseContext()).signals) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("I don't know the budget yet", {"budget"}),
        ("no sé cuánto espacio", {"size"}),
        ("not sure about the size or the budget", {"size", "budget"}),
        ("no sé todavía en qué ciudad", {"city"}),
        ("no sé", set()),
        # Only a "don't know" names fields: a plain detail names none.
        ("my budget is 20k", set()),
    ],
)
def test_a_dont_know_says_which_fields_it_is_about(
    signals: SignalFinder, text: str, named: set[str]
) -> None:
    assert signals.find(Message.of(text), ParseContext()).unknown_about == named


def test_signal_spans_explain_the_phrases(signals: SignalFinder) -> None:
    text = "Hola, gracias"
    found = signals.find(Message.of(text), ParseContext())
    assert sorted(text[a:b] for a, b in found.spans) == ["Hola", "gracias"]


LANGUAGE_CASES = [
    ("I need an office in Mexico City.", "en"),
    ("I can spend 20,000 USD for 500m².", "en"),
    ("Necesito una oficina en la Ciudad de México.", "es"),
    ("Puedo gastar 20 mil dólares por 500 m2", "es"),
    ("Busco una bodega en Monterrey", "es"),
    ("We are looking for a warehouse near the airport", "en"),
]


@pytest.mark.parametrize(("text", "language"), LANGUAGE_CASES)
def test_language_of_clear_sentences(signals: SignalFinder, text: str, language: str) -> None:
    found = signals.find(Message.of(text), ParseContext())
    assert found.language == language
    assert found.language_confidence >= 0.8


@pytest.mark.parametrize("text", ["500 m2", "CDMX", "ok", "Monterrey", "", "🙂", "pesos"])
def test_no_language_without_clues(signals: SignalFinder, text: str) -> None:
    found = signals.find(Message.of(text), ParseContext())
    assert (found.language, found.language_confidence) == (None, 0.0)


def test_short_greeting_is_not_a_confident_language(signals: SignalFinder) -> None:
    found = signals.find(Message.of("Hola"), ParseContext())
    assert found.language == "es"
    assert found.language_confidence < 0.8


OPTIONS = ("Mexico City", "Monterrey", "Guadalajara")
CHOICE_CASES = [
    ("the second one", 1),
    ("la segunda", 1),
    ("2", 1),
    ("option 3", 2),
    ("opción 2", 1),
    ("el último", 2),
    ("the last one", 2),
    ("the first", 0),
    ("I prefer the first one", 0),
    ("Monterrey", 1),
    ("500", None),
    ("the fourth", None),
    ("I need an office in Mexico City for 500 m2 please", None),
]


@pytest.mark.parametrize(("text", "index"), CHOICE_CASES)
def test_choice(signals: SignalFinder, text: str, index: int | None) -> None:
    found = signals.find(Message.of(text), ParseContext(options=OPTIONS))
    assert found.choice == index
    assert choice_index(Message.of(text), OPTIONS) == index


def test_no_choice_without_options(signals: SignalFinder) -> None:
    assert signals.find(Message.of("the second one"), ParseContext()).choice is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("por", True),
        ("favor", True),
        ("the", True),
        ("please", True),
        ("oficina", False),
        ("monterrey", False),
        ("500", False),
    ],
)
def test_is_filler(word: str, expected: bool) -> None:
    assert is_filler(word) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("me gusta el fútbol", True),
        ("tell me a joke about cats", True),
        ("tell me a joke", True),
        ("quiero rentar algo", False),
        ("20000", False),
        ("hola", False),
    ],
)
def test_looks_off_topic(text: str, expected: bool) -> None:
    assert looks_off_topic(Message.of(text)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("asldkfjaslkdfj", True),
        ("qwerty zxcv", True),
        ("hola", False),
        ("GDL", False),
        ("asdf 500", False),
        ("", False),
        ("xkcd oficina", False),
    ],
)
def test_looks_gibberish(text: str, expected: bool) -> None:
    assert looks_gibberish(Message.of(text)) is expected


# ---- robustness --------------------------------------------------------------------------

ODD_TEXTS = [
    "",
    "🙂🙂🙂",
    "\x00\x01\x02",
    "a" * 10_000,
    "no " * 3_000,
    "move in " * 500,
    "¿¡!?",
    "#1 priority",
    "priority",
    "sin",
    "para el 99 de febrero de 99999",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_never_raises_on_odd_text(facts: FactFinder, signals: SignalFinder, text: str) -> None:
    msg = Message.of(text)
    for ctx in (TODAY, ParseContext(options=OPTIONS)):
        facts.find(msg, ctx)
        signals.find(msg, ctx)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200))
def test_never_raises_on_random_text(facts: FactFinder, signals: SignalFinder, text: str) -> None:
    msg = Message.of(text)
    facts.find(msg, TODAY)
    signals.find(msg, ParseContext(options=OPTIONS))


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("the size is wrong", {"size"}),
        ("la superficie está mal", {"size"}),
        ("wrong city", {"city"}),
        ("no, the size", {"size"}),
        ("quiero cambiar la ciudad", {"city"}),
        ("I need to fix my budget", {"budget"}),
        ("el presupuesto no es correcto", {"budget"}),
        # Praise, a plain yes, or a value with no word of change ask for nothing.
        ("no está mal el precio", set()),
        ("yes, everything is correct, the size too", set()),
        ("the size is 300 m2", set()),
    ],
)
def test_a_value_said_to_be_wrong(signals: SignalFinder, text: str, keys: set[str]) -> None:
    assert signals.find(Message.of(text), ParseContext()).to_change == keys
