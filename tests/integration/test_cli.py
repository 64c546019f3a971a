"""The terminal commands, run the way a user runs them (through the CLI entry point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from realty.cli import app
from realty.pipeline.parse import Parser
from realty.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests check the deterministic pipeline; the model has its own (slow) tests.
    monkeypatch.setenv("REALTY_LLM_PROVIDER", "none")
    get_settings.cache_clear()


runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "chat" in result.output
    assert "replay" in result.output


def test_replay_writes_one_line_per_user_turn(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "c1", "turns": ["I need an office in Mexico City.",
                                          "I can spend 20,000 USD for 500m²."]}) + "\n"
        + json.dumps({"id": "c2", "turns": ["Busco una bodega en Monterrey"]}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["replay", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(x["id"], x["turn"]) for x in lines] == [("c1", 1), ("c1", 2), ("c2", 1)]
    for line in lines:
        assert set(line) == {
            "id",
            "turn",
            "reply",
            "brief",
            "blocked",
            "llm_calls",
            "latency_ms",
            "refined_ms",
            "refined",
        }
        assert line["refined_ms"] is None  # no model reading came after the reply
        assert line["refined"] == []
        assert line["blocked"] is False
        assert line["llm_calls"] == 0
        assert line["latency_ms"] >= 0
    assert lines[0]["brief"]["missing"] == ["budget", "size"]
    assert lines[1]["brief"]["complete"] is True
    assert lines[1]["brief"]["fields"]["budget"]["amount"] == 20000
    assert lines[2]["brief"]["language"] == "es"
    assert lines[2]["brief"]["fields"]["city"]["value"] == "Monterrey"


def test_replay_reports_bad_lines_and_still_replays_the_good_ones(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": "ok", "turns": ["hola"]}\n'
        "not json\n"
        '{"id": "no-turns"}\n'
        '{"id": "ok2", "turns": ["I need 500m²"]}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["replay", str(source)])
    assert result.exit_code == 1
    assert "line 2: invalid input" in result.stderr
    assert "line 3: invalid input (turns: Field required)" in result.stderr
    ids = [json.loads(x)["id"] for x in result.stdout.splitlines()]
    assert ids == ["ok", "ok2"]


def test_replay_blocks_an_over_long_message_without_losing_the_brief(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    turns = ["I need an office in Mexico City.", "x" * 4001, "I need 500m²"]
    source.write_text(json.dumps({"id": "long", "turns": turns}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["replay", str(source)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["blocked"] for x in lines] == [False, True, False]
    assert "4,000" in lines[1]["reply"] or "4000" in lines[1]["reply"]
    assert lines[1]["brief"]["fields"]["city"]["value"] == "Mexico City"
    assert lines[2]["brief"]["fields"]["size"]["m2"] == 500
    assert lines[2]["brief"]["fields"]["property_type"]["value"] == "office"


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "not a readable file" in result.stderr


def test_chat_shows_the_reply_and_the_brief_each_turn() -> None:
    messages = ["I need an office in Mexico City.", "I can spend 20,000 USD for 500m².", "/quit"]
    result = runner.invoke(app, ["chat"], input="\n".join(messages) + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("realty:") == 3  # greeting + two replies
    assert "Brief" in result.output
    assert "missing: nothing · complete · en" in result.output
    # Values in words, as the app's sidebar shows them, not raw JSON.
    assert "20,000 USD" in result.output
    assert "500 m²" in result.output
    assert '"amount"' not in result.output


def test_a_bad_setting_fails_fast_with_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTY_REQUIRED_FIELDS", '["budget", "made_up"]')
    result = runner.invoke(app, ["replay", __file__])
    assert result.exit_code == 2
    assert "REALTY_REQUIRED_FIELDS" in result.stderr


def test_help_lists_the_service_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "api", "db", "eval", "model"):
        assert command in result.output


def test_db_purge_erases_only_expired_conversations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser: Parser
) -> None:
    import asyncio
    import datetime as dt

    from realty.services.factory import build_service
    from realty.settings import Settings
    from realty.store.engine import make_engine, upgrade
    from realty.store.sql import SqlStore

    url = f"sqlite:///{tmp_path / 'realty.db'}"
    upgrade(url)
    engine = make_engine(url)
    store = SqlStore(engine, threads=1)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)

    async def seed() -> None:
        settings = Settings(llm_provider="none")
        old = build_service(settings, store=store, parser=parser, now=lambda: long_ago)
        fresh = build_service(settings, store=store, parser=parser)
        await old.start()
        await fresh.start()

    asyncio.run(seed())
    store.close()
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 expired conversation(s) erased" in result.output
    again = runner.invoke(app, ["db", "purge"])
    assert "0 expired conversation(s) erased" in again.output
