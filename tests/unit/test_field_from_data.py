"""A field defined only in data (a deployment's fields file) is parsed, asked for and shown."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from realty.domain.fields import FieldRegistry
from realty.errors import ConfigurationError
from realty.services.conversation import TurnResult
from realty.services.factory import build_service
from realty.settings import Settings

SOLAR = {
    "type": "bool",
    "required": True,
    "label": {"en": "solar panels", "es": "paneles solares"},
    "ask": {"en": "whether you need solar panels", "es": "si necesitas paneles solares"},
    "words": ["solar panels", "solar panel", "paneles solares", "panel solar"],
}


def _packaged(name: str, section: str, more: dict[str, Any]) -> dict[str, Any]:
    """A packaged data file with entries added to one of its sections."""
    text = resources.files("realty.data").joinpath(name).read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    data[section].update(more)
    return data


def _fields(**more: dict[str, Any]) -> dict[str, Any]:
    return _packaged("fields.yaml", "fields", more)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path = tmp_path_factory.mktemp("fields") / "fields.yaml"
    path.write_text(yaml.safe_dump(_fields(solar_panels=SOLAR), allow_unicode=True), "utf-8")
    return Settings(llm_provider="none", fields_file=path)


def _turns(settings: Settings, *texts: str) -> list[TurnResult]:
    service = build_service(settings, llm=None)  # its parser is built from the fields file

    async def run() -> list[TurnResult]:
        start = await service.start("es")
        return [
            await service.handle_turn(start.conversation_id, t, access=start.access) for t in texts
        ]

    return asyncio.run(run())


def test_the_new_fields_words_are_read_with_their_negation(settings: Settings) -> None:
    first, second = _turns(
        settings,
        "Busco una oficina de 300 m2 en Monterrey con paneles solares, 50 mil pesos al mes",
        "perdón, mejor sin paneles solares",
    )
    # Required by this deployment, so among the fields rather than the extras.
    assert first.brief["fields"]["solar_panels"]["value"] is True
    assert first.brief["fields"]["solar_panels"]["source"] == "parser"
    assert second.brief["fields"]["solar_panels"]["value"] is False


def test_a_required_new_field_is_asked_for_and_shown_in_words(settings: Settings) -> None:
    (turn,) = _turns(settings, "Busco una oficina de 300 m2 en Monterrey, 50 mil pesos al mes")

    assert turn.brief["missing"] == ["solar_panels"]
    assert "si necesitas paneles solares" in turn.reply
    assert turn.display is not None
    assert [m.label for m in turn.display.missing] == ["paneles solares"]


def test_a_required_new_field_once_answered_completes_the_brief(settings: Settings) -> None:
    *_, last = _turns(
        settings,
        "Busco una oficina de 300 m2 en Monterrey, 50 mil pesos al mes",
        "sí, con paneles solares",
    )
    assert last.brief["complete"] is True
    assert last.display is not None
    shown = {v.key: (v.label, v.text) for v in [*last.display.fields, *last.display.extras]}
    assert shown["solar_panels"] == ("paneles solares", "sí")


def test_words_are_only_for_yes_no_fields() -> None:
    bad = {**SOLAR, "type": "int"}
    with pytest.raises(ConfigurationError, match="bool fields only"):
        FieldRegistry.from_mapping(_fields(solar_panels=bad))


def test_the_shipped_fields_file_defines_no_words_it_does_not_read() -> None:
    registry = FieldRegistry.from_mapping(_fields())
    assert all(registry.spec(key) is not None for key in registry.phrases())


def test_a_fields_file_path_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings(llm_provider="none", fields_file=tmp_path / "missing.yaml").field_registry()


MEETING_ROOMS = {
    "type": "int",
    "required": False,
    "label": {"en": "meeting rooms", "es": "salas de juntas"},
    "ask": {"en": "how many meeting rooms you need", "es": "cuántas salas de juntas necesitas"},
}


def _vocabulary(**counts: dict[str, Any]) -> dict[str, Any]:
    return _packaged("vocabulary.yaml", "counts", counts)


@pytest.fixture(scope="module")
def count_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("count")
    fields = folder / "fields.yaml"
    fields.write_text(yaml.safe_dump(_fields(meeting_rooms=MEETING_ROOMS)), "utf-8")
    nouns = {"nouns": ["meeting rooms", "meeting room", "salas de juntas", "sala de juntas"]}
    vocabulary = folder / "vocabulary.yaml"
    vocabulary.write_text(yaml.safe_dump(_vocabulary(meeting_rooms=nouns)), "utf-8")
    return Settings(llm_provider="none", fields_file=fields, vocabulary_file=vocabulary)


def test_a_count_defined_in_data_is_read_and_shown(count_settings: Settings) -> None:
    (turn,) = _turns(
        count_settings, "Busco una oficina de 300 m2 en Monterrey con 4 salas de juntas"
    )

    assert turn.brief["extras"]["meeting_rooms"]["value"] == 4
    assert turn.brief["fields"]["size"]["m2"] == 300  # the count is not a size
    assert turn.display is not None
    assert "salas de juntas" in [e.label for e in turn.display.extras]


def test_without_its_vocabulary_the_count_is_not_read(tmp_path: Path) -> None:
    fields = tmp_path / "fields.yaml"
    fields.write_text(yaml.safe_dump(_fields(meeting_rooms=MEETING_ROOMS)), "utf-8")
    settings = Settings(llm_provider="none", fields_file=fields)

    (turn,) = _turns(settings, "Busco una oficina de 300 m2 en Monterrey con 4 salas de juntas")

    assert "meeting_rooms" not in turn.brief["extras"]


def test_a_vocabulary_file_with_an_unknown_kind_fails_at_start_up(tmp_path: Path) -> None:
    data = _vocabulary()
    data["kinds"]["castle"] = ["castillo"]
    path = tmp_path / "vocabulary.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")

    with pytest.raises(ConfigurationError, match=r"REALTY_VOCABULARY_FILE=.*castle"):
        build_service(Settings(llm_provider="none", vocabulary_file=path), llm=None)
