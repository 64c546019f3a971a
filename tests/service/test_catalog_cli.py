"""``realty catalog seed | import | reprice`` against SQLite and PostgreSQL, with real CSV
files: a file with any invalid row imports nothing unless ``--skip-invalid``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from realty.cli import app
from realty.settings import get_settings
from realty.store.engine import make_engine
from realty.store.tables import listings

runner = CliRunner()

HEADER = "id,property_type,offer,city,country,size_m2,price,currency,parking_spaces\n"
GOOD = (
    "OF-1,office,rent,Guadalajara,MX,350,95000,MXN,8\n"
    "WH-1,warehouse,sale,Houston,US,2500,3100000,USD,\n"
)
BAD = "OF-2,office,rent,Guadalajara,MX,350,-4,MXN,8\n"


@pytest.fixture(autouse=True)
def _environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REALTY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REALTY_LLM_PROVIDER", "none")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _rows(database_url: str) -> dict[str, tuple[float, str, float]]:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            query = select(listings.c.id, listings.c.price, listings.c.source, listings.c.price_usd)
            return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(query)}
    finally:
        engine.dispose()


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "broker.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_seed_adds_synthetic_listings_and_if_empty_adds_nothing_more(database_url: str) -> None:
    result = runner.invoke(app, ["catalog", "seed", "--count", "300", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "300 synthetic listings added; the catalog holds 300" in result.stdout
    again = runner.invoke(app, ["catalog", "seed", "--count", "300", "--if-empty"])
    assert again.exit_code == 0
    assert "not empty" in again.stdout
    rows = _rows(database_url)
    assert len(rows) == 300
    assert {source for _, source, _ in rows.values()} == {"synthetic"}


def test_an_invalid_row_imports_nothing(database_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["catalog", "import", str(_csv(tmp_path, GOOD + BAD))])
    assert result.exit_code == 1
    assert "line 4, price: must be a positive number, not -4" in result.stderr
    assert "nothing imported: 1 of 3 rows rejected" in result.stderr
    assert _rows(database_url) == {}


def test_skip_invalid_imports_the_valid_rows_and_still_reports(
    database_url: str, tmp_path: Path
) -> None:
    path = _csv(tmp_path, GOOD + BAD)
    result = runner.invoke(app, ["catalog", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "line 4, price" in result.stderr
    assert "2 listings imported from broker.csv; 1 rows rejected" in result.stdout
    rows = _rows(database_url)
    assert set(rows) == {"OF-1", "WH-1"}
    assert rows["OF-1"][1] == "broker.csv"
    assert rows["OF-1"][2] == pytest.approx(95000 / 18.0)


def test_a_bad_header_imports_nothing_even_with_skip_invalid(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("id,colour\nX,red\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 1
    assert "line 1, colour: unknown column" in result.stderr
    assert _rows(database_url) == {}


def test_reprice_follows_new_rates(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["catalog", "import", str(_csv(tmp_path, GOOD))]).exit_code == 0
    monkeypatch.setenv("REALTY_EXCHANGE_RATES", '{"USD": 20.0, "EUR": 21.0}')
    get_settings.cache_clear()
    result = runner.invoke(app, ["catalog", "reprice"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 listings repriced")
    rows = _rows(database_url)
    assert rows["OF-1"][2] == pytest.approx(95000 / 20.0)
    assert rows["WH-1"][2] == pytest.approx(3_100_000)


def test_a_missing_file_exits_2() -> None:
    result = runner.invoke(app, ["catalog", "import", "/nonexistent.csv"])
    assert result.exit_code == 2
    assert "/nonexistent.csv is not a readable file" in result.stderr
