"""Layers: channels and services depend on the service layer, never on the HTTP API.

``realty.api`` builds the app and registers the channels' routes; a channel importing the API
back would make the two one tangle (and a channel could no longer be served without it).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import realty

PACKAGE = Path(realty.__file__).parent
CHANNELS = ["realty.channels.websocket", "realty.channels.whatsapp"]


def _imports(source: Path) -> set[str]:
    """Every module ``source`` names in an import statement (relative ones resolved)."""
    package = ".".join(source.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _api(names: set[str]) -> list[str]:
    return sorted(n for n in names if n == "realty.api" or n.startswith("realty.api."))


@pytest.mark.parametrize("layer", ["channels", "services"])
def test_no_channel_or_service_source_names_the_api(layer: str) -> None:
    sources = sorted((PACKAGE / layer).rglob("*.py"))
    assert len(sources) >= 3
    offenders = {str(s.relative_to(PACKAGE)): _api(_imports(s)) for s in sources}
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize("module", CHANNELS)
def test_importing_a_channel_loads_no_api_module(module: str) -> None:
    # A fresh interpreter, so modules other tests imported do not hide a transitive import.
    probe = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('realty'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout))
    assert module in loaded
    assert _api(loaded) == []


def test_the_scan_sees_api_imports() -> None:
    assert "realty.api.errors" in _imports(PACKAGE / "api" / "app.py")
    assert _api(_imports(PACKAGE / "api" / "routes" / "conversations.py"))
