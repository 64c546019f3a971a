"""The real embedded model, through the product's extraction stage, in English and Spanish.

Loads the installed GGUF once (``make test`` installs it) and sends it what the service sends:
messages the parser cannot fully explain. Checks what reaches the brief: the prospect's
volunteered facts, grounded in their words; nothing they did not write (no budget, no size);
the parser's readings untouched; and no call at all when the parser explains everything.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from realty.llm.base import ChatMessage, LLMRequest
from realty.llm.install import default_model_path
from realty.llm.local import LocalLLM
from realty.pipeline.parse import Parser
from realty.services.conversation import ConversationService, TurnResult
from realty.services.factory import build_service
from realty.settings import Settings

pytestmark = pytest.mark.slow

MODEL = default_model_path(Path(__file__).resolve().parents[2] / "data" / "models")


@pytest.fixture(scope="module")
def model() -> LocalLLM:
    if not MODEL.is_file():
        pytest.fail(f"embedded model not installed at {MODEL}: run `realty model install`")
    return LocalLLM(MODEL)


@pytest.fixture(scope="module")
def service(model: LocalLLM, parser: Parser) -> ConversationService:
    # A generous timeout: a slow CI machine must not turn the model's answer into a fallback.
    settings = Settings(llm_provider="none", llm_timeout_s=180)
    return build_service(settings, parser=parser, llm=model)


@pytest.fixture(scope="module")
def full_service(model: LocalLLM, parser: Parser) -> ConversationService:
    """The same model asked about the whole message (REALTY_LLM_PROMPT=full)."""
    settings = Settings(llm_provider="none", llm_timeout_s=180, llm_prompt="full")
    return build_service(settings, parser=parser, llm=model)


def _turn(service: ConversationService, text: str) -> TurnResult:
    """The turn, with the brief as it stands once the model's reading is in (the reply itself
    waits at most the default reply deadline; a later answer refines the brief)."""

    async def run() -> TurnResult:
        start = await service.start()
        result = await service.handle_turn(start.conversation_id, text, access=start.access)
        brief, _ = await service.settled(result, start.access)
        return replace(result, brief=brief)

    return asyncio.run(run())


@dataclass(frozen=True)
class Case:
    text: str
    kind: str
    city: str
    # Words of which at least one must be in the text an LLM extra rests on.
    fact_words: tuple[str, ...]


CASES = [
    pytest.param(
        Case(
            "We need an office in Guadalajara with a rooftop terrace.",
            "office",
            "Guadalajara",
            ("terrace", "rooftop"),
        ),
        id="en-terrace",
    ),
    pytest.param(
        Case(
            "Busco un local comercial en Puebla cerca de una estación del metro",
            "retail",
            "Puebla",
            ("metro", "estación"),
        ),
        id="es-metro",
    ),
    pytest.param(
        Case(
            # (A loading dock, "andén de carga", is the parser's own since it reads one named
            # with no number; the yard is left to the model.)
            "Necesito una bodega en Querétaro con patio de maniobras",
            "warehouse",
            "Santiago de Querétaro",
            ("patio", "maniobras"),
        ),
        id="es-docks",
    ),
]


def _llm_extras(brief: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in brief["extras"].items() if v["source"] == "llm"}


@pytest.mark.parametrize("case", CASES)
def test_the_model_never_writes_what_the_prospect_did_not(
    service: ConversationService, case: Case
) -> None:
    result = _turn(service, case.text)
    fields = result.brief["fields"]
    assert result.llm_calls in (1, 2)  # one call, or one re-ask (or a late reading: 1)
    assert fields["property_type"]["value"] == case.kind
    assert fields["city"]["value"] == case.city
    assert fields["property_type"]["source"] == fields["city"]["source"] == "parser"
    assert "budget" not in fields  # nothing the prospect did not write
    assert "size" not in fields
    for extra in _llm_extras(result.brief).values():
        start, end = extra["span"]
        assert 0 <= start < end <= len(case.text)
        assert extra["confidence"] <= 0.8


def _caught(service: ConversationService) -> list[str]:
    """The cases whose wish reached the brief from the model, resting on the wish's words."""
    caught = []
    for param in CASES:
        case: Case = param.values[0]  # type: ignore[assignment]
        extras = _llm_extras(_turn(service, case.text).brief)
        grounded = " ".join(case.text[e["span"][0] : e["span"][1]] for e in extras.values())
        if any(word in grounded for word in case.fact_words):
            caught.append(case.text)
    return caught


def test_asked_about_the_whole_message_the_model_catches_every_wish(
    full_service: ConversationService,
) -> None:
    assert len(_caught(full_service)) == len(CASES)


def test_asked_only_about_the_unread_words_the_model_adds_nothing_else(
    service: ConversationService,
) -> None:
    # The default (narrow) prompt names fewer free-form wishes with this 1.5B model (docs/llm.md
    # gives the figures); whatever it adds must rest on the words of the wish.
    for param in CASES:
        case: Case = param.values[0]  # type: ignore[assignment]
        for extra in _llm_extras(_turn(service, case.text).brief).values():
            words = case.text[extra["span"][0] : extra["span"][1]]
            assert any(word in words for word in case.fact_words), (case.text, extra)


def test_a_height_read_by_the_parser_is_not_turned_into_a_size(
    service: ConversationService,
) -> None:
    text = (
        "Looking for a warehouse in Monterrey, must have 8 m clear height "
        "and be close to the highway"
    )
    result = _turn(service, text)
    assert "size" not in result.brief["fields"]
    assert result.brief["extras"]["ceiling_height"]["value"] == 8
    assert result.brief["extras"]["ceiling_height"]["source"] == "parser"


def test_a_message_the_parser_explains_costs_no_call(service: ConversationService) -> None:
    result = _turn(service, "I need an office in Mexico City.")
    assert result.llm_calls == 0
    assert result.llm_ms == 0


def test_constrained_decoding_gives_schema_valid_json(model: LocalLLM) -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "city": {"type": ["string", "null"]},
            "size_m2": {"type": ["number", "null"]},
        },
        "required": ["city", "size_m2"],
        "additionalProperties": False,
    }
    request = LLMRequest(
        messages=(
            ChatMessage(role="system", content="Extract the city and the size in m2 as JSON."),
            ChatMessage(role="user", content="Busco una bodega de 1200 m2 en Monterrey."),
        ),
        json_schema=schema,
        max_tokens=48,
    )
    answer = asyncio.run(model.complete(request))
    assert json.loads(answer.text) == {"city": "Monterrey", "size_m2": 1200}
    assert answer.model == MODEL.stem
    assert answer.completion_tokens is not None
    assert answer.completion_tokens > 0
