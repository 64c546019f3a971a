"""What the log keeps out: prospects' e-mail addresses and phone numbers, and tokens in URLs.

The masks are table-driven; the filters are tested where they act, on the records of a real
turn whose model answer echoes the prospect's contact details into a logged error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from realty.api.app import create_app
from realty.llm.fake import FakeLLM
from realty.logs import mask_personal_data, redact_tokens
from realty.pipeline.parse import Parser
from realty.services.factory import build_service
from realty.settings import Settings
from realty.store.memory import InMemoryStore


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to jane.doe@example.com", "write to j***@example.com"),
        ("mi correo es Ana_M+casa@correo.com.mx.", "mi correo es A***@correo.com.mx."),
        ("ops@sub.example.co.uk", "o***@sub.example.co.uk"),
        ("call +52 55 1234 5678 today", "call +52 *** *** 5678 today"),
        ("+52 1 55 1234 5678", "+52 *** *** 5678"),
        ("+525512345678", "+52 *** *** 5678"),
        ("tel: +52-55-1234-5678", "tel: +52 *** *** 5678"),
        ("+1 (555) 123-4567", "+1 *** *** 4567"),
        ("+44 20 7946 0958", "+44 *** *** 0958"),
        ("55 1234 5678", "*** *** 5678"),
        ("(55) 1234-5678", "*** *** 5678"),
        ("044 55 1234 5678", "*** *** 5678"),
        ("(555) 123-4567", "*** *** 4567"),
        ("555-123-4567", "*** *** 4567"),
        ("555.123.4567", "*** *** 4567"),
        ("1-800-555-0199", "*** *** 0199"),
        ("llámame al 5512345678.", "llámame al *** *** 5678."),
        ("Tel.5512345678", "Tel.*** *** 5678"),
        ("jane@example.com, 55 1234 5678", "j***@example.com, *** *** 5678"),
    ],
)
def test_contact_details_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "20,000 USD for 500m²",
        "$20,000.00 a month",
        "1,000,000.50",
        "budget 20.000.000 pesos",
        "2.000.000.000 MXN",
        "1 500 000 000",
        "between 15000 20000",
        "15000 20000 30000",
        "move in 2027-02-01 10:30",
        "move_in_date=2027-02-01 1500 m2",
        "2026-12-01T12:00:00+00:00",
        "01/02/2027",
        "01.02.2027 1030 hrs",
        "2027-02-01 2027-03-01",
        "ref 123456789",
        "latency 0.37 ms, seq 12, turn 3",
        "conversation 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        "peer 192.168.100.200",
        "pi is 3.14159265358979",
        "@handle and a@b",
    ],
)
def test_amounts_dates_and_ids_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            '"WebSocket /v1/conversations/abc/ws?token=Ab-c_9&after=3" [accepted]',
            '"WebSocket /v1/conversations/abc/ws?token=***&after=3" [accepted]',
        ),
        ("GET /ws?after=3&token=xyz HTTP/1.1", "GET /ws?after=3&token=*** HTTP/1.1"),
        ("/x?access_token=s3cret", "/x?access_token=***"),
        ("/x?TOKEN=s3cret#top", "/x?TOKEN=***#top"),
        ("/x?mytoken=kept&tokens=2", "/x?mytoken=kept&tokens=2"),
    ],
)
def test_tokens_in_urls_are_redacted(line: str, redacted: str) -> None:
    assert redact_tokens(line) == redacted


@pytest.fixture
def plain_records() -> Iterator[None]:
    """Records made by the standard factory until the test installs the filters (and after)."""
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)


CONTACT = "I need an office in Monterrey; call me at +52 55 1234 5678 or jane.doe@example.com"
# A model that echoes the message where a list belongs: its answer is invalid, and the error
# logged about it quotes the prospect's words.
ECHO = {"extras": "call me at +52 55 1234 5678 or jane.doe@example.com"}


def test_a_turn_logs_no_contact_details_once_the_app_is_built(
    plain_records: None, parser: Parser, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(llm_provider="none", database_url=f"sqlite:///{tmp_path / 'r.db'}")
    create_app(settings, parser=parser, llm=None)
    create_app(settings, parser=parser, llm=None)  # a second app adds no second filter
    # Every turn goes to the model: the parser alone explains this message's contacts.
    every_turn = settings.model_copy(update={"llm_mode": "every_turn"})
    service = build_service(
        every_turn, store=InMemoryStore(), parser=parser, llm=FakeLLM(ECHO, ECHO)
    )
    caplog.set_level(logging.INFO, logger="realty")

    async def turn() -> str:
        started = await service.start("en")
        result = await service.handle_turn(started.conversation_id, CONTACT, access=started.access)
        await service.settle()
        return result.reply

    assert "Monterrey" in asyncio.run(turn())
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("realty")]
    echoed = [m for m in logged if m.startswith("invalid llm answer")]
    assert len(echoed) == 2  # the answer and its re-ask were both logged…
    for line in echoed:  # …with the contact details masked
        assert "j***@example.com" in line
        assert "+52 *** *** 5678" in line
    assert [m for m in logged if "jane.doe" in m or "1234 5678" in m] == []
    try:
        raise ValueError(f"no answer for {CONTACT!r}")
    except ValueError:
        logging.getLogger("realty.test").exception("a failure quoting the message")
    assert "ValueError: no answer for" in caplog.text  # the traceback is kept, masked
    assert "jane.doe" not in caplog.text
    assert "1234 5678" not in caplog.text
    record = logging.getLogger("realty.test").makeRecord(
        "realty.test", logging.INFO, __file__, 1, "%s", ("jane.doe@example.com",), None
    )
    assert record.getMessage() == "j***@example.com"
