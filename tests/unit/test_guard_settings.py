"""The guard's explicit limits and the settings/field-registry contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from realty.errors import ConfigurationError
from realty.pipeline.guard import Guard
from realty.settings import Settings


@pytest.mark.parametrize(
    ("text", "allowed", "category", "cleaned"),
    [
        ("I need an office", True, None, "I need an office"),
        ("  hola\n\tmundo  ", True, None, "hola  mundo"),
        ("oficina\x00 en\u200b CDMX", True, None, "oficina en CDMX"),
        ("", False, "empty", None),
        ("   \n ", False, "empty", None),
        ("\x00\x01", False, "empty", None),
        ("x" * 40, True, None, "x" * 40),
        ("x" * 41, False, "too_long", None),
    ],
)
def test_guard_limits(text: str, allowed: bool, category: str | None, cleaned: str | None) -> None:
    verdict = Guard(max_chars=40).check(text)
    assert verdict.allowed is allowed
    assert verdict.category == category
    assert verdict.reason == (None if allowed else "limit")
    if cleaned is not None:
        assert verdict.text == cleaned
    if category == "too_long":
        assert (verdict.limit, verdict.length) == (40, 41)


def test_default_registry_requires_the_four_core_fields_in_question_order() -> None:
    assert Settings().field_registry().required == ("property_type", "city", "budget", "size")


def test_a_deployment_can_require_move_in_date_without_code_changes() -> None:
    registry = Settings(
        required_fields=["property_type", "city", "budget", "size", "move_in_date"]
    ).field_registry()
    assert registry.required[-1] == "move_in_date"
    assert registry.spec("move_in_date") is not None


def test_fields_file_is_read_and_validated(tmp_path: Path) -> None:
    custom = tmp_path / "fields.yaml"
    custom.write_text(
        "fields:\n"
        "  budget: {type: money, required: true, label: {en: b, es: p},"
        " ask: {en: 'budget?', es: 'presupuesto?'}}\n"
        "  size: {type: area, label: {en: s, es: s}}\n"
        "  property_type: {type: property_type, label: {en: t, es: t}}\n"
        "  city: {type: city, label: {en: c, es: c}}\n",
        encoding="utf-8",
    )
    assert Settings(fields_file=custom).field_registry().required == ("budget",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("fields: {}", "non-empty 'fields'"),
        ("fields: {budget: {type: money, label: {en: b, es: p}}}", "core fields"),
        ("fields: {city: {type: town, label: {en: c, es: c}}}", "invalid fields file"),
        (": : :", "not valid YAML"),
    ],
)
def test_bad_fields_files_fail_fast_naming_the_variable(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "fields.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        Settings(fields_file=bad).field_registry()


def test_missing_fields_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="REALTY_FIELDS_FILE"):
        Settings(fields_file=tmp_path / "absent.yaml").field_registry()


def test_unknown_required_field_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="REALTY_REQUIRED_FIELDS"):
        Settings(required_fields=["budget", "parking_lot_size"]).field_registry()


def test_required_field_without_question_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="needs an 'ask'"):
        Settings(required_fields=["budget", "parking"]).field_registry()
