"""Questions answered in the chat: the guides and the cost simulator, the brief untouched."""

from __future__ import annotations

import asyncio

import pytest

from realty.pipeline.parse import Parser
from realty.services.conversation import TurnResult
from realty.services.factory import build_service
from realty.settings import Settings


def _chat(parser: Parser, language: str, *texts: str) -> list[TurnResult]:
    service = build_service(Settings(llm_provider="none"), parser=parser, llm=None)

    async def run() -> list[TurnResult]:
        start = await service.start(language)  # type: ignore[arg-type]
        return [
            await service.handle_turn(start.conversation_id, t, access=start.access) for t in texts
        ]

    return asyncio.run(run())


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser.build()


def test_a_question_about_the_process_is_answered_from_the_guides_with_its_source(
    parser: Parser,
) -> None:
    first, asked = _chat(
        parser, "es", "Busco una oficina en Monterrey", "¿Qué es el depósito en garantía?"
    )

    assert "depósito" in asked.reply.lower()
    assert "Fuente:" in asked.reply
    assert asked.brief["fields"] == first.brief["fields"]  # a question fills nothing
    # The brief's open question still follows the answer.
    assert "\n\n¿Cuál es tu presupuesto" in asked.reply  # apart from the source line
    assert asked.reply.rstrip().endswith(
        "¿Cuál es tu presupuesto (monto y moneda) y la superficie total que necesitas en m²?"
    )


def test_a_question_outside_the_guides_gets_an_honest_answer_not_an_invented_one(
    parser: Parser,
) -> None:
    _, asked = _chat(
        parser,
        "en",
        "I need an office in Mexico City.",
        "Can you explain the zoning rules for rooftop bars?",
    )
    # Either the honest refusal from the guides or the usual help line; never a made-up fact.
    assert "zoning" not in asked.reply.lower() or "don't know" in asked.reply.lower()


def test_a_payment_question_is_answered_by_the_simulator(parser: Parser) -> None:
    (result,) = _chat(
        parser,
        "en",
        "What would the monthly payment be on 2,000,000 USD with 30% down over 15 years at 11%?",
    )
    # 1,400,000 financed at 11% a year over 180 months: 15,912.20 a month.
    assert "15,912" in result.reply


@pytest.mark.parametrize(
    ("language", "question", "source"),
    [
        (
            "es",
            "¿qué papeles piden para rentar una bodega?",
            "Fuente: Documentos para rentar un inmueble comercial — Documentos de una persona",
        ),
        (
            "en",
            "can I leave before the lease is up?",
            "Source: Commercial leasing in Mexico — Minimum term",
        ),
    ],
)
def test_natural_questions_are_answered_from_the_guides(
    parser: Parser, language: str, question: str, source: str
) -> None:
    (asked,) = _chat(parser, language, question)
    assert source in asked.reply


def test_a_question_the_guides_do_not_cover_is_not_answered_from_them(parser: Parser) -> None:
    (asked,) = _chat(parser, "en", "what's the best pizza place downtown?")
    assert "Source:" not in asked.reply


# (language, the message, the source line the answer cites, the size it states)
BESIDE = [
    (
        "es",
        "Necesito una oficina en Monterrey de 200m2. Mi presupuesto es de 3,000 dólares al mes. "
        "Por cierto, ¿cuánto es el depósito normalmente?",
        "Fuente:",
        200,
    ),
    (
        "en",
        "We need a 500 m2 warehouse in Monterrey, but first: what documents will the landlord "
        "ask for?",
        "Source:",
        500,
    ),
]


@pytest.mark.parametrize(("language", "text", "source", "m2"), BESIDE)
def test_details_with_a_question_beside_them_fill_the_brief_and_get_the_answer(
    parser: Parser, language: str, text: str, source: str, m2: int
) -> None:
    (result,) = _chat(parser, language, text)
    assert source in result.reply
    assert result.brief["fields"]["size"]["m2"] == m2
    assert result.brief["fields"]["city"]["value"] == "Monterrey"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "es",
            "Hola! Busco bodega en Guadalajara de 2000 metros cuadrados. ¿Me podrías ayudar? "
            "Mi presupuesto es de 3 mil dólares mensuales.",
        ),
        ("en", "I need a 300 m2 office in Monterrey, can you help? Budget 5k USD a month."),
    ],
)
def test_a_courtesy_question_beside_the_details_is_not_put_to_the_guides(
    parser: Parser, language: str, text: str
) -> None:
    (result,) = _chat(parser, language, text)
    assert "Fuente:" not in result.reply
    assert "Source:" not in result.reply
    assert result.brief["complete"] is True


def test_a_budget_stated_beside_a_cost_question_fills_the_brief_and_is_simulated(
    parser: Parser,
) -> None:
    (result,) = _chat(
        parser,
        "en",
        "I need an office in Mexico City. 500m2, 20k USD a month. How much would I pay to move in?",
    )
    assert result.brief["fields"]["budget"]["amount"] == 20_000
    assert result.brief["complete"] is True
    # Deposit and a month in advance: 40,000 USD to move in.
    assert "40,000 USD" in result.reply


def test_a_question_beside_details_that_the_guides_do_not_cover_adds_nothing(
    parser: Parser,
) -> None:
    (result,) = _chat(
        parser, "en", "I need an office in Mexico City, 500 m2. What's the weather like there?"
    )
    assert "Source:" not in result.reply
    assert "don't know" not in result.reply
    assert result.brief["fields"]["size"]["m2"] == 500


@pytest.mark.parametrize(
    ("language", "texts", "estimate"),
    [
        (
            "es",
            ("necesito un coworking en cdmx para 5 personas", "¿cuántos metros serían?"),
            "Para 5 personas son unos 40 a 50 m² en oficina abierta, o 60 a 75 m² con privados "
            "y salas de juntas.",
        ),
        (
            "en",
            ("I need an office for 20 people in Guadalajara, how many m2 would that be?",),
            "For 20 people that is about 160–200 m² in an open plan, or 240–300 m² with private "
            "offices and meeting rooms.",
        ),
    ],
)
def test_a_size_question_with_the_people_known_is_answered_with_their_space(
    parser: Parser, language: str, texts: tuple[str, ...], estimate: str
) -> None:
    asked = _chat(parser, language, *texts)[-1]
    assert estimate in asked.reply
    assert "Source:" in asked.reply or "Fuente:" in asked.reply  # the guide follows


def test_a_size_question_for_a_warehouse_gets_no_per_person_estimate(parser: Parser) -> None:
    *_, asked = _chat(parser, "en", "warehouse in Monterrey for 20 workers", "how much space?")
    assert "For 20 people" not in asked.reply


def test_no_size_yet_with_the_people_known_gets_their_space_worked_out(parser: Parser) -> None:
    _, unsure = _chat(parser, "es", "oficina en Monterrey para 12 personas", "no sé cuántos metros")
    assert unsure.reply == (
        "Sin problema, podemos definir la superficie total más adelante. Para 12 personas son "
        "unos 96 a 120 m² en oficina abierta, o 144 a 180 m² con privados y salas de juntas. "
        "¿Cuál es tu presupuesto (monto y moneda)?"
    )
    assert "size" not in unsure.brief["fields"]
