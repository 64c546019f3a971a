"""Property tests: the parser and the conversation never raise and always answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realty.domain.turn import ParseContext
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService

WORDS = st.sampled_from(
    [
        "oficina", "office", "bodega", "en", "in", "CDMX", "Monterrey", "20,000", "20.000",
        "20k", "mil", "millones", "USD", "pesos", "$", "m2", "m²", "sq ft", "-", "+", "#1",
        "entre", "y", "up to", "al mes", "per month", "no", "sí", "actually", "start over",
        "500", "1.5M", "veinte", "¿", "?", "!", "🙂", "\u200b", "\x00", "\n",
    ]
)  # fmt: skip
MESSAGES = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=25).map(" ".join))
CONTEXTS = st.builds(
    ParseContext,
    language=st.sampled_from([None, "en", "es"]),
    asked=st.lists(st.sampled_from(["budget", "size", "city", "property_type"]), max_size=4).map(
        tuple
    ),
    options=st.lists(st.sampled_from(["Springfield", "MXN", "USD"]), max_size=3).map(tuple),
    today=st.just("2026-11-22"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MESSAGES, ctx=CONTEXTS)
def test_parser_never_raises_and_spans_are_inside_the_text(
    parser: Parser, text: str, ctx: ParseContext
) -> None:
    extraction = parser.parse(text, ctx)
    assert 0.0 <= extraction.coverage <= 1.0
    for cand in extraction.candidates:
        start, end = cand.span
        assert 0 <= start <= end <= len(text)


@settings(
    max_examples=60,
    deadline=None,
    # make_service is a factory: each example builds its own service from it.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(messages=st.lists(MESSAGES, min_size=1, max_size=6))
def test_conversation_never_raises_and_always_replies(
    make_service: Callable[..., ConversationService], messages: list[str]
) -> None:
    service = make_service()

    async def run() -> None:
        start = await service.start()
        for text in messages:
            result = await service.handle_turn(start.conversation_id, text, access=start.access)
            assert result.reply.strip()
            assert set(result.brief) == {"fields", "extras", "missing", "complete", "language"}

    asyncio.run(run())
