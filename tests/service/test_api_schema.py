"""Property-based tests of the OpenAPI schema: no request, however malformed, gets a 5xx,
and every answer is one the document describes (status, media type, body, headers).

Schemathesis generates, for every operation of the service's OpenAPI document, its explicit
examples, its coverage cases and a bounded number of fuzzed ones, and sends them to a real
server (uvicorn over SQLite). Most conversation operations only reach their handlers with a
real conversation and its token, so 7 in 10 cases are pointed at a real conversation (6 of
them with its token), the staff endpoints get the staff key and listing lookups a seeded
listing as often; the rest stay random,
which exercises the 401/404/422 paths. Unsigned WhatsApp webhooks are refused with 403.

The schema is built with ``create_app(...).openapi()`` at import time because the lazy
``schemathesis.pytest.from_fixture`` loader fails under pytest 9.2 (``AttributeError:
'Function' object has no attribute '_nodeid'`` in schemathesis/pytest/lazy.py);
``test_the_fuzzed_schema_is_the_one_the_server_serves`` checks that this document is exactly
what the running server serves at ``/openapi.json``.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from livesupport import MakeSettings, Opened, Serve, Server, open_conversation
from realty.api.app import create_app
from realty.api.errors import PROBLEM_JSON
from realty.settings import Settings
from realty.store.base import lead_id

STAFF_KEY = "staff-key"  # make_settings' staff_api_key
# A complete brief, so the conversation also has a lead and can be confirmed.
FIRST_MESSAGE = "I need a 500 m² office in Mexico City for 20,000 USD a month."
WEBHOOK = "POST /v1/channels/whatsapp"  # unsigned requests never get past the signature
SEEDED_LISTING = "syn-0-000001"  # the start-up seed's second listing (seed 0)

OPENAPI = create_app(Settings(llm_provider="none")).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@dataclass
class Target:
    """The server under test, the real conversation cases are pointed at, what they got."""

    server: Server
    conversation: Opened
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    opened: list[Opened] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.opened.append(self.conversation)

    def reopen(self) -> None:
        """Open a fresh conversation (after a case erased the current one)."""
        with self.server.client() as http:
            self.conversation = open_conversation(http, text=FIRST_MESSAGE)
        self.opened.append(self.conversation)


@pytest.fixture
def target(serve: Serve, make_settings: MakeSettings, sqlite_url: str) -> Iterator[Target]:
    """A server over a fresh SQLite file with one conversation already under way.

    Afterwards, every operation the cases went to (but the webhook) must have answered at
    least one of them with a success: otherwise the cases never reached the handlers.
    """
    # A small synthetic catalog, so listing lookups and matches find something.
    server = serve(make_settings(sqlite_url, catalog_seed_if_empty=True, catalog_seed_count=200))
    with server.client() as http:
        conversation = open_conversation(http, text=FIRST_MESSAGE)
    found = Target(server, conversation)
    yield found
    operations = {label for label, _ in found.statuses} - {WEBHOOK}
    succeeded = {label for label, status in found.statuses if status < 300}
    assert operations <= succeeded, f"no success from {operations - succeeded}: {found.statuses}"


def _bucket(case: Case, target: Target) -> int:
    """A 0-9 from the case's data, the same on every run and for a replayed case.

    Left out: the case's random id, NOT_SET's address, and the ids and tokens of this run's
    conversations, which schemathesis reuses in later cases once a response has shown them.
    """
    body = "<no body>" if case.body is NOT_SET else case.body
    key = repr((case.method, case.path, case.path_parameters, case.query, dict(case.headers), body))
    for opened in target.opened:
        key = key.replace(opened.id, "<id>").replace(opened.token, "<token>")
    return zlib.crc32(key.encode()) % 10


def _aim(case: Case, target: Target) -> None:
    """Point 7 in 10 cases at the real conversation (or the staff key); leave the rest random.

    Schemathesis still drops the header from the cases whose point is a missing header.
    """
    bucket = _bucket(case, target)
    if "conversation_id" in case.path_parameters and bucket < 7:
        case.path_parameters["conversation_id"] = target.conversation.id
        if bucket < 6:  # the seventh keeps its random (or missing) credentials: 401/404
            case.headers["Authorization"] = f"Bearer {target.conversation.token}"
    if "listing_id" in case.path_parameters and bucket < 7:
        case.path_parameters["listing_id"] = SEEDED_LISTING
    if "lead_id" in case.path_parameters and bucket < 7:
        case.path_parameters["lead_id"] = lead_id(target.conversation.id)
    if case.path.startswith(("/v1/leads", "/v1/stats")) and bucket < 7:
        case.headers["X-API-Key"] = STAFF_KEY


def test_the_fuzzed_schema_is_the_one_the_server_serves(target: Target) -> None:
    """The document fuzzed below is exactly what the running server serves at /openapi.json."""
    with target.server.client() as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == OPENAPI


@schema.parametrize()
@hypothesis.settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same cases on every run, so CI is reproducible
    database=None,
    # `target` is function-scoped on purpose: one server per operation, shared by its cases.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
def test_no_request_gets_a_server_error(case: Case, target: Target) -> None:
    """Every operation answers its examples, coverage cases and fuzz without a 5xx, with a
    documented status and media type, and a body and headers matching their schema."""
    _aim(case, target)
    response = case.call_and_validate(
        base_url=target.server.url,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
    )
    target.statuses[(case.operation.label, response.status_code)] += 1
    if case.method == "DELETE" and response.status_code == 204:
        target.reopen()


# ---- found by the fuzzing above: documented behaviour the server does not have ----------------


def test_a_body_that_is_not_utf8_is_an_invalid_request(target: Target) -> None:
    """POST /v1/conversations with Content-Type: application/json and the bytes FF FE 00 is a
    malformed body: the documented 422 invalid-request problem."""
    with target.server.client() as http:
        response = http.post(
            "/v1/conversations",
            content=b"\xff\xfe\x00",
            headers={"Content-Type": "application/json"},
        )
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/invalid-request"


def test_the_422_media_type_is_the_documented_one(target: Target) -> None:
    """POST /v1/conversations with the JSON body [null, null] is refused with 422, served with
    a media type /openapi.json documents for that 422."""
    with target.server.client() as http:
        response = http.post("/v1/conversations", json=[None, None])
        document = http.get("/openapi.json").json()
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    documented = document["paths"]["/v1/conversations"]["post"]["responses"]["422"]["content"]
    assert PROBLEM_JSON in documented
