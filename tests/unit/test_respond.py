"""Replies: every action kind in both languages, joined questions and value formatting."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from realty.domain.brief import (
    Area,
    Brief,
    City,
    Language,
    Meta,
    Money,
    PropertyType,
    Scalar,
    Slot,
)
from realty.domain.fields import FieldRegistry
from realty.domain.machine import advance
from realty.domain.state import (
    Acknowledge,
    Action,
    AskFields,
    Blocked,
    BriefCompleted,
    ClarifyCity,
    ClarifyCurrency,
    Confirmed,
    ConfirmType,
    ConversationState,
    Greet,
    Help,
    NotedUnknown,
    Redirect,
    Reject,
    Removed,
    Reprompt,
    Restarted,
    Summary,
    Thanks,
    Transition,
)
from realty.domain.turn import Candidate, Rejection, RejectReason, TurnUpdate
from realty.pipeline.respond import Responder, area, day, join, money


def _registry() -> FieldRegistry:
    text = resources.files("realty.data").joinpath("fields.yaml").read_text("utf-8")
    return FieldRegistry.from_mapping(yaml.safe_load(text))


REGISTRY = _registry()
RESPONDER = Responder(REGISTRY)
CDMX = City(value="Mexico City", country="MX", lat=19.43, lon=-99.13)
ASSUMED = Meta(status="unconfirmed", confidence=0.8)


def slot(value: object, meta: Meta | None = None) -> Slot:
    return Slot.model_validate({"value": value, "meta": meta or Meta()})


def say(language: Language, *actions: Action, **state: object) -> str:
    current = ConversationState.model_validate({"language": language, **state})
    return RESPONDER.render(Transition(state=current, actions=actions))


COMPLETE = Brief(
    slots={
        "property_type": slot(PropertyType(value="office", text="office")),
        "city": slot(CDMX),
        "budget": slot(Money(amount=20_000, currency="USD")),
        "size": slot(Area(m2=500)),
    }
)


# ---- formatting ----

JOINS = [
    (["A"], "en", "A"),
    (["A", "B"], "en", "A and B"),
    (["A", "B", "C"], "en", "A, B and C"),
    (["A", "B", "C", "D"], "en", "A, B, C and D"),
    (["A", "B"], "es", "A y B"),
    (["A", "B", "C", "D"], "es", "A, B, C y D"),
    ([], "es", ""),
]


@pytest.mark.parametrize(("items", "language", "expected"), JOINS)
def test_join(items: list[str], language: Language, expected: str) -> None:
    assert join(items, language) == expected


MONEY = [
    (Money(amount=20_000, currency="USD"), "en", "20,000 USD"),
    (Money(amount=20_000, currency="USD"), "es", "20,000 USD"),
    (Money(amount=150_000, currency="MXN", period="month"), "es", "$150,000 MXN al mes"),
    (Money(amount=150_000, currency="MXN", period="month"), "en", "150,000 MXN per month"),
    (
        Money(amount=20_000, currency="USD", min=15_000, max=20_000, period="month"),
        "en",
        "15,000–20,000 USD per month",
    ),
    (
        Money(amount=20_000, currency="USD", period="month", modality="rent"),
        "en",
        "20,000 USD per month to rent",
    ),
    (
        Money(amount=3_500_000, currency="MXN", period="total", modality="buy"),
        "es",
        "$3,500,000 MXN en total para compra",
    ),
    (Money(amount=1_500.5, currency="USD"), "en", "1,500.50 USD"),
    (Money(min=15_000, currency="USD"), "en", "from 15,000 USD"),
    (Money(min=15_000, currency="USD"), "es", "desde 15,000 USD"),
    (Money(currency="USD", period="month"), "en", "USD per month"),
    (Money(amount=20_000), "es", "20,000"),
]


@pytest.mark.parametrize(("value", "language", "expected"), MONEY)
def test_money(value: Money, language: Language, expected: str) -> None:
    assert money(value, language) == expected


AREAS = [
    (Area(m2=500), "500 m²"),
    (Area(m2=500, original="500m²"), "500 m²"),
    (Area(m2=1_200_000 / 1000), "1,200 m²"),
    (Area(m2=464.5152, original="5,000 sq ft"), "465 m² (5,000 sq ft)"),
    (Area(m2=464.5152, original="5000 pies cuadrados"), "465 m² (5000 pies cuadrados)"),
    (Area(m2=20_000, original="2 hectáreas"), "20,000 m² (2 hectáreas)"),
    (Area(m2=500, min_m2=400, max_m2=500), "400–500 m²"),
    (Area(m2=7.25), "7.2 m²"),
    (Area(m2=3.0), "3 m²"),
]


@pytest.mark.parametrize(("value", "expected"), AREAS)
def test_area(value: Area, expected: str) -> None:
    assert area(value) == expected


@pytest.mark.parametrize(
    ("iso", "language", "expected"),
    [
        ("2026-03-01", "en", "March 1, 2026"),
        ("2026-03-01", "es", "1 de marzo de 2026"),
        ("next week", "en", "next week"),
    ],
)
def test_day(iso: str, language: Language, expected: str) -> None:
    assert day(iso, language) == expected


# ---- the joined question ----

QUESTIONS = [
    (("budget",), "en", "What is your budget (amount and currency)?"),
    (
        ("budget", "size"),
        "en",
        "What is your budget (amount and currency) and the total size you need in m²?",
    ),
    (
        ("budget", "size"),
        "es",
        "¿Cuál es tu presupuesto (monto y moneda) y la superficie total que necesitas en m²?",
    ),
    (("city",), "en", "Could you tell me in which city?"),
    (("city",), "es", "¿Me podrías decir en qué ciudad?"),
    (
        ("city", "budget", "size"),
        "en",
        "Could you tell me in which city, your budget (amount and currency) and the total size "
        "you need in m²?",
    ),
    (
        ("property_type", "city", "budget", "size"),
        "en",
        "Could you tell me what type of property you need (office, warehouse, retail…), in which "
        "city, your budget (amount and currency) and the total size you need in m²?",
    ),
    (
        ("property_type", "city", "budget", "size"),
        "es",
        "¿Me podrías decir qué tipo de inmueble buscas (oficina, bodega, local…), en qué ciudad, "
        "tu presupuesto (monto y moneda) y la superficie total que necesitas en m²?",
    ),
    (("move_in_date",), "en", "Could you tell me when you would like to move in?"),
    ((), "en", "What would you like to change?"),
    ((), "es", "¿Qué te gustaría cambiar?"),
]


@pytest.mark.parametrize(("keys", "language", "expected"), QUESTIONS)
def test_ask_fields_in_one_question(
    keys: tuple[str, ...], language: Language, expected: str
) -> None:
    assert say(language, AskFields(keys=keys)) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Whenever you're ready, could you tell me your budget (amount and currency)?"),
        ("es", "Cuando lo tengas, ¿me podrías decir tu presupuesto (monto y moneda)?"),
    ],
)
def test_deferred_fields_are_asked_gently(language: Language, expected: str) -> None:
    text = say(language, AskFields(keys=("budget",)), deferred=frozenset({"budget"}))
    assert text == expected


# ---- every action kind ----


def _cand(key: str, value: object) -> Candidate:
    return Candidate.model_validate({"key": key, "value": value, "span": (0, 1)})


def _reject(key: str, value: object, reason: RejectReason, kept: Slot | None) -> Reject:
    return Reject(rejection=Rejection(candidate=_cand(key, value), reason=reason), kept=kept)


BUDGET_800 = slot(Money(amount=800, currency="USD"))
SIZE_500 = slot(Area(m2=500))

ACTIONS: list[tuple[str, Action, Language, str]] = [
    ("greet", Greet(), "en", "Hi! I can help you find the right commercial property."),
    ("greet", Greet(), "es", "¡Hola! Con gusto te ayudo a encontrar el inmueble comercial ideal."),
    ("thanks", Thanks(), "en", "You're welcome!"),
    ("thanks", Thanks(), "es", "¡Con gusto!"),
    (
        "redirect",
        Redirect(),
        "en",
        "I can help you find commercial property, such as offices, warehouses or retail space.",
    ),
    (
        "redirect",
        Redirect(),
        "es",
        "Puedo ayudarte a encontrar inmuebles comerciales, como oficinas, bodegas o locales.",
    ),
    ("reprompt", Reprompt(), "en", "Sorry, I didn't understand that."),
    ("reprompt", Reprompt(), "es", "Perdón, no entendí tu mensaje."),
    ("restarted", Restarted(), "en", "Sure, let's start over."),
    ("restarted", Restarted(), "es", "Claro, empecemos de nuevo."),
    (
        "confirmed",
        Confirmed(),
        "en",
        "Great, your brief is confirmed.",
    ),
    (
        "confirmed",
        Confirmed(),
        "es",
        "Excelente, tu búsqueda quedó confirmada.",
    ),
    (
        "completed only",
        BriefCompleted(brief=COMPLETE),
        "en",
        "How can I help with your property search?",
    ),
    (
        "blocked empty",
        Blocked(reason="empty"),
        "es",
        "Tu mensaje llegó vacío. ¿Qué estás buscando?",
    ),
    (
        "blocked long",
        Blocked(reason="too_long", limit=4000, length=9000),
        "en",
        "Your message is too long for me to read (the limit is 4,000 characters). "
        "Could you send a shorter one?",
    ),
    ("removed", Removed(key="parking"), "en", 'Done, I removed "parking" from your brief.'),
    ("removed", Removed(key="parking"), "es", "Listo, quité «estacionamiento» de tu búsqueda."),
    (
        "reject kept",
        _reject("budget", Money(amount=-5000), "non_positive_amount", BUDGET_800),
        "en",
        "A budget has to be greater than zero, so I kept 800 USD.",
    ),
    (
        "reject kept",
        _reject("budget", Money(amount=-5000), "non_positive_amount", BUDGET_800),
        "es",
        "El presupuesto debe ser mayor que cero; conservé 800 USD.",
    ),
    (
        "reject nothing kept",
        _reject("budget", Money(amount=0), "non_positive_amount", None),
        "en",
        "A budget has to be greater than zero.",
    ),
    (
        "reject size",
        _reject("size", Area(m2=0.1), "size_out_of_range", SIZE_500),
        "en",
        "The size must be between 1 and 1,000,000 m², so I kept 500 m².",
    ),
    (
        "reject size",
        _reject("size", Area(m2=0.1), "size_out_of_range", SIZE_500),
        "es",
        "La superficie debe estar entre 1 y 1,000,000 m²; conservé 500 m².",
    ),
    (
        "reject range",
        _reject("budget", Money(amount=1, min=3, max=1), "range_inverted", None),
        "es",
        "El mínimo no puede ser mayor que el máximo.",
    ),
    (
        "reject count",
        _reject("parking_spaces", Scalar(kind="int", value=-2), "negative_count", None),
        "en",
        "The number of parking spaces can't be negative.",
    ),
    (
        "reject count",
        _reject("parking_spaces", Scalar(kind="int", value=-2), "negative_count", None),
        "es",
        "La cantidad de cajones de estacionamiento no puede ser negativa.",
    ),
    (
        "reject date",
        _reject("move_in_date", Scalar(kind="date", value="2020-01-01"), "date_in_past", None),
        "es",
        "La fecha de mudanza no puede estar en el pasado.",
    ),
    (
        "reject date kept",
        _reject(
            "move_in_date",
            Scalar(kind="date", value="2020-01-01"),
            "date_in_past",
            slot(Scalar(kind="date", value="2026-06-01")),
        ),
        "en",
        "The move-in date can't be in the past, so I kept June 1, 2026.",
    ),
    (
        "reject type",
        _reject("budget", Area(m2=3), "unknown_field_type", None),
        "es",
        "No pude usar ese valor para el presupuesto.",
    ),
    (
        "clarify city",
        ClarifyCity(text="Springfieldia", options=("Springfield", "Springdale", "Springville")),
        "en",
        'I couldn\'t find "Springfieldia". Did you mean Springfield, Springdale or Springville?',
    ),
    (
        "clarify city",
        ClarifyCity(text="Guadalajaraa", options=("Guadalajara",)),
        "es",
        "No encontré «Guadalajaraa». ¿Te refieres a Guadalajara?",
    ),
    (
        "choose city",
        ClarifyCity(text="GDL o MTY", options=("Guadalajara", "Monterrey"), options_from="named"),
        "es",
        "Busco en una ciudad a la vez: ¿cuál primero, Guadalajara o Monterrey?",
    ),
    (
        "choose city",
        ClarifyCity(text="Austin or Dallas", options=("Austin", "Dallas"), options_from="named"),
        "en",
        "I search one city at a time: which one first, Austin or Dallas?",
    ),
    (
        "region",
        ClarifyCity(text="el Bajío", options=("Querétaro", "León"), options_from="region"),
        "es",
        "El Bajío es una región y busco en una ciudad a la vez: ¿cuál, Querétaro o León?",
    ),
    (
        "unknown city",
        ClarifyCity(text="Xyzzy", options=()),
        "en",
        'I didn\'t recognise "Xyzzy" as a city.',
    ),
    (
        "clarify currency",
        ClarifyCurrency(amount=20_000, options=("MXN", "USD")),
        "en",
        "Is 20,000 in Mexican pesos (MXN) or US dollars (USD)?",
    ),
    (
        "clarify currency",
        ClarifyCurrency(amount=20_000, options=("MXN", "USD")),
        "es",
        "¿Los 20,000 son pesos mexicanos (MXN) o dólares estadounidenses (USD)?",
    ),
    (
        "confirm type",
        ConfirmType(text="data center"),
        "en",
        'Just to confirm: you\'re looking for "data center", is that right?',
    ),
    (
        "confirm type",
        ConfirmType(text="centro de datos"),
        "es",
        "Para confirmar: buscas «centro de datos», ¿correcto?",
    ),
    (
        "confirm blank type",
        ConfirmType(text=""),
        "en",
        "Just to confirm: you're looking for a less common type of property, is that right?",
    ),
    (
        "noted unknown",
        NotedUnknown(keys=("budget",)),
        "en",
        "No problem, we can settle the budget later. Just tell me when you know.",
    ),
    (
        "noted unknown",
        NotedUnknown(keys=("budget", "size")),
        "es",
        "Sin problema, podemos definir el presupuesto y la superficie total más adelante. "
        "Avísame cuando lo sepas.",
    ),
    (
        "summary",
        Summary(brief=COMPLETE),
        "en",
        "Here is your brief: office in Mexico City, budget 20,000 USD, 500 m². "
        "Is everything correct?",
    ),
    (
        "summary",
        Summary(brief=COMPLETE),
        "es",
        "Este es el resumen de tu búsqueda: oficina en Ciudad de México, presupuesto de "
        "20,000 USD, 500 m². ¿Está todo correcto?",
    ),
    (
        "acknowledge type",
        Acknowledge(key="property_type", slot=slot(PropertyType(value="warehouse"))),
        "es",
        "Perfecto: bodega.",
    ),
    (
        "acknowledge extra",
        Acknowledge(key="pets_allowed", slot=slot(Scalar(kind="bool", value=True))),
        "en",
        "Noted: pet friendly.",
    ),
    (
        "acknowledge extra",
        Acknowledge(key="pets_allowed", slot=slot(Scalar(kind="bool", value=True))),
        "es",
        "Anotado: acepta mascotas.",
    ),
    (
        "acknowledge negated extra",
        Acknowledge(key="parking", slot=slot(Scalar(kind="bool", value=False))),
        "es",
        "Anotado: sin estacionamiento.",
    ),
    (
        "acknowledge change",
        Acknowledge(key="size", slot=slot(Area(m2=600)), previous=SIZE_500),
        "en",
        "Updated the total size to 600 m² (was 500 m²).",
    ),
    (
        "acknowledge change",
        Acknowledge(key="size", slot=slot(Area(m2=600)), previous=SIZE_500),
        "es",
        "Cambio anotado: la superficie total ahora es 600 m² (antes 500 m²).",
    ),
    (
        "acknowledge assumed currency",
        Acknowledge(key="budget", slot=slot(Money(amount=150_000, currency="MXN"), ASSUMED)),
        "es",
        "Perfecto: presupuesto de $150,000 MXN (asumí MXN).",
    ),
]


@pytest.mark.parametrize(
    ("name", "action", "language", "expected"),
    ACTIONS,
    ids=[f"{a[0]}-{a[2]}" for a in ACTIONS],
)
def test_each_action(name: str, action: Action, language: Language, expected: str) -> None:
    assert say(language, action) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "I help companies and investors find commercial property in Mexico and the US: "
            "offices, warehouses, industrial buildings, retail space, land and more. With a few "
            "details I can put your search together. What is your budget (amount and currency)?",
        ),
        (
            "es",
            "Ayudo a empresas e inversionistas a encontrar inmuebles comerciales en México y "
            "Estados Unidos: oficinas, bodegas, naves industriales, locales, terrenos y más. Con "
            "unos cuantos datos armo tu búsqueda. ¿Cuál es tu presupuesto (monto y moneda)?",
        ),
    ],
)
def test_help_then_question(language: Language, expected: str) -> None:
    assert say(language, Help(), AskFields(keys=("budget",))) == expected


def test_help_when_complete_invites_changes() -> None:
    text = say("en", Help(), phase="complete")
    assert text.endswith("Your brief is complete; tell me if you'd like to change anything.")


def test_type_and_city_acknowledged_together() -> None:
    actions = (
        Acknowledge(key="property_type", slot=slot(PropertyType(value="industrial"))),
        Acknowledge(key="city", slot=slot(CDMX)),
        AskFields(keys=("budget", "size")),
    )
    assert say("es", *actions) == (
        "Perfecto: nave industrial en Ciudad de México. ¿Cuál es tu presupuesto (monto y "
        "moneda) y la superficie total que necesitas en m²?"
    )
    assert say("en", *actions).startswith("Got it: industrial building in Mexico City. ")


def test_summary_lists_extras_and_marks_assumptions() -> None:
    brief = COMPLETE.with_slot(
        "budget", slot(Money(amount=150_000, currency="MXN", period="month"), ASSUMED)
    ).with_slot("parking_spaces", slot(Scalar(kind="int", value=3)))
    brief = brief.with_slot("pets_allowed", slot(Scalar(kind="bool", value=True)))
    assert say("en", Summary(brief=brief, changed=True)) == (
        "Here is your updated brief: office in Mexico City, budget 150,000 MXN per month "
        "(I assumed MXN), 500 m²; also parking spaces: 3, pet friendly. Is everything correct?"
    )
    assert say("es", Summary(brief=brief)) == (
        "Este es el resumen de tu búsqueda: oficina en Ciudad de México, presupuesto de "
        "$150,000 MXN al mes (asumí MXN), 500 m²; además cajones de estacionamiento: 3, acepta "
        "mascotas. ¿Está todo correcto?"
    )


def test_summary_in_the_same_reply_replaces_new_value_acknowledgements() -> None:
    actions = (
        Acknowledge(key="size", slot=slot(Area(m2=600)), previous=SIZE_500),
        Acknowledge(key="pets_allowed", slot=slot(Scalar(kind="bool", value=True))),
        Summary(brief=COMPLETE, changed=True),
        BriefCompleted(brief=COMPLETE),
    )
    text = say("en", *actions)
    assert text.startswith("Updated the total size to 600 m² (was 500 m²). Here is your updated")
    assert "Noted" not in text


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        (
            "en",
            "Got it: office in Mexico City. What is your budget (amount and currency) and the "
            "total size you need in m²?",
            "Here is your brief: office in Mexico City, budget 20,000 USD, 500 m². "
            "Is everything correct?",
        ),
        (
            "es",
            "Perfecto: oficina en Ciudad de México. ¿Cuál es tu presupuesto (monto y moneda) y "
            "la superficie total que necesitas en m²?",
            "Este es el resumen de tu búsqueda: oficina en Ciudad de México, presupuesto de "
            "20,000 USD, 500 m². ¿Está todo correcto?",
        ),
    ],
)
def test_canonical_conversation_replies(language: Language, first: str, second: str) -> None:
    def update(*candidates: Candidate) -> TurnUpdate:
        return TurnUpdate(
            text="m", accepted=candidates, language=language, language_confidence=0.95
        )

    t1 = advance(
        ConversationState(),
        update(
            _cand("property_type", PropertyType(value="office", text="office")),
            _cand("city", CDMX),
        ),
        REGISTRY,
    )
    t2 = advance(
        t1.state,
        update(_cand("budget", Money(amount=20_000, currency="USD")), _cand("size", Area(m2=500))),
        REGISTRY,
    )
    assert RESPONDER.render(t1) == first
    assert RESPONDER.render(t2) == second


def test_unusual_type_shows_the_prospects_words() -> None:
    action = Acknowledge(
        key="property_type",
        slot=slot(PropertyType(value="other", text="data center"), Meta(status="unconfirmed")),
    )
    assert say("en", action) == "Got it: data center (to be confirmed)."


# ---- the opening, and a budget without its amount ----


def _reply(
    *accepted: Candidate, signals: frozenset[str] = frozenset(), language: str = "es"
) -> str:
    update = TurnUpdate.model_validate(
        {
            "text": "m",
            "accepted": accepted,
            "signals": signals,
            "language": language,
            "language_confidence": 0.99,
        }
    )
    return RESPONDER.render(advance(ConversationState(), update, REGISTRY))


def _cand(key: str, value: object) -> Candidate:
    return Candidate.model_validate({"key": key, "value": value, "span": (0, 1)})


OFFICE = {"kind": "property_type", "value": "office", "text": "oficina"}
GDL = {"kind": "city", "value": "Guadalajara", "country": "MX", "lat": 20.67, "lon": -103.35}


@pytest.mark.parametrize(
    ("language", "opening", "ack"),
    [
        ("es", "¡Hola! Perfecto: oficina en Guadalajara.", "Con gusto"),
        ("en", "Hi! Got it: office in Guadalajara.", "I can help"),
    ],
)
def test_a_greeting_with_details_greets_first_and_briefly(
    language: str, opening: str, ack: str
) -> None:
    reply = _reply(
        _cand("property_type", OFFICE),
        _cand("city", GDL),
        signals=frozenset({"greeting"}),
        language=language,
    )
    assert reply.startswith(opening)
    assert ack not in reply  # the long introduction is for a bare greeting


def test_a_bare_greeting_gets_the_introduction() -> None:
    assert _reply(signals=frozenset({"greeting"})).startswith("¡Hola! Con gusto te ayudo")


@pytest.mark.parametrize(
    ("language", "asked"),
    [
        ("es", "el monto de tu presupuesto (MXN al mes)"),
        ("en", "the amount of your budget (MXN per month)"),
    ],
)
def test_a_budget_without_an_amount_is_asked_for_never_shown(language: str, asked: str) -> None:
    partial = {"kind": "money", "currency": "MXN", "period": "month"}
    reply = _reply(_cand("property_type", OFFICE), _cand("budget", partial), language=language)
    assert asked in reply
    assert "presupuesto de MXN" not in reply
    assert "budget MXN" not in reply


def test_a_part_of_several_lines_is_set_apart_by_blank_lines_and_only_it() -> None:
    from realty.pipeline.respond import _join

    assert _join(["Got it.", "Answer.\nSource: guide", "Budget?", "Size?"]) == (
        "Got it.\n\nAnswer.\nSource: guide\n\nBudget? Size?"
    )
    assert _join(["Got it.", "Budget?"]) == "Got it. Budget?"
