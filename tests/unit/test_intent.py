"""Intent and sentiment per turn: table-driven cases and the held-out figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from realty.errors import ConfigurationError
from realty.evaluation.intent import evaluate, load_messages, sentiment_class
from realty.parsing.text import Message
from realty.pipeline.intent import IntentClassifier, IntentTables, TurnIntent

MESSAGES = Path(__file__).parent.parent / "data" / "intent_messages.yaml"


def _words(text: str) -> list[str]:
    return [w.text for w in Message.of(text).words]


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hola, busco una bodega de 800 m2 en Apodaca", "give_details"),
        ("¿Qué es el depósito en garantía?", "ask_question"),
        ("what do you have in Guadalajara?", "search"),
        ("¿cuánto pagaría al mes con 20% de enganche?", "simulate"),
        ("can I visit it on Friday?", "book_visit"),
        ("quiero hablar con un asesor", "talk_to_person"),
        ("How much is the broker commission?", "ask_question"),
        ("buenas tardes", "greeting"),
        ("translate hello into French", "off_topic"),
        ("Should I buy bitcoin?", "off_topic"),
        ("", "off_topic"),
        # Indirect requests.
        ("can someone call me?", "talk_to_person"),
        ("prefiero hablar con un asesor", "talk_to_person"),
        ("¿me podrían marcar mañana?", "talk_to_person"),
        ("¿puedo ir a verla el jueves?", "book_visit"),
        ("agéndame una cita el lunes", "book_visit"),
        ("show me what you have", "search"),
        ("¿qué opciones hay?", "search"),
        ("what have you got near the airport?", "search"),
        # A question naming a property kind or an amount asks about the process or the cost.
        ("¿Qué documentos necesito para rentar un local?", "ask_question"),
        ("¿qué papeles piden para rentar una bodega?", "ask_question"),
        ("do I need a guarantor to lease a warehouse?", "ask_question"),
        ("¿cuánto me saldría la mensualidad de una oficina de 3 millones?", "simulate"),
        # The same words stated, not asked, give details.
        ("necesito rentar un local", "give_details"),
        ("a warehouse to lease, 2,000 m2", "give_details"),
    ],
)
def test_intents(classifier: IntentClassifier, text: str, intent: str) -> None:
    assert classifier.classify(text).intent == intent


def test_words_match_by_their_stem_unless_marked_exact(classifier: IntentClassifier) -> None:
    # "agendemos" meets the table's "agendar"; "me interesa" must not meet "=intereses".
    assert classifier.classify("agendemos el viernes").intent == "book_visit"
    assert classifier.classify("me interesa esa oficina").intent != "simulate"


@pytest.mark.parametrize(
    "text",
    [
        "como 800 m2 y 90k mensuales",
        "pagaría 60 mil mensuales por 300 m2",
        "de entrada necesito 300 m2, que tenga andén",
        "mi presupuesto es de 50 mil mensuales",
    ],
)
def test_a_statement_with_cost_words_gives_details(classifier: IntentClassifier, text: str) -> None:
    # Unaccented "como"/"que" are "about"/"that", and "pagaría", "de entrada" or "mensuales"
    # outside a question state the budget: no cost simulation.
    assert classifier.classify(text).intent == "give_details"


@pytest.mark.parametrize(
    "text",
    [
        "¿cuánto pagaría al mes por 300 m2?",
        "cuanto pagaria al mes por 300 m2",
        "quiero saber cuánto pagaría mensualmente por una bodega",
        "what would 20k a month cost me in the first year?",
        "quiero saber las mensualidades",
    ],
)
def test_the_same_cost_words_asked_want_a_simulation(
    classifier: IntentClassifier, text: str
) -> None:
    assert classifier.classify(text).intent == "simulate"


def test_unaccented_question_words_ask_only_with_a_question_mark(
    classifier: IntentClassifier,
) -> None:
    assert not classifier.is_question(Message.of("como 800 m2"))
    assert not classifier.is_question(Message.of("que tenga estacionamiento"))
    assert classifier.is_question(Message.of("cómo agendo una visita"))
    assert classifier.is_question(Message.of("como agendo una visita?"))
    assert classifier.is_question(Message.of("cuanto cuesta el m2"))


def test_a_question_weighs_the_details_it_names_less(classifier: IntentClassifier) -> None:
    tables = classifier.scores
    stated, asked = "rentar una bodega en Monterrey", "¿rentar una bodega en Monterrey?"
    assert classifier.is_question(Message.of(asked))
    assert not classifier.is_question(Message.of(stated))
    assert classifier.is_question(Message.of("what documents do I need"))
    assert (
        tables(Message.of(asked), _words(asked), None)["give_details"]
        < tables(Message.of(stated), _words(stated), None)["give_details"]
    )


def test_the_result_is_a_frozen_value_with_bounded_numbers(classifier: IntentClassifier) -> None:
    result = classifier.classify("Perfecto, muéstrame opciones")
    assert isinstance(result, TurnIntent)
    assert result.intent == "search"
    assert 0.5 <= result.confidence <= 0.99
    assert -1 <= result.sentiment <= 1
    with pytest.raises(AttributeError):
        result.intent = "greeting"  # type: ignore[misc]


def test_a_clear_intent_is_more_confident_than_a_mixed_one(classifier: IntentClassifier) -> None:
    clear = classifier.classify("quiero agendar una visita para ver la oficina")
    mixed = classifier.classify("quiero ver opciones y agendar una visita")
    assert clear.confidence > mixed.confidence


@pytest.mark.parametrize(
    ("text", "mood"),
    [
        ("me encanta, muchas gracias", 1),
        ("está carísimo", -1),
        ("no me gusta", -1),
        ("no está nada mal", 1),
        ("muy mal servicio", -1),
        ("no problem, that's fine", 1),
        ("not good at all", -1),
        ("good morning", 0),
        ("500 m2 en Monterrey", 0),
    ],
)
def test_sentiment_handles_negation_intensifiers_and_greetings(
    classifier: IntentClassifier, text: str, mood: int
) -> None:
    assert sentiment_class(classifier.classify(text).sentiment) == mood


def test_an_intensifier_makes_a_feeling_stronger(classifier: IntentClassifier) -> None:
    assert classifier.classify("muy caro").sentiment < classifier.classify("caro").sentiment < 0


def test_unknown_intents_in_the_tables_fail_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="unknown intent"):
        IntentTables.from_mappings(
            {"intents": {"haggle": {"strong": ["descuento"]}}, "weights": {"strong": 2}},
            {},
        )


def test_held_out_accuracy() -> None:
    """Floors a little under the figures in docs/intent.md."""
    split = load_messages(MESSAGES)
    assert len([r for r in split.train + split.test if r.intent]) >= 350
    classifier = IntentClassifier()
    first = evaluate(classifier, [r for r in split.test if r.batch == "first"])
    natural = evaluate(classifier, [r for r in split.test if r.batch == "natural"])
    both = evaluate(classifier, split.test)
    assert first.accuracy >= 0.95
    assert natural.accuracy >= 0.8
    assert all(right / total >= 0.7 for right, total in both.per_intent.values())
    assert both.sentiment_accuracy >= 0.9
