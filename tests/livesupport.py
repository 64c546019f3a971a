"""A real API server for tests: ``create_app(settings)`` under uvicorn on a free port.

Shared by the service tests, the Streamlit app tests and the browser tests (each folder's
conftest turns these into fixtures). The server runs in a background thread with its own
event loop, exactly as ``realty api`` serves it (lifespan, HTTP and WebSocket).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from realty.api.app import create_app
from realty.pipeline.parse import Parser
from realty.settings import Settings

T = TypeVar("T")


def settings_for_tests(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    """Service settings for tests: parser only, no purge loop, generous rate limits."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "llm_provider": "none",
        "purge_interval_s": 0,
        "rate_limit_messages": 10_000,
        "rate_limit_conversations": 10_000,
        "rate_limit_client_messages": 10_000,
        "rate_limit_websockets": 10_000,
        "staff_api_key": "staff-key",
        "twilio_auth_token": "twilio-token",
        # The synthetic catalog only where a test asks for it (tests/service/test_api_matching).
        "catalog_seed_if_empty": False,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Server:
    """A running uvicorn server."""

    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's event loop (to reach its resources) and wait."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    @property
    def ws_url(self) -> str:
        """The base URL for WebSocket connections."""
        return "ws" + self.url.removeprefix("http")

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


Serve = Callable[..., Server]
MakeSettings = Callable[..., Settings]


@contextmanager
def serving(parser: Parser) -> Iterator[Serve]:
    """A function that starts servers for ``create_app(settings)``; all stop on exit."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: Settings, **app_options: Any) -> Server:
        app = create_app(settings, parser=parser, llm=app_options.pop("llm", None), **app_options)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
        )
        server = uvicorn.Server(config)
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve())
            finally:
                loop.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        running.append((server, thread))
        port = server.servers[0].sockets[0].getsockname()[1]
        return Server(url=f"http://127.0.0.1:{port}", app=app, loop=loop)

    try:
        yield start
    finally:
        for server, _ in running:
            server.should_exit = True
        for _, thread in running:
            thread.join(timeout=30)


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A stand-in for another service: ``handler`` served on a free port of 127.0.0.1 by a
    thread, stopped on exit. Yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def realty_api(data_dir: Path, log: Path, *options: str, **env_vars: str) -> Iterator[str]:
    """``realty api`` in its own process, exactly as users start it, on a free port with
    ``options`` and the extra environment ``env_vars``; everything it prints goes to ``log``.
    Yields its base URL once it answers."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALTY_")}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(REALTY_DATA_DIR=str(data_dir), REALTY_LLM_PROVIDER="none", **env_vars)
    command = [sys.executable, "-m", "realty", "api", "--port", str(port), *options]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the API did not start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # a clean stop flushes every line
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Opened:
    """A conversation opened through the API."""

    id: str
    token: str
    body: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header for it."""
        return {"Authorization": f"Bearer {self.token}"}


def say(client: httpx.Client, conv: Opened, text: str) -> dict[str, Any]:
    """POST a message to ``conv`` (asserting 200) and return the turn."""
    response = client.post(
        f"/v1/conversations/{conv.id}/messages", json={"text": text}, headers=conv.auth
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def open_conversation(client: httpx.Client, **body: Any) -> Opened:
    """POST /v1/conversations (asserting 201)."""
    response = client.post("/v1/conversations", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return Opened(data["id"], data["token"], data)


class FreezableProxy:
    """Forwards TCP connections to ``target`` (a database, Redis); ``freeze()`` stops moving
    bytes (a hung server), ``cut()`` closes every connection and refuses new ones (a server
    gone), ``thaw()`` and ``restore()`` undo them."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.flowing = threading.Event()
        self.flowing.set()
        self.refusing = False
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    self.flowing.wait()
                    sink.sendall(data)
        finally:
            for sock in (source, sink):
                with_suppressed_close(sock)

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def cut(self) -> None:
        self.refusing = True
        for sock in self._sockets:
            with_suppressed_close(sock)
        self._sockets.clear()
        self.flowing.set()

    def restore(self) -> None:
        self.refusing = False

    def close(self) -> None:
        self.cut()
        self._listener.close()


def with_suppressed_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
