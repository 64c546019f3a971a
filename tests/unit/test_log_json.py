"""The log pipeline: one JSON object per record (or a readable line), with the request's and
the conversation's ids, and nothing of a prospect's or a token in any field."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from realty import logs

EMAIL = "jane.doe@example.com"
PHONE = "+52 55 1234 5678"
TOKEN = "tok_4f9a2c7e1b8d0a6f3e5c"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """What a JSON handler wrote, for loggers under ``realty.test`` and ``elsewhere``."""
    yield from _attached("json")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """The same with the console format."""
    yield from _attached("console")


def _attached(log_format: logs.LogFormat) -> Iterator[io.StringIO]:
    logs.install()
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logs.formatter(log_format))
    names = ("realty.test", "elsewhere", "uvicorn.access")
    saved = [(logging.getLogger(n), logging.getLogger(n).propagate) for n in names]
    for logger, _ in saved:
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    try:
        yield sink
    finally:
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(logging.NOTSET)


def _events(sink: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.getvalue().splitlines()]


@pytest.mark.parametrize("name", ["realty.test.service", "elsewhere"])
def test_contact_details_and_tokens_are_masked_in_the_message_and_every_field(
    stream: io.StringIO, name: str
) -> None:
    """The project's records and a library's alike: the message, its arguments and an
    extra field (nested too) carry no e-mail, phone number or bearer token."""
    with structlog.contextvars.bound_contextvars(request_id="req-00000001", conversation_id="c1"):
        logging.getLogger(name).warning(
            "write to %s or call %s (Authorization: Bearer %s)",
            EMAIL,
            PHONE,
            TOKEN,
            extra={
                "contact": f"{EMAIL} / {PHONE}",
                "headers": {"authorization": f"Bearer {TOKEN}"},
            },
        )
    line = stream.getvalue()
    for secret in (EMAIL, "1234 5678", TOKEN):
        assert secret not in line
    [event] = _events(stream)
    assert event["event"] == (
        "write to j***@example.com or call +52 *** *** 5678 (Authorization: Bearer ***)"
    )
    assert event["contact"] == "j***@example.com / +52 *** *** 5678"
    assert event["headers"] == {"authorization": "Bearer ***"}
    assert (event["level"], event["logger"]) == ("warning", name)
    assert (event["request_id"], event["conversation_id"]) == ("req-00000001", "c1")
    assert event["timestamp"].endswith("Z")


def test_a_traceback_is_a_field_of_the_event_and_is_masked(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"no such prospect {EMAIL}")
    except ValueError:
        logging.getLogger("elsewhere").exception("lookup failed")
    [event] = _events(stream)
    assert event["event"] == "lookup failed"
    assert "ValueError: no such prospect j***@example.com" in event["exception"]
    assert EMAIL not in stream.getvalue()


def test_the_access_line_is_fields_without_its_query_string(stream: io.StringIO) -> None:
    access = logging.getLogger("uvicorn.access")
    args = ("127.0.0.1:50000", "GET", f"/v1/conversations/c1/ws?token={TOKEN}&after=0", "1.1", 101)
    access.info('%s - "%s %s HTTP/%s" %d', *args)
    [event] = _events(stream)
    assert TOKEN not in stream.getvalue()
    assert event["event"] == "GET /v1/conversations/c1/ws 101"
    assert (event["method"], event["path"], event["status"]) == (
        "GET",
        "/v1/conversations/c1/ws",
        101,
    )
    assert event["http_version"] == "1.1"


def test_uvicorns_coloured_copy_of_a_message_is_dropped(stream: io.StringIO) -> None:
    started = "Started server process [%d]"
    logging.getLogger("elsewhere").info(
        started, 42, extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}
    )
    [event] = _events(stream)
    assert event["event"] == "Started server process [42]"
    assert "color_message" not in event


def test_the_console_format_is_one_readable_masked_line(console: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-00000002"):
        logging.getLogger("realty.test").info("lead %s", EMAIL, extra={"phone": PHONE})
    [line] = console.getvalue().splitlines()
    assert not line.startswith("{")
    assert "[info" in line
    assert "lead j***@example.com" in line
    assert "phone='+52 *** *** 5678'" in line or "phone=+52 *** *** 5678" in line
    assert "request_id=req-00000002" in line
    assert EMAIL not in line


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("3f1c9a52-0d4b-4e7a-9d8e-2b6f1c0a7e44", True),
        ("trace.0001:span-42", True),
        (None, False),
        ("short", False),
        ("has space in it", False),
        ("jane.doe@example.com", False),
        ("x" * 129, False),
        ("line\nbreak-injected", False),
    ],
)
def test_a_client_request_id_is_kept_only_when_it_is_a_plain_token(
    incoming: str | None, kept: bool
) -> None:
    chosen = logs.request_id(incoming)
    assert (chosen == incoming) is kept
    if not kept:
        assert len(chosen) == 32
        assert int(chosen, 16) >= 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer ***"),
        (f"bearer {TOKEN}.and.more", "bearer ***"),
        ("the bearer of the lease signs", "the bearer of the lease signs"),
        (f"/ws?token={TOKEN}", "/ws?token=***"),
    ],
)
def test_bearer_credentials_are_redacted(text: str, expected: str) -> None:
    assert logs.redact_tokens(text) == expected


def test_configure_routes_uvicorn_through_one_handler_on_the_root_logger() -> None:
    root = logging.getLogger()
    server = logging.getLogger("uvicorn")
    saved = (list(root.handlers), root.level, list(server.handlers), server.propagate)
    own = logging.StreamHandler(io.StringIO())
    server.addHandler(own)  # what uvicorn's own configuration does
    server.propagate = False
    try:
        logs.configure("json")
        logs.configure("json", "warning")
        ours = [h for h in root.handlers if getattr(h, "realty_pipeline", False)]
        assert len(ours) == 1
        assert isinstance(ours[0].formatter, structlog.stdlib.ProcessorFormatter)
        assert root.level == ours[0].level == logging.WARNING
        assert server.handlers == []
        assert server.propagate is True
        assert all(h in root.handlers for h in saved[0])  # a test runner's handlers stay
    finally:
        for handler in [h for h in root.handlers if h not in saved[0]]:
            root.removeHandler(handler)
        root.setLevel(saved[1])
        server.handlers[:] = saved[2]
        server.propagate = saved[3]
        structlog.reset_defaults()
