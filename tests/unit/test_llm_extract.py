"""The LLM stage: when it is consulted, how it asks, and how failures fall back to the parser."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import pytest

from realty.domain.brief import Area, Brief, City, Money, PropertyType, Scalar, Slot, Source
from realty.domain.state import ConversationState
from realty.domain.turn import Candidate, Extraction, ParseContext
from realty.errors import BadResponseError, ProviderUnavailableError
from realty.llm.base import LLMRequest
from realty.llm.fake import FakeLLM, FunctionLLM
from realty.pipeline.ground import Grounder
from realty.pipeline.llm_extract import LLMExtractor, LLMOutcome, merge
from realty.pipeline.parse import Parser
from realty.pipeline.prompt import (
    SCHEMA_MAX_EXTRAS,
    SCHEMA_MAX_STRING_CHARS,
    SYSTEM_PROMPT,
    LLMAnswer,
    PromptBuilder,
    answer_schema,
)

CDMX = City(value="Mexico City", country="MX", lat=19.43, lon=-99.13)


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser.build()


@pytest.fixture(scope="module")
def grounder(parser: Parser) -> Grounder:
    return Grounder(parser.cities.gazetteer.resolve)


def extractor(grounder: Grounder, llm: Any, timeout_s: float = 2.0, **kw: Any) -> LLMExtractor:
    return LLMExtractor(llm, grounder, timeout_s=timeout_s, **kw)


def run(
    ex: LLMExtractor, parser: Parser, text: str, state: ConversationState | None = None
) -> tuple[Extraction, LLMOutcome]:
    extraction = parser.parse(text, ParseContext())
    outcome = asyncio.run(ex.extract(text, extraction, state or ConversationState()))
    return extraction, outcome


def values(extraction: Extraction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in extraction.candidates:
        v = c.value
        if isinstance(v, Money):
            out[c.key] = (v.amount, v.currency)
        elif isinstance(v, Area):
            out[c.key] = v.m2
        elif isinstance(v, PropertyType | City | Scalar):
            out[c.key] = v.value
    return out


# ---- when to call ----

NEEDS_LLM = [
    # explained, or nothing to extract
    ("I need an office in Mexico City.", "hybrid", False),
    ("I can spend 20,000 USD for 500m².", "hybrid", False),
    ("Necesito una oficina en la CDMX", "hybrid", False),
    ("Puedo gastar veinte mil dólares al mes por 500 metros cuadrados", "hybrid", False),
    ("Busco un consultorio en Guadalajara, con 3 cajones de estacionamiento", "hybrid", False),
    ("pet friendly please", "hybrid", False),
    ("hola", "hybrid", False),
    ("thanks!", "hybrid", False),
    ("sí, correcto", "hybrid", False),
    ("no", "hybrid", False),
    ("asdfgh qwerty", "hybrid", False),
    ("asldkfjaslkdfj", "hybrid", False),
    ("", "hybrid", False),
    ("   🙂  ", "hybrid", False),
    ("I want a property in Mexico City", "hybrid", False),  # one generic word only
    ("What's the weather like in your country today?", "hybrid", False),  # chit-chat
    # the parser could not explain it
    ("we also need it close to the metro and with a big terrace", "hybrid", True),
    ("necesitamos que esté cerca del metro y con una terraza grande", "hybrid", True),
    ("I need an office in CDMX with a rooftop terrace", "hybrid", True),
    ("Busco una oficina en Monterrey que tenga vista a la montaña", "hybrid", True),
    ("Quiero un salón de eventos", "hybrid", True),  # the type is only a guess ("other")
    ("busco un spa en Cancún", "hybrid", True),
    # every_turn: any message with words
    ("I need an office in Mexico City.", "every_turn", True),
    ("hola", "every_turn", True),
    ("", "every_turn", False),
]


@pytest.mark.parametrize(("text", "mode", "expected"), NEEDS_LLM)
def test_needs_llm(
    parser: Parser, grounder: Grounder, text: str, mode: str, expected: bool
) -> None:
    ex = extractor(grounder, FakeLLM(), mode=mode)
    assert ex.needs_llm(text, parser.parse(text, ParseContext())) is expected


def test_needs_llm_is_fast(parser: Parser, grounder: Grounder) -> None:
    ex = extractor(grounder, FakeLLM())
    text = "we also need it close to the metro and with a big terrace, in Monterrey"
    extraction = parser.parse(text, ParseContext())
    started = time.perf_counter()
    for _ in range(200):
        ex.needs_llm(text, extraction)
    assert (time.perf_counter() - started) / 200 < 0.0005


# ---- asking, re-asking and failing ----

VALID = {
    "property_type": None,
    "property_text": None,
    "city": None,
    "budget_amount": None,
    "budget_currency": None,
    "budget_period": None,
    "modality": None,
    "size_m2": None,
    "extras": [
        {"key": "terrace", "value": "big", "type": "text", "evidence": "a big terrace"},
        {"key": "near_metro", "value": True, "type": "bool", "evidence": "close to the metro"},
    ],
}
TERRACE = "we also need it close to the metro and with a big terrace"


def test_valid_answer_is_grounded_and_merged(parser: Parser, grounder: Grounder) -> None:
    llm = FakeLLM(VALID)
    _, outcome = run(extractor(grounder, llm), parser, TERRACE)
    assert (outcome.calls, outcome.error, outcome.dropped) == (1, None, ())
    assert values(outcome.extraction) == {"terrace": "big", "near_metro": True}
    assert {c.source for c in outcome.extraction.candidates} == {"llm"}


REASK = [
    ("garbage then valid", ["not json at all", VALID], 2, None),
    ("fenced then valid", ['```json\n{"extras": [{"key": 1}]}\n```', VALID], 2, None),
    ("valid in a fence", ["```json\n" + json.dumps(VALID) + "\n```"], 1, None),
    ("garbage twice", ["{oops", "still not json"], 2, "invalid answer: 1 error(s) twice"),
    ("wrong types twice", [{"size_m2": "big"}, {"size_m2": "huge"}], 2, "twice"),
]


@pytest.mark.parametrize(("name", "script", "calls", "error"), REASK, ids=[r[0] for r in REASK])
def test_reask_once_on_invalid_answer(
    parser: Parser, grounder: Grounder, name: str, script: list[Any], calls: int, error: str | None
) -> None:
    llm = FakeLLM(*script)
    extraction, outcome = run(extractor(grounder, llm), parser, TERRACE)
    assert outcome.calls == calls == len(llm.calls)
    if error is None:
        assert outcome.error is None
        assert values(outcome.extraction) == {"terrace": "big", "near_metro": True}
    else:
        assert outcome.error is not None
        assert outcome.error.endswith(error)
        assert outcome.extraction == extraction
    if calls == 2:
        second = llm.calls[1].messages
        assert [m.role for m in second] == ["system", "user", "assistant", "user"]
        assert second[2].content == (
            script[0] if isinstance(script[0], str) else json.dumps(script[0])
        )
        assert "invalid" in second[3].content


def _broken(request: LLMRequest) -> str:
    raise ZeroDivisionError("a bug inside a provider")


FAILURES = [
    ("provider down", FakeLLM(ProviderUnavailableError("connection refused")), "provider error"),
    ("bad response", FakeLLM(BadResponseError("empty body")), "provider error"),
    ("script exhausted", FakeLLM(), "FakeScriptExhaustedError"),
    ("provider bug", FunctionLLM(_broken), "provider failure: ZeroDivisionError"),
]


@pytest.mark.parametrize(("name", "llm", "error"), FAILURES, ids=[f[0] for f in FAILURES])
def test_provider_failure_falls_back_to_parser(
    parser: Parser, grounder: Grounder, name: str, llm: Any, error: str
) -> None:
    text = "Busco una oficina en Monterrey que tenga vista a la montaña"
    extraction, outcome = run(extractor(grounder, llm), parser, text)
    assert outcome.extraction == extraction
    assert outcome.calls == 1
    assert outcome.error is not None
    assert error in outcome.error


@pytest.mark.parametrize("timeout_s", [0.05, 0.2])
def test_timeout_bounds_the_stage(parser: Parser, grounder: Grounder, timeout_s: float) -> None:
    async def slow(request: LLMRequest) -> dict[str, Any]:
        await asyncio.sleep(5)
        return VALID

    extraction, outcome = run(
        extractor(grounder, FunctionLLM(slow), timeout_s=timeout_s), parser, TERRACE
    )
    assert outcome.latency_ms < (timeout_s + 0.15) * 1000
    assert outcome.extraction == extraction
    assert outcome.error == f"timeout after {timeout_s:g}s"


def test_reask_shares_the_time_budget(parser: Parser, grounder: Grounder) -> None:
    async def slow_garbage(request: LLMRequest) -> str:
        await asyncio.sleep(0.08)
        return "nope"

    llm = FunctionLLM(slow_garbage)
    _, outcome = run(extractor(grounder, llm, timeout_s=0.12), parser, TERRACE)
    assert outcome.calls == 2
    assert outcome.error is not None
    assert outcome.error.startswith("timeout")
    assert outcome.latency_ms < 250


def test_failures_and_drops_are_logged(
    parser: Parser, grounder: Grounder, caplog: pytest.LogCaptureFixture
) -> None:
    invented = {"budget_amount": 20000, "budget_currency": "USD", "city": "Paris"}
    caplog.set_level(logging.INFO, logger="realty.llm")
    _, outcome = run(extractor(grounder, FakeLLM(invented)), parser, TERRACE)
    run(extractor(grounder, FakeLLM(ProviderUnavailableError("down"))), parser, TERRACE)
    assert {d.key for d in outcome.dropped} == {"budget", "city"}
    messages = [r.getMessage() for r in caplog.records if r.name == "realty.llm"]
    assert any(m.startswith("dropped budget=") for m in messages)
    assert any(m.startswith("dropped city=") for m in messages)
    assert any(
        "down" in m and r.levelno == logging.WARNING
        for m, r in zip(messages, caplog.records, strict=False)
    )


# ---- the request ----


def test_request_is_compact_and_its_prefix_stable(parser: Parser, grounder: Grounder) -> None:
    llm = FakeLLM({}, {})
    ex = extractor(grounder, llm)
    brief = Brief.from_slots(
        {
            "city": Slot(value=CDMX),
            "property_type": Slot(value=PropertyType(value="office")),
            "budget": Slot(value=Money(amount=20000, currency="USD", period="month")),
        }
    )
    state = ConversationState(brief=brief, asked=("size",))
    run(ex, parser, "unos quinientos metros y con terraza", state)
    run(ex, parser, "with a big terrace", ConversationState())
    first, second = llm.calls
    assert first.messages[0] == second.messages[0]
    assert first.messages[0].role == "system"
    assert first.messages[0].content == SYSTEM_PROMPT
    assert first.json_schema == second.json_schema == answer_schema()
    assert json.loads(first.messages[1].content) == {
        "message": "unos quinientos metros y con terraza",
        "asked": ["size"],
        "known": {"city": "Mexico City", "property_type": "office", "budget": "20000 USD /month"},
    }
    assert json.loads(second.messages[1].content) == {
        "message": "with a big terrace",
        "asked": [],
        "known": {},
    }
    assert first.temperature == 0.0


def test_system_prompt_is_short() -> None:
    assert len(SYSTEM_PROMPT.split()) <= 80


def test_schema_lists_every_field_and_closes_objects() -> None:
    schema = answer_schema()
    expected = list(LLMAnswer.model_fields)
    assert schema["required"] == expected
    assert schema["additionalProperties"] is False
    extra = schema["$defs"]["ExtraClaim"]
    assert extra["required"] == ["key", "value", "type", "evidence"]
    assert "title" not in schema
    assert "title" not in extra


def test_schema_is_small_and_portable() -> None:
    text = json.dumps(answer_schema())
    assert len(text) < 1800
    for keyword in ("title", "description", "default"):
        assert f'"{keyword}"' not in text


def test_schema_bounds_every_free_string_and_the_extras() -> None:
    schema = answer_schema()
    assert schema["properties"]["extras"]["maxItems"] == SCHEMA_MAX_EXTRAS
    strings: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string":
                strings.append(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(schema)
    free = [s for s in strings if "enum" not in s]
    assert len(free) >= 6  # property_text, city, currency, key, value, evidence
    assert all(s["maxLength"] == SCHEMA_MAX_STRING_CHARS for s in free)
    assert all("maxLength" not in s for s in strings if "enum" in s)


LENIENT = [
    ('{"property_type": "Office"}', {"property_type": "office"}),
    ('{"property_type": "event hall", "property_text": "salón"}', {"property_type": "other"}),
    ('{"budget_period": "", "modality": null}', {"budget_period": None}),
    (json.dumps({"extras": [{"key": "k", "value": 1, "type": "int", "evidence": "e"}] * 20}), {}),
    ('{"unknown": 1}', {"city": None}),
]


@pytest.mark.parametrize(("text", "expected"), LENIENT)
def test_answer_parsing_is_lenient_about_form(text: str, expected: dict[str, Any]) -> None:
    answer = PromptBuilder().parse(text)
    assert {k: getattr(answer, k) for k in expected} == expected
    assert len(answer.extras) <= 12


def test_long_messages_are_cut_in_the_prompt() -> None:
    request = PromptBuilder().request("x" * 5000, ConversationState())
    assert len(json.loads(request.messages[1].content)["message"]) == 1200


# ---- merging: the parser wins ----


def cand(key: str, value: Any, span: tuple[int, int], source: Source = "parser") -> Candidate:
    return Candidate(key=key, value=value, span=span, source=source)


OTHER = PropertyType(value="other", text="salón de eventos")
MERGES = [
    (
        "parser budget and size win",
        [cand("budget", Money(amount=20000, currency="USD"), (0, 10))],
        [
            cand("budget", Money(amount=30000, currency="USD"), (0, 10), "llm"),
            cand("size", Area(m2=500), (12, 15), "llm"),
        ],
        {"budget": ((20000.0, "USD"), "parser"), "size": (500.0, "llm")},
    ),
    (
        "a known kind replaces the parser's other guess",
        [cand("property_type", OTHER, (0, 16))],
        [cand("property_type", PropertyType(value="retail", text="salón"), (0, 5), "llm")],
        {"property_type": ("retail", "llm")},
    ),
    (
        "the model's other never replaces a parser kind",
        [cand("property_type", PropertyType(value="office"), (0, 7))],
        [cand("property_type", OTHER, (10, 26), "llm")],
        {"property_type": ("office", "parser")},
    ),
    (
        "new extras are added, parser extras kept",
        [cand("parking_spaces", Scalar(kind="int", value=3), (0, 9))],
        [
            cand("parking_spaces", Scalar(kind="int", value=4), (0, 9), "llm"),
            cand("terrace", Scalar(kind="bool", value=True), (20, 27), "llm"),
        ],
        {"parking_spaces": (3, "parser"), "terrace": (True, "llm")},
    ),
    (
        "an extra on words the parser read is left out",
        [cand("parking_spaces", Scalar(kind="int", value=3), (4, 30))],
        [
            cand("parking_spots", Scalar(kind="int", value=3), (4, 30), "llm"),
            cand("rooftop", Scalar(kind="bool", value=True), (28, 45), "llm"),
        ],
        {"parking_spaces": (3, "parser"), "rooftop": (True, "llm")},
    ),
    (
        "a core value on words the parser read as something else is left out",
        [cand("ceiling_height", Scalar(kind="float", value=8.0), (17, 33))],
        [
            cand("size", Area(m2=8), (17, 18), "llm"),
            cand("city", Scalar(kind="text", value="Monterrey"), (37, 46), "llm"),
        ],
        {"ceiling_height": (8.0, "parser"), "city": ("Monterrey", "llm")},
    ),
]


@dataclass(frozen=True)
class _Out:
    key: str
    value: Any
    source: str


@pytest.mark.parametrize(
    ("name", "parsed", "grounded", "expected"), MERGES, ids=[m[0] for m in MERGES]
)
def test_merge(
    name: str, parsed: list[Candidate], grounded: list[Candidate], expected: dict[str, Any]
) -> None:
    extraction = Extraction(candidates=tuple(parsed), signals=frozenset({"off_topic"}))
    merged = merge(extraction, grounded)
    got = values(merged)
    assert {c.key: (got[c.key], c.source) for c in merged.candidates} == expected
    # a message that gained facts is no longer off-topic; an unchanged one stays as parsed
    assert ("off_topic" in merged.signals) is (merged is extraction)


def test_merge_without_new_values_keeps_the_extraction() -> None:
    extraction = Extraction(
        candidates=(cand("size", Area(m2=500), (0, 6)),), signals=frozenset({"question"})
    )
    assert merge(extraction, [cand("size", Area(m2=600), (0, 6), "llm")]) is extraction


END_TO_END = [
    (
        "es: type guess replaced, city and budget kept from the parser",
        "Quiero rentar un salón de eventos en Puebla por 80 mil pesos al mes",
        {
            "property_type": "retail",
            "property_text": "salón de eventos",
            "city": "Puebla",
            "budget_amount": 90000,
            "budget_currency": "MXN",
        },
        {"property_type": "retail", "city": "Puebla", "budget": (80000.0, "MXN")},
    ),
    (
        "en: invented values dropped, real extra kept",
        "I need an office in CDMX with a rooftop terrace",
        {
            "budget_amount": 20000,
            "budget_currency": "USD",
            "size_m2": 500,
            "extras": [
                {
                    "key": "rooftop_terrace",
                    "value": True,
                    "type": "bool",
                    "evidence": "rooftop terrace",
                }
            ],
        },
        {"property_type": "office", "city": "Mexico City", "rooftop_terrace": True},
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "answer", "expected"), END_TO_END, ids=[e[0] for e in END_TO_END]
)
def test_extract_end_to_end(
    parser: Parser,
    grounder: Grounder,
    name: str,
    text: str,
    answer: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    ex = extractor(grounder, FakeLLM(answer))
    extraction = parser.parse(text, ParseContext())
    assert ex.needs_llm(text, extraction)
    outcome = asyncio.run(ex.extract(text, extraction, ConversationState()))
    assert outcome.error is None
    assert values(outcome.extraction) == expected
    assert outcome.extraction.coverage == extraction.coverage
