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
