"""The real embedded model: loads the installed GGUF and extracts a small brief (≤ 3 calls)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from realty.llm.base import ChatMessage, LLMRequest
from realty.llm.install import default_model_path
from realty.llm.local import LocalLLM

pytestmark = pytest.mark.slow

MODEL = default_model_path(Path(__file__).resolve().parents[2] / "data" / "models")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": ["string", "null"]},
        "size_m2": {"type": ["number", "null"]},
        "property_type": {"type": ["string", "null"], "enum": ["office", "warehouse", None]},
    },
    "required": ["city", "size_m2", "property_type"],
    "additionalProperties": False,
}
SYSTEM = (
    "Extract from the user's message the city, the total size in square meters and the "
    "property type (office or warehouse). Answer with JSON only; use null for anything the "
    "message does not say."
)

CASES = [
    pytest.param("We need a warehouse of 1200 m2 in Monterrey.", id="en"),
    pytest.param("Busco una bodega de 1200 m2 en Monterrey.", id="es"),
]


@pytest.fixture(scope="module")
def model() -> LocalLLM:
    if not MODEL.is_file():
        pytest.skip(f"embedded model not installed at {MODEL}: run `realty model install`")
    return LocalLLM(MODEL)


@pytest.mark.parametrize("text", CASES)
def test_extracts_city_size_and_type(model: LocalLLM, text: str) -> None:
    request = LLMRequest(
        messages=(
            ChatMessage(role="system", content=SYSTEM),
            ChatMessage(role="user", content=text),
        ),
        json_schema=SCHEMA,
        max_tokens=64,
    )
    answer = asyncio.run(model.complete(request))
    data = json.loads(answer.text)
    assert data == {"city": "Monterrey", "size_m2": 1200, "property_type": "warehouse"}
    assert answer.model == MODEL.stem
    assert answer.completion_tokens is not None
    assert answer.completion_tokens > 0
