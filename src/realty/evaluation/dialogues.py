"""Golden conversations: YAML files with the expected brief after every user turn.

A file holds either ``turns`` (one conversation) or ``conversations`` (several). Each turn
has ``user`` (the message) and ``expect``, whose keys are all optional:

``fields`` / ``extras``
    mapping of key → expected attributes (a subset of the canonical JSON). Expectations
    carry over to later turns (the expected brief accumulates); ``key: null`` expects the key
    to be gone from then on. After every turn the set of keys must match exactly, so a field
    nobody expects must be absent.
``missing``, ``complete``, ``language``
    compared exactly with the canonical brief.
``asked``
    the fields the reply asked for.
``actions`` / ``actions_include`` / ``actions_exclude``
    the exact action kinds of the turn, some that must be there, or some that must not.
``reply_contains``
    substrings the reply must contain (case-insensitive).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from realty.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class GoldenTurn:
    """One user message and what must hold after it."""

    user: str
    expect: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class GoldenConversation:
    """A named conversation from a golden file."""

    name: str
    turns: tuple[GoldenTurn, ...]
    language: str | None = None


def _turns(raw: Any, where: str) -> tuple[GoldenTurn, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigurationError(f"{where}: 'turns' must be a non-empty list")
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("user"), str):
            raise ConfigurationError(f"{where}: turn {i} needs a 'user' string")
        out.append(GoldenTurn(user=item["user"], expect=item.get("expect") or {}))
    return tuple(out)


def load_file(path: Path) -> list[GoldenConversation]:
    """Every conversation in one golden YAML file."""
    data = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{path}: expected a mapping at the top level")
    name = str(data.get("name", path.stem))
    if "conversations" in data:
        items = data["conversations"]
        return [
            GoldenConversation(
                name=f"{name} #{i}",
                turns=_turns(c.get("turns"), f"{path} #{i}"),
                language=c.get("language"),
            )
            for i, c in enumerate(items, start=1)
        ]
    return [
        GoldenConversation(
            name=name, turns=_turns(data.get("turns"), str(path)), language=data.get("language")
        )
    ]


def load_dir(directory: Path) -> list[tuple[str, GoldenConversation]]:
    """``(file stem, conversation)`` for every ``*.yaml`` in ``directory``, sorted by name."""
    found: list[tuple[str, GoldenConversation]] = []
    for path in sorted(directory.glob("*.yaml")):
        found.extend((path.stem, conv) for conv in load_file(path))
    return found


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float | int) and isinstance(actual, float | int):
        if isinstance(expected, bool) or isinstance(actual, bool):
            return expected is actual
        return math.isclose(float(expected), float(actual), rel_tol=1e-6, abs_tol=0.01)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    return bool(expected == actual)


def _section(name: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    problems = []
    if set(expected) != set(actual):
        problems.append(f"{name}: expected keys {sorted(expected)}, got {sorted(actual)}")
    for key, attrs in expected.items():
        got = actual.get(key)
        if got is None:
            continue
        for attr, want in (attrs or {}).items():
            if not _same(want, got.get(attr)):
                problems.append(f"{name}.{key}.{attr}: expected {want!r}, got {got.get(attr)!r}")
    return problems


def _accumulate(previous: Mapping[str, Any], stated: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = {k: dict(v) for k, v in previous.items()}
    for key, attrs in (stated or {}).items():
        if attrs is None:
            merged.pop(key, None)
        else:
            merged.setdefault(key, {}).update(attrs)
    return merged


class ExpectedBrief:
    """The expected brief of one conversation, accumulated turn by turn."""

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, Any]] = {"fields": {}, "extras": {}}

    def after(self, expect: Mapping[str, Any]) -> dict[str, Any]:
        """The full expectation after a turn whose own expectation is ``expect``."""
        for section in ("fields", "extras"):
            self.sections[section] = _accumulate(self.sections[section], expect.get(section))
        return {**expect, **self.sections}


def _actions(expect: Mapping[str, Any], actions: Sequence[str]) -> list[str]:
    problems = []
    if "actions" in expect and list(expect["actions"]) != list(actions):
        problems.append(f"actions: expected {expect['actions']!r}, got {list(actions)!r}")
    problems += [
        f"actions: {kind!r} missing from {list(actions)!r}"
        for kind in expect.get("actions_include", [])
        if kind not in actions
    ]
    problems += [
        f"actions: {kind!r} must not be in {list(actions)!r}"
        for kind in expect.get("actions_exclude", [])
        if kind in actions
    ]
    return problems


def _matches(expected: Mapping[str, Any] | None, found: Mapping[str, Any] | None) -> list[str]:
    if expected is None or found is None:
        return [] if expected is found else [f"matches: expected {expected!r}, got {found!r}"]
    problems = []
    for key, value in expected.items():
        if key == "min_listings":
            if found["listings"] < value:
                problems.append(f"matches: expected at least {value} listings, got {found!r}")
        elif found.get(key) != value:
            problems.append(f"matches.{key}: expected {value!r}, got {found.get(key)!r}")
    return problems


def check_turn(
    expect: Mapping[str, Any],
    *,
    brief: Mapping[str, Any],
    reply: str,
    actions: Sequence[str],
    asked: Iterable[str],
    intent: str | None = None,
    matches: Mapping[str, Any] | None = None,
) -> list[str]:
    """Differences between a turn's outcome and its expectation (empty when it matches).

    ``intent`` is the message's intent; ``matches`` what the turn found in the catalog
    (``complete``, ``listings`` count, ``relaxed`` relaxation, ``verdict`` of the market check,
    ``offer``), ``None`` when it found nothing. An expectation ``matches: null`` wants none;
    ``min_listings`` inside it is a lower bound on the count.
    """
    problems: list[str] = []
    if "intent" in expect and expect["intent"] != intent:
        problems.append(f"intent: expected {expect['intent']!r}, got {intent!r}")
    if "matches" in expect:
        problems += _matches(expect["matches"], matches)
    for section in ("fields", "extras"):
        if section in expect:
            problems += _section(section, expect[section] or {}, brief[section])
    for key in ("missing", "complete", "language"):
        if key in expect and expect[key] != brief[key]:
            problems.append(f"{key}: expected {expect[key]!r}, got {brief[key]!r}")
    if "asked" in expect and list(expect["asked"]) != list(asked):
        problems.append(f"asked: expected {expect['asked']!r}, got {list(asked)!r}")
    problems += _actions(expect, actions)
    problems += [
        f"reply lacks {text!r}: {reply!r}"
        for text in expect.get("reply_contains", [])
        if text.lower() not in reply.lower()
    ]
    if not reply.strip():
        problems.append("reply is empty")
    return problems
