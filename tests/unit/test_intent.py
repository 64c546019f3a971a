"""Intent and sentiment per turn: table-driven cases and the held-out figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from realty.errors import ConfigurationError
from realty.evaluation.intent import evaluate, load_messages, sentiment_class
from realty.pipeline.intent import IntentClassifier, IntentTables, TurnIntent

MESSAGES = Path(__file__).parent.parent / "data" / "intent_messages.yaml"


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
    ],
)
def test_intents(classifier: IntentClassifier, text: str, intent: str) -> None:
    assert classifier.classify(text).intent == intent


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
    assert len([r for r in split.train + split.test if r.intent]) >= 150
    report = evaluate(IntentClassifier(), [r for r in split.test if r.batch == "first"])
    assert report.accuracy >= 0.95
    assert all(right / total >= 0.85 for right, total in report.per_intent.values())
    assert report.sentiment_accuracy >= 0.9
