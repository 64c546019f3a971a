"""The app is a separate deployable: nothing under src/realty_ui imports ``realty``."""

from __future__ import annotations

import ast
from pathlib import Path

import realty_ui

PACKAGE = Path(realty_ui.__file__).parent


def imported_modules(source: Path) -> set[str]:
    """Every module ``source`` imports (absolute names; relative ones resolved to the app)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("realty_ui" if node.level else node.module or "")
    return found


def test_the_app_never_imports_the_service() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 5

    offenders = {
        str(source.relative_to(PACKAGE)): sorted(
            name for name in imported_modules(source) if name.split(".")[0] == "realty"
        )
        for source in sources
    }

    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_scan_sees_imports() -> None:
    assert "realty_ui.client" in imported_modules(PACKAGE / "chat.py")
