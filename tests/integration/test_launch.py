"""``realty run`` and ``realty ui`` started as a user starts them: real processes, real ports,
Ctrl-C as the terminal delivers it (SIGINT to the whole foreground process group)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from realty import launch
from realty.errors import ConfigurationError

REALTY = Path(sys.executable).with_name("realty")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REALTY_", "DATABASE_URL"))}
    return {**env, "REALTY_DATA_DIR": str(data_dir), "REALTY_LLM_PROVIDER": "none", **extra}


def read_until(process: subprocess.Popen[str], marker: str, timeout_s: float = 180) -> str:
    """Everything the process printed up to the line containing ``marker``."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} in the output:\n{''.join(seen)}")


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any still running afterwards is killed with its group."""
    running: list[subprocess.Popen[str]] = []
    yield running
    for process in running:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


# ---- the staff key ----


def test_the_staff_key_is_created_once_for_its_owner_only(tmp_path: Path) -> None:
    first = launch.staff_key(tmp_path / "data", None)
    assert first.created
    assert first.path == tmp_path / "data" / "staff_api_key"
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert len(first.value) >= 40
    again = launch.staff_key(tmp_path / "data", None)
    assert (again.value, again.created) == (first.value, False)


def test_a_configured_key_wins_and_a_widened_file_is_narrowed(tmp_path: Path) -> None:
    assert launch.staff_key(tmp_path, "from-env") == launch.StaffKey("from-env", None)
    path = tmp_path / "staff_api_key"
    path.write_text("kept\n")
    path.chmod(0o644)
    assert launch.staff_key(tmp_path, None).value == "kept"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("  \n")
    with pytest.raises(ConfigurationError, match="empty"):
        launch.staff_key(tmp_path, None)


# ---- realty run ----


def test_run_starts_the_api_and_the_app_and_ctrl_c_stops_both(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    api_port, app_port = free_port(), free_port()
    process = subprocess.Popen(
        [str(REALTY), "run", "--port", str(api_port), "--ui-port", str(app_port)],
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    started.append(process)
    output = read_until(process, "Press Ctrl-C")
    api, app = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{app_port}"
    assert f"app (chat and staff dashboard): {app}" in output
    assert f"API: {api}" in output
    assert f"web widget: {api}/widget" in output
    key_file = tmp_path / "staff_api_key"
    assert f"staff key: {key_file} (created now, readable by you only)" in output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    assert httpx.get(f"{api}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{app}/_stcore/health").text == "ok"
    assert httpx.get(f"{api}/widget").status_code == 200
    key = key_file.read_text().strip()
    assert httpx.get(f"{api}/v1/stats", headers={"X-API-Key": key}).status_code == 200
    assert httpx.get(f"{api}/v1/stats", headers={"X-API-Key": "guess"}).status_code == 401

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=60) == 0
    assert closed(api_port)
    assert closed(app_port)


def test_run_stops_the_app_when_the_api_cannot_start(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    app_port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        api_port = taken.getsockname()[1]
        process = subprocess.Popen(
            [str(REALTY), "run", "--port", str(api_port), "--ui-port", str(app_port)],
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(process)
        output, _ = process.communicate(timeout=180)
    assert process.returncode == 1
    assert "error: the API exited with code" in output
    assert closed(app_port)


# ---- realty ui ----


def test_ui_serves_the_app_against_a_given_api(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(REALTY), "ui", "--api-url", "http://127.0.0.1:9", "--port", str(port)],
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # Started by a parent that ignores SIGINT (which children inherit): Ctrl-C must
        # still stop it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    started.append(process)
    output = read_until(process, "realty app on")
    assert f"realty app on http://127.0.0.1:{port} (API: http://127.0.0.1:9)" in output
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health").text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise AssertionError("the app did not answer")
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert closed(port)
