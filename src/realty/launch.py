"""``realty run`` and ``realty ui``: start the API and the Streamlit app as child processes.

``realty run`` is what ``make run`` does: it makes sure a staff key exists (a random one,
created once in the data folder with owner-only permissions, unless ``REALTY_STAFF_API_KEY``
is set), starts the API and the app, waits until both answer their health checks, prints
where they are, and stops both on Ctrl-C — or stops the other when one of them exits.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx

from realty.errors import ConfigurationError

STAFF_KEY_FILE = "staff_api_key"
READY_TIMEOUT_S = 300.0  # the embedded model loads in the API's start-up
STOP_TIMEOUT_S = 15.0
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class StaffKey:
    """The staff key ``realty run`` hands to the API, and where it lives (``None``: from the
    environment)."""

    value: str
    path: Path | None
    created: bool = False


def staff_key(data_dir: Path, configured: str | None) -> StaffKey:
    """The configured key, or the one in ``data_dir``, created on first use (mode 0600).

    Raises:
        ConfigurationError: the key file cannot be created or read, or is empty.
    """
    if configured:
        return StaffKey(configured, None)
    path = data_dir / STAFF_KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return StaffKey(_read_key(path), path)
        key = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as sink:
            sink.write(key + "\n")
        return StaffKey(key, path, created=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot keep the staff key in {path}: {exc}") from exc


def _read_key(path: Path) -> str:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(0o600)  # someone widened it: a staff key is for its owner only
    key = path.read_text("utf-8").strip()
    if not key:
        raise ConfigurationError(f"{path} is empty; delete it to get a new staff key")
    return key


def app_path() -> Path:
    """The Streamlit app's entry file.

    Raises:
        ConfigurationError: the app's dependencies (the ``ui`` extra) are not installed.
    """
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigurationError(
            "the app needs Streamlit: install the ui extra (pip install 'realty[ui]')"
        )
    return Path(str(resources.files("realty_ui").joinpath("app.py")))


def api_command(host: str, port: int) -> list[str]:
    """The command line of the API process."""
    return [sys.executable, "-m", "realty", "api", "--host", host, "--port", str(port)]


def ui_command(host: str, port: int) -> list[str]:
    """The command line of the Streamlit app (headless, no usage statistics, no reloader)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
    ]


def local_url(host: str, port: int) -> str:
    """A URL that reaches a server listening on ``host`` from this machine."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@dataclass(frozen=True, slots=True)
class Child:
    """A process to run: its name, command line, extra environment and health URL."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    health: str


class LaunchError(RuntimeError):
    """A child process failed to start or stopped; the message says which and how."""


class Supervisor:
    """Runs child processes together: all become ready, or all are stopped.

    Args:
        children: What to run.
        say: Where progress lines go (stderr in the CLI).
    """

    def __init__(self, children: Sequence[Child], say: Callable[[str], None]) -> None:
        self._children = children
        self._say = say
        self._running: list[tuple[Child, subprocess.Popen[bytes]]] = []

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start every child and wait until each health URL answers 200.

        Raises:
            LaunchError: a child exited or did not become ready in time (all are stopped).
        """
        _stop_on_signals()
        for child in self._children:
            env = {**os.environ, **child.env}
            # Their own session: Ctrl-C reaches this process only, which stops them in order
            # (were they in the terminal's group, each would also get it and race the stop).
            process = subprocess.Popen(list(child.command), env=env, start_new_session=True)
            self._running.append((child, process))
        deadline = time.monotonic() + timeout_s
        waiting = list(self._running)
        while waiting:
            for child, process in list(waiting):
                if process.poll() is not None:
                    self.stop()
                    raise LaunchError(
                        f"{child.name} exited with code {process.returncode} while starting"
                    )
                if _healthy(child.health):
                    waiting.remove((child, process))
            if waiting and time.monotonic() > deadline:
                self.stop()
                names = ", ".join(c.name for c, _ in waiting)
                raise LaunchError(f"{names} did not answer within {timeout_s:.0f} s")
            time.sleep(_POLL_S if waiting else 0)

    def wait(self) -> int:
        """Block until a child exits or the user presses Ctrl-C; then stop the others.

        Returns:
            0 after Ctrl-C, else the exit code of the child that stopped (1 if it was 0).
        """
        try:
            while True:
                for child, process in self._running:
                    code = process.poll()
                    if code is not None:
                        self._say(f"{child.name} stopped (exit code {code}); stopping the rest")
                        self.stop()
                        return code or 1
                time.sleep(_POLL_S)
        except KeyboardInterrupt:
            self._say("stopping…")
            self.stop()
            return 0

    def stop(self) -> None:
        """Ask every running child to stop (SIGTERM), then kill those still running."""
        for _, process in self._running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for _, process in self._running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """SIGTERM (``kill``) and SIGHUP (the terminal closed) stop the children like Ctrl-C, and
    Ctrl-C (SIGINT) does even when this process was started with it ignored (a parent that
    ignores SIGINT passes that on, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
