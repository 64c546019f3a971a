"""The Dockerfile, read instruction by instruction (no image can be built in the test run).

What it must keep: a slim Python 3.11 base, the llama.cpp runtime compiled in a builder stage at
the version pyproject.toml pins, the embedded model installed at build time and found by the
API at run time, a non-root user, a health check on /healthz, ``realty api`` by default and a
target for ``realty ui``; and a build context (``.dockerignore``) holding what it copies.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from realty.llm.install import EMBEDDED_MODEL

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the stages, in order, with their instructions (continuations joined)."""
    joined = re.sub(r"\\\n", " ", text)
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+) AS (\S+)", rest, re.IGNORECASE)
            assert match, f"every stage is named: {line}"
            stages.append(Stage(match[2], match[1]))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
        elif keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
    return args, stages


GLOBAL_ARGS, STAGES = parse((ROOT / "Dockerfile").read_text("utf-8"))
BY_NAME = {stage.name: stage for stage in STAGES}


def stage_args(stage: Stage) -> dict[str, str]:
    return {
        name: default.strip('"')
        for name, _, default in (a.partition("=") for a in stage.all("ARG"))
    }


def env_of(stage: Stage) -> dict[str, str]:
    """ENV values set in the stage and in the stages it is built from."""
    chain = [stage]
    while chain[-1].base in BY_NAME:
        chain.append(BY_NAME[chain[-1].base])
    env: dict[str, str] = {}
    for s in reversed(chain):
        for args in s.all("ENV"):
            env.update(re.findall(r"(\w+)=(\S+)", args))
    return env


def test_a_slim_python_311_base() -> None:
    assert STAGES[0].base == "${PYTHON_IMAGE}"
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", GLOBAL_ARGS["PYTHON_IMAGE"])


def test_the_default_target_is_the_api_and_the_app_has_its_own() -> None:
    assert STAGES[-1].name == "api"
    assert json.loads(BY_NAME["api"].last("CMD")) == ["realty", "api"]
    assert json.loads(BY_NAME["app"].last("CMD")) == ["realty", "ui"]
    assert env_of(BY_NAME["api"])["REALTY_HOST"] == "0.0.0.0"


def test_the_runtime_images_carry_no_compiler() -> None:
    def ancestry(stage: Stage) -> list[str]:
        names = [stage.name]
        while BY_NAME.get(stage.base):
            stage = BY_NAME[stage.base]
            names.append(stage.name)
        return names

    assert "build-tools" not in ancestry(BY_NAME["api"])
    assert "build-tools" not in ancestry(BY_NAME["app"])
    assert "build-tools" in ancestry(BY_NAME["llama-wheel"])


def test_the_llama_cpp_runtime_is_built_at_the_pinned_version() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    (pin,) = pyproject["project"]["optional-dependencies"]["local"]
    wheel = BY_NAME["llama-wheel"]
    assert pin == f"llama-cpp-python=={stage_args(wheel)['LLAMA_CPP_VERSION']}"
    assert any(
        "pip wheel" in run and "llama-cpp-python==${LLAMA_CPP_VERSION}" in run
        for run in wheel.all("RUN")
    )
    assert "-DGGML_NATIVE=OFF" in stage_args(wheel)["CMAKE_ARGS"]
    api_build = BY_NAME["build-api"]
    assert "--from=llama-wheel /wheels /wheels" in api_build.all("COPY")
    assert any("--find-links /wheels" in run and "[local]" in run for run in api_build.all("RUN"))


def test_the_model_is_installed_at_build_time_where_the_api_looks_for_it() -> None:
    (install,) = [r for r in BY_NAME["build-api"].all("RUN") if "realty model install" in r]
    data_dir = re.search(r"REALTY_DATA_DIR=(\S+)", install)
    assert data_dir
    models = f"{data_dir[1]}/models"
    assert f"--from=build-api {models} {models}" in BY_NAME["api"].all("COPY")
    model_path = env_of(BY_NAME["api"])["REALTY_LLM_MODEL_PATH"]
    assert model_path == f"{models}/{EMBEDDED_MODEL.filename}"


def test_the_images_run_as_a_non_root_user_that_owns_the_data_dir() -> None:
    (useradd,) = BY_NAME["runtime"].all("RUN")
    uid = re.search(r"--uid (\d+)", useradd)
    assert uid
    assert int(uid[1]) >= 1000
    home = re.search(r"--home-dir (\S+)", useradd)
    assert home
    assert home[1] == env_of(BY_NAME["api"])["REALTY_DATA_DIR"]
    for name in ("api", "app"):
        assert BY_NAME[name].last("USER") == uid[1]


def test_the_api_health_check_hits_healthz_on_the_configured_port() -> None:
    check = BY_NAME["api"].last("HEALTHCHECK")
    assert "--start-period=60s" in check
    command = json.loads(check.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert "/healthz" in command[2]
    assert "REALTY_PORT" in command[2]
    assert "/_stcore/health" in BY_NAME["app"].last("HEALTHCHECK")


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.removeprefix("!").rstrip("/")
        if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
            ignored = not negated
    return ignored


def test_the_build_context_holds_what_the_dockerfile_copies_and_no_secrets() -> None:
    lines = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    copied = [
        source
        for stage in STAGES
        for args in stage.all("COPY")
        if not args.startswith("--from")
        for source in args.split()[:-1]
    ]
    assert copied
    for source in copied:
        assert not _ignored(source.rstrip("/"), patterns), source
        assert (ROOT / source).exists(), source
    for kept_out in (".env", ".venv", "data/models/model.gguf", "tests/conftest.py", ".git"):
        assert _ignored(kept_out, patterns), kept_out
