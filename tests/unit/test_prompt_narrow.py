"""The narrow prompt: only the words the parser could not explain, closed choices, tiny answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from realty.domain.brief import PropertyType, Scalar
from realty.domain.state import ConversationState
from realty.domain.turn import Extraction, ParseContext
from realty.llm.base import LLMRequest
from realty.llm.fake import FakeLLM
from realty.pipeline.ground import Grounder
from realty.pipeline.llm_extract import LLMExtractor
from realty.pipeline.parse import Parser
from realty.pipeline.prompt import OTHER_KEY, NarrowAnswer, PromptBuilder, narrow_schema
from realty.services.factory import extra_words
from realty.settings import Settings

KEYS = ("parking_spaces", "loading_docks", "security_24h")
AC = "air_conditioning"


@pytest.fixture(scope="module")
def grounder(parser: Parser) -> Grounder:
    return Grounder(parser.cities.gazetteer.resolve)


def narrow(grounder: Grounder, llm: Any) -> LLMExtractor:
    return LLMExtractor(llm, grounder, timeout_s=2.0, prompt="narrow", extra_keys=KEYS)


def _payload(request: LLMRequest) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(request.messages[-1].content)
    return payload


def test_the_schema_offers_only_a_kind_and_extras_under_closed_keys() -> None:
    schema = narrow_schema(KEYS)

    assert set(schema["properties"]) == {"property_type", "property_text", "extras"}
    extra = schema["$defs"]["NarrowExtra"]["properties"]
    assert extra["key"]["enum"] == [*KEYS, OTHER_KEY]
    assert "budget_amount" not in json.dumps(schema)  # never numbers or places


def test_the_system_message_is_the_same_for_every_call(parser: Parser) -> None:
    builder = PromptBuilder(style="narrow", extra_keys=KEYS)
    state = ConversationState()
    one = builder.request("a shop in Puebla with a mezzanine", state, ["with a mezzanine"])
    two = builder.request("office near the metro", state, ["near the metro"])

    assert one.messages[0] == two.messages[0]  # the prefix a local model caches
    assert "loading_docks" in one.messages[0].content
    assert _payload(one) == {
        "message": "a shop in Puebla with a mezzanine",
        "unread": ["with a mezzanine"],
    }


def test_the_model_is_asked_about_the_unread_words_only(parser: Parser, grounder: Grounder) -> None:
    text = "Busco una oficina en Monterrey con roof garden y gimnasio para el equipo"
    llm = FakeLLM({"property_type": None, "property_text": None, "extras": []})
    ex = narrow(grounder, llm)
    extraction = parser.parse(text, ParseContext())

    unread = ex.unread(text, extraction)
    asyncio.run(ex.extract(text, extraction, ConversationState()))

    sent = _payload(llm.calls[0])["unread"]
    assert sent == unread
    joined = " ".join(unread)
    assert "roof garden" in joined
    assert "gimnasio" in joined
    assert "Monterrey" not in joined  # read by the parser: not asked about


def test_a_narrow_answer_is_grounded_like_any_other(parser: Parser, grounder: Grounder) -> None:
    text = "We need space for our escape room in Guadalajara with a rooftop terrace"
    answer = {
        "property_type": "retail",
        "property_text": "escape room",
        "extras": [
            {
                "key": "other",
                "name": "rooftop terrace",
                "value": True,
                "evidence": "rooftop terrace",
            },
            {"key": "parking_spaces", "name": None, "value": 4, "evidence": "rooftop terrace"},
        ],
    }
    extraction = parser.parse(text, ParseContext())
    outcome = asyncio.run(
        narrow(grounder, FakeLLM(answer)).extract(text, extraction, ConversationState())
    )

    found = {c.key: c.value for c in outcome.extraction.candidates if c.source == "llm"}
    assert found["rooftop_terrace"] == Scalar(kind="bool", value=True)
    kind = found.get("property_type")
    assert isinstance(kind, PropertyType)
    assert kind.value == "retail"
    assert kind.proposed  # a business, not a kind: the prospect is asked to confirm
    assert "parking_spaces" not in found  # 4 is not in its evidence


def test_every_turn_mode_sends_a_message_the_parser_read_whole(
    parser: Parser, grounder: Grounder
) -> None:
    text = "office in Mexico City"
    ex = narrow(grounder, FakeLLM())
    assert ex.unread(text, parser.parse(text, ParseContext())) == [text]


@pytest.mark.parametrize(
    ("text", "extra", "kept"),
    [
        (
            "Casa en Cuernavaca con alberca",
            {"key": "air_conditioning", "evidence": "alberca"},
            False,
        ),
        (
            "oficina con aire acondicionado",
            {"key": "air_conditioning", "evidence": "aire acondicionado"},
            True,
        ),
        ("office with elevators please", {"key": "elevator", "evidence": "elevators"}, True),
        ("we grew fast last year", {"key": "top_priority", "evidence": "grew fast"}, False),
        (
            "a rooftop terrace",
            {"key": "other", "name": "rooftop terrace", "evidence": "rooftop terrace"},
            True,
        ),
    ],
)
def test_a_known_extra_needs_its_name_in_the_evidence(
    parser: Parser, text: str, extra: dict[str, Any], kept: bool
) -> None:
    registry = Settings(llm_provider="none").field_registry()
    grounder = Grounder(parser.cities.gazetteer.resolve, key_words=extra_words(registry))
    answer = {"property_type": None, "property_text": None, "extras": [{"value": True, **extra}]}
    ex = LLMExtractor(FakeLLM(answer), grounder, timeout_s=2.0, prompt="narrow", extra_keys=KEYS)
    outcome = asyncio.run(ex.extract(text, Extraction(), ConversationState()))
    found = {c.key for c in outcome.extraction.candidates if c.source == "llm"}
    assert bool(found) is kept, outcome.dropped


@pytest.mark.parametrize(
    ("key", "name", "value", "claimed"),
    [
        ("top_priority", "rooftop terrace", "true", ("top_priority", True)),
        ("parking_spaces", "parking spots", 3, ("parking_spaces", 3)),
        ("other", "mezzanine", True, ("mezzanine", True)),
        ("security_24h", None, "sí", ("security_24h", True)),
    ],
)
def test_a_listed_key_stands_and_the_models_name_is_used_with_other(
    key: str, name: str | None, value: Any, claimed: tuple[str, Any]
) -> None:
    text = "a mezzanine, a rooftop terrace and 3 parking spots"
    answer = NarrowAnswer.model_validate(
        {"extras": [{"key": key, "name": name, "value": value, "evidence": text}]}
    )
    (extra,) = answer.widened().extras
    assert extra.key == claimed[0]
    # The grounder reads the model's quoted yes ("true", "sí") as a boolean.
    grounded, _ = Grounder(lambda _: None).ground_answer(text, answer.widened())
    assert [(c.key, c.value.value) for c in grounded] == [claimed]  # type: ignore[union-attr]
