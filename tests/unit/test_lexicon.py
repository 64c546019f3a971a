"""One vocabulary (``data/vocabulary.yaml``) for the parser and the grounder."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from realty.domain.brief import Money
from realty.domain.turn import ParseContext
from realty.parsing.lexicon import Lexicon, LexiconError, lexicon, parse_lexicon
from realty.parsing.places import Gazetteer
from realty.parsing.quantities import QuantityFinder
from realty.parsing.text import Message
from realty.pipeline.ground import Grounder
from realty.pipeline.prompt import LLMAnswer

CTX = ParseContext(today="2026-03-02")


def _raw() -> dict[str, Any]:
    text = resources.files("realty.data").joinpath("vocabulary.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _with_slang() -> Lexicon:
    """The packaged vocabulary plus "morlacos", Mexican slang for pesos."""
    data = _raw()
    data["currencies"]["MXN"]["after"].append("morlacos")
    return parse_lexicon(data)


def _budget(finder: QuantityFinder, text: str) -> Money | None:
    found = [c.value for c in finder.find(Message.of(text), CTX) if c.key == "budget"]
    return found[0] if found and isinstance(found[0], Money) else None


def test_the_packaged_vocabulary_loads_and_is_folded() -> None:
    lex = lexicon()
    assert ("dolares", "USD") in lex.currency_after
    assert ("$", "$") in lex.currency_before
    # Too ambiguous alone ("un peso menos"), still a currency after an amount.
    assert ("peso", "MXN") in lex.currency_after
    assert "peso" not in {p for p, _ in lex.currency_alone}
    assert "oficina" in lex.kinds["office"]
    assert {c.key for c in lex.counts} >= {"parking_spaces", "loading_docks", "employees"}
    assert "$" not in lex.currency_words()


def test_a_word_added_to_the_vocabulary_is_read_and_grounded() -> None:
    lex = _with_slang()
    text = "Tengo 20 mil morlacos al mes para una oficina"

    before = _budget(QuantityFinder(), text)
    assert before is None or before.currency != "MXN"
    money = _budget(QuantityFinder(lex), text)
    assert money is not None
    assert (money.amount, money.currency, money.period) == (20000, "MXN", "month")

    answer = LLMAnswer(budget_amount=20000, budget_currency="MXN", budget_period="month")
    grounded, _ = Grounder(Gazetteer.load().resolve, lex=lex).ground_answer(text, answer)
    budget = next(c.value for c in grounded if c.key == "budget")
    assert isinstance(budget, Money)
    assert budget.currency == "MXN"
    plain, _ = Grounder(Gazetteer.load().resolve).ground_answer(text, answer)
    assert all(not isinstance(c.value, Money) or c.value.currency is None for c in plain)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["currencies"].update({"XYZ": {"after": ["zorkmids"]}}), "unknown value 'XYZ'"),
        (lambda d: d["kinds"].update({"castle": ["castillo"]}), "unknown property kind 'castle'"),
        (lambda d: d["periods"]["month"].update({"during": ["x"]}), "unknown sides"),
        (lambda d: d["area_units"].update({"km2": ["km2"]}), "unknown value 'km2'"),
        (lambda d: d.pop("money_words"), "missing section 'money_words'"),
        (lambda d: d["modality"].update({"rent": "renta"}), "modality.rent must be a list"),
        (lambda d: d["counts"].update({"rooms": {"words": ["rooms"]}}), "counts.rooms needs nouns"),
    ],
)
def test_a_malformed_vocabulary_is_refused_with_where(change: Any, message: str) -> None:
    data = _raw()
    change(data)
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data)
