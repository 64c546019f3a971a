"""compose.yaml: the services, their order of start, health checks, volumes and commands.

``docker compose config`` checks the file against Compose's own schema where a compose client
is installed; the rest reads the file in Python, so it runs everywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from realty.cli import app as cli

ROOT = Path(__file__).resolve().parents[2]
RAW = (ROOT / "compose.yaml").read_text("utf-8")
VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:\?|:-)([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` (an unset or empty
    required variable is an error, as in compose)."""

    def value(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise ValueError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return VARIABLE.sub(value, text)


COMPOSE: dict[str, Any] = yaml.safe_load(interpolate(RAW, {"POSTGRES_PASSWORD": "secret"}))
SERVICES: dict[str, Any] = COMPOSE["services"]
REALTY_SERVICES = ("migrate", "api", "app")


def _compose_client() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    return docker if probe.returncode == 0 else None


@pytest.mark.skipif(
    _compose_client() is None,
    reason="no docker compose client here (the docker CLI has no compose plugin); "
    "compose.yaml is still checked in Python below",
)
def test_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = _compose_client()
    assert docker is not None
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=secret\n", "utf-8")
    done = subprocess.run(
        [docker, "compose", "--env-file", str(env), "--profile", "ollama", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_services_and_the_optional_model_server() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api", "app", "ollama"}
    assert SERVICES["ollama"]["profiles"] == ["ollama"]
    assert [name for name, s in SERVICES.items() if "profiles" in s] == ["ollama"]


def _conditions(service: str) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in SERVICES[service]["depends_on"].items()}


def test_the_migrations_run_once_before_the_api_starts() -> None:
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["realty", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert _conditions("migrate") == {"postgres": "service_healthy"}
    assert _conditions("api") == {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "ollama": "service_healthy",
    }
    # Waiting for Ollama only when its profile runs it.
    assert SERVICES["api"]["depends_on"]["ollama"]["required"] is False
    assert SERVICES["api"]["environment"]["REALTY_DB_AUTO_MIGRATE"] == "false"
    assert _conditions("app") == {"api": "service_healthy"}


def test_the_api_and_the_migrations_use_the_compose_database_and_redis() -> None:
    for name in ("migrate", "api"):
        env = SERVICES[name]["environment"]
        database = urlsplit(env["DATABASE_URL"])
        assert database.scheme == "postgresql"
        assert (database.hostname, database.port, database.path) == ("postgres", 5432, "/realty")
        assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    postgres = SERVICES["postgres"]["environment"]
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == ("realty", "realty")
    assert postgres["POSTGRES_PASSWORD"] == "secret"
    assert database.password == "secret"


def test_compose_refuses_to_start_without_a_database_password() -> None:
    with pytest.raises(ValueError, match=r"set POSTGRES_PASSWORD in \.env"):
        interpolate(RAW, {"POSTGRES_PASSWORD": ""})
    ports = yaml.safe_load(interpolate(RAW, {"POSTGRES_PASSWORD": "x", "API_PORT": "9000"}))
    assert ports["services"]["api"]["ports"] == ["127.0.0.1:9000:8000"]


def test_every_realty_service_reads_the_env_file_and_its_image_target() -> None:
    for name in REALTY_SERVICES:
        assert SERVICES[name]["env_file"] == ".env"
    assert SERVICES["migrate"]["build"]["target"] == "api"
    assert SERVICES["api"]["build"]["target"] == "api"
    assert SERVICES["app"]["build"]["target"] == "app"
    assert SERVICES["app"]["environment"]["REALTY_UI_API_URL"] == "http://api:8000"


@pytest.mark.parametrize(
    ("service", "probe"),
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli"),
        ("api", "/readyz"),
        ("app", "/_stcore/health"),
        ("ollama", "ollama"),
    ],
)
def test_every_long_running_service_has_a_health_check(service: str, probe: str) -> None:
    check = SERVICES[service]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert probe in " ".join(check["test"][1:])
    assert SERVICES[service]["restart"] == "unless-stopped"


def test_state_lives_in_named_volumes() -> None:
    used = {
        mount.split(":", 1)[0]
        for service in SERVICES.values()
        for mount in service.get("volumes", [])
    }
    assert used == set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "realty-data", "ollama"}
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "realty-data:/var/lib/realty" in SERVICES["api"]["volumes"]


def test_ports_are_published_on_loopback_only() -> None:
    published = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert published
    assert all(p.startswith("127.0.0.1:") for p in published)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["api"], ["ui"]])
def test_the_commands_the_images_run_exist(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
