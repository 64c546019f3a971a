"""The guard's heuristic layer: precise patterns, kept as data in ``guard_rules.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from realty.domain.state import AttackCategory
from realty.errors import ConfigurationError
from realty.pipeline.guard.normalize import Views

View = Literal["folded", "cased", "compact"]
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


class _RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    category: AttackCategory
    view: View = "folded"
    patterns: list[str] = Field(min_length=1)


class _RulesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[_RuleSpec] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """The first rule that fired: its name and category."""

    name: str
    category: AttackCategory


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    category: AttackCategory
    view: View
    pattern: re.Pattern[str]


class RuleSet:
    """Ordered rules; :meth:`match` returns the first that fires."""

    def __init__(self, rules: list[_Rule]) -> None:
        self._rules = tuple(rules)

    @classmethod
    def load(cls, path: Path | None = None) -> RuleSet:
        """Read and compile the rules (default: the packaged ``guard_rules.yaml``).

        Raises:
            ConfigurationError: The file is unreadable, not valid YAML, or a pattern is not a
                valid regular expression.
        """
        source = str(path) if path is not None else "the packaged guard_rules.yaml"
        try:
            if path is None:
                ref = resources.files("realty.data").joinpath("guard_rules.yaml")
                text = ref.read_text("utf-8")
            else:
                text = path.read_text("utf-8")
            spec = _RulesFile.model_validate(yaml.safe_load(text))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigurationError(f"{source}: invalid guard rules: {exc}") from exc
        rules = []
        for rule in spec.rules:
            try:
                pattern = re.compile("|".join(f"(?:{p})" for p in rule.patterns))
            except re.error as exc:
                raise ConfigurationError(f"{source}: rule {rule.name!r}: {exc}") from exc
            rules.append(_Rule(rule.name, rule.category, rule.view, pattern))
        return cls(rules)

    @property
    def names(self) -> tuple[str, ...]:
        """The rule names, in the order they are tried."""
        return tuple(r.name for r in self._rules)

    def match(self, views: Views) -> RuleHit | None:
        """The first rule whose pattern occurs in its view of the message, if any."""
        compact: str | None = None
        for rule in self._rules:
            if rule.view == "cased":
                text = views.cased
            elif rule.view == "compact":
                compact = compact if compact is not None else _NOT_ALNUM.sub("", views.folded)
                text = compact
            else:
                text = views.folded
            if rule.pattern.search(text):
                return RuleHit(rule.name, rule.category)
        return None
