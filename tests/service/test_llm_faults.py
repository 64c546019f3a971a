"""A failing model provider, served for real on loopback: errors, garbage, a hang and a stalled
stream. The turn is answered from the parser, and after repeated failures the circuit breaker
stops calling the provider until a trial call finds it healthy again."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from realty.services.conversation import TurnResult
from realty.services.factory import build_service
from realty.settings import Settings

MESSAGE = "I need an office in Mexico City with a rooftop terrace"
ROOFTOP = {"key": "rooftop_terrace", "value": True, "type": "bool", "evidence": "rooftop terrace"}
TIMEOUT_S = 0.5
RESET_S = 1.0
HANG_S = 3.0  # longer than the model timeout: a turn that waited for it would be late


class ModelServer:
    """An OpenAI-compatible endpoint whose behaviour the test sets (``mode``)."""

    def __init__(self) -> None:
        self.mode = "error"
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.requests += 1
                server.answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "error":
            self._send(handler, 503, b'{"error": "overloaded"}')
        elif self.mode == "garbage":
            self._send(handler, 200, b"<html>upstream proxy error</html>")
        elif self.mode == "hang":
            time.sleep(HANG_S)
            self._send(handler, 200, self._completion({}))
        elif self.mode == "stall":  # headers and half a body, then nothing
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "400")
            handler.end_headers()
            handler.wfile.write(b'{"choices": [{"message": {"content": "{\\"ext')
            handler.wfile.flush()
            time.sleep(HANG_S)
        else:
            self._send(handler, 200, self._completion({"extras": [ROOFTOP]}))

    @staticmethod
    def _completion(answer: dict[str, Any]) -> bytes:
        body = {"model": "stub", "choices": [{"message": {"content": json.dumps(answer)}}]}
        return json.dumps(body).encode()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def model() -> Iterator[ModelServer]:
    server = ModelServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def _settings(model: ModelServer, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        llm_provider="openai",
        llm_base_url=model.url,
        llm_model="stub",
        llm_response_format="json_object",
        llm_mode="every_turn",
        llm_timeout_s=TIMEOUT_S,
        llm_reply_deadline_ms=10_000,  # the reply waits for the model: its failure shows
        llm_breaker_failures=2,
        llm_breaker_reset_s=RESET_S,
    )


class Chat:
    """One service over the stub model; each call starts a conversation and sends MESSAGE."""

    def __init__(self, settings: Settings) -> None:
        self.service = build_service(settings)
        self.loop = asyncio.new_event_loop()

    def turn(self) -> TurnResult:
        async def run() -> TurnResult:
            start = await self.service.start("en")
            # A turn that waited for a hung provider would miss this bound; it is not a
            # latency target, it tells a wait on the model from an answer without it.
            return await asyncio.wait_for(
                self.service.handle_turn(start.conversation_id, MESSAGE, access=start.access),
                HANG_S - 0.5,
            )

        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.loop.run_until_complete(self.service.aclose())
        self.loop.close()


@pytest.fixture
def chat(model: ModelServer, tmp_path: Path) -> Iterator[Chat]:
    opened = Chat(_settings(model, tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def _from_the_parser(result: TurnResult) -> bool:
    fields = result.brief["fields"]
    return (
        fields["property_type"]["value"] == "office"
        and fields["city"]["value"] == "Mexico City"
        and "rooftop_terrace" not in result.brief["extras"]
    )


@pytest.mark.parametrize("mode", ["error", "garbage", "hang", "stall"])
def test_a_failing_provider_leaves_the_turn_to_the_parser(
    model: ModelServer, chat: Chat, mode: str
) -> None:
    model.mode = mode

    result = chat.turn()

    assert _from_the_parser(result)
    assert "budget" in result.reply  # the next question, from the parser's reading
    assert model.requests >= 1


def test_repeated_failures_open_the_circuit_and_a_later_trial_closes_it(
    model: ModelServer, chat: Chat
) -> None:
    model.mode = "error"
    chat.turn()
    chat.turn()
    calls = model.requests

    assert _from_the_parser(chat.turn())
    assert model.requests == calls  # open: the provider was not called at all

    model.mode = "ok"
    time.sleep(RESET_S)
    recovered = chat.turn()  # the trial call
    assert model.requests == calls + 1
    assert recovered.brief["extras"]["rooftop_terrace"]["value"] is True
    chat.turn()
    assert model.requests == calls + 2  # closed again: every turn asks the model
