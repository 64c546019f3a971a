"""`.env.example` lists every setting of the API and of the app, with its default, and nothing else.

The names come from the settings classes themselves (``Settings.model_fields`` through
``env_name``, ``UiSettings.model_fields`` with its prefix), so a setting added, renamed or removed
in the code without the reference file fails here. Besides them the file may list only the
variables ``compose.yaml`` interpolates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from realty.settings import Settings, env_name
from realty_ui.settings import UiSettings

ROOT = Path(__file__).resolve().parents[2]
ENTRY = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$")
INTERPOLATED = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)")


def rendered(value: Any) -> str:
    """A default as written in the file: empty for unset, JSON for lists and mappings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(to_jsonable_python(value), separators=(",", ":"))
    return str(value)


def default_of(field: FieldInfo) -> str:
    return rendered(field.get_default(call_default_factory=True))


def expected_settings() -> dict[str, str]:
    """Every environment variable of both settings classes, with its default as written."""
    names = {env_name(name): default_of(field) for name, field in Settings.model_fields.items()}
    prefix = UiSettings.model_config.get("env_prefix", "")
    names |= {
        f"{prefix}{name.upper()}": default_of(field)
        for name, field in UiSettings.model_fields.items()
    }
    return names


def compose_variables() -> set[str]:
    return set(INTERPOLATED.findall((ROOT / "compose.yaml").read_text("utf-8")))


def entries(text: str) -> dict[str, list[str]]:
    """Every ``NAME=value`` line (commented or not), by name (a list: a name may repeat)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if match := ENTRY.match(line):
            found.setdefault(match[1], []).append(match[2])
    return found


@dataclass(frozen=True)
class Audit:
    missing: set[str]
    unknown: set[str]
    repeated: set[str]
    wrong_default: dict[str, tuple[str, str]]


def audit(text: str) -> Audit:
    listed = entries(text)
    settings = expected_settings()
    return Audit(
        missing=(set(settings) | compose_variables()) - set(listed),
        unknown=set(listed) - set(settings) - compose_variables(),
        repeated={name for name, values in listed.items() if len(values) > 1},
        wrong_default={
            name: (values[0], settings[name])
            for name, values in listed.items()
            if name in settings and values[0] != settings[name]
        },
    )


EXAMPLE = (ROOT / ".env.example").read_text("utf-8")


def test_the_file_lists_every_setting_once_with_its_default_and_nothing_else() -> None:
    result = audit(EXAMPLE)
    assert result.missing == set(), "add these to .env.example"
    assert result.unknown == set(), "no setting has these names any more"
    assert result.repeated == set()
    assert result.wrong_default == {}, "(listed, actual default)"


def test_both_settings_classes_are_read() -> None:
    # The audit is only as good as the names it derives: both classes and the aliases count.
    names = set(expected_settings())
    assert {"DATABASE_URL", "REDIS_URL", "REALTY_LLM_PROVIDER", "REALTY_UI_API_URL"} <= names
    assert "REALTY_DATABASE_URL" not in names  # the first alias is the one documented
    assert len(names) == len(Settings.model_fields) + len(UiSettings.model_fields)


def test_compose_variables_must_be_listed_too() -> None:
    assert "POSTGRES_PASSWORD" in compose_variables()
    assert "POSTGRES_PASSWORD" in entries(EXAMPLE)


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda t: t.replace("# REALTY_LLM_THREADS=2\n", ""), "missing", {"REALTY_LLM_THREADS"}),
        (lambda t: t.replace("# REALTY_UI_LANGUAGE=en\n", ""), "missing", {"REALTY_UI_LANGUAGE"}),
        (lambda t: t + "# REALTY_LLM_TEMPERATURE=0.2\n", "unknown", {"REALTY_LLM_TEMPERATURE"}),
        (lambda t: t + "# REALTY_PORT=8000\n", "repeated", {"REALTY_PORT"}),
        (
            lambda t: t.replace("# REALTY_DB_POOL_SIZE=20\n", "# REALTY_DB_POOL_SIZE=10\n"),
            "wrong_default",
            {"REALTY_DB_POOL_SIZE": ("10", "20")},
        ),
    ],
)
def test_the_audit_notices_a_stale_file(edit: Any, field: str, expected: object) -> None:
    assert getattr(audit(edit(EXAMPLE)), field) == expected
