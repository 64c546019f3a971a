"""Fuzz the whole OpenAPI document of the real service: no request may get a 5xx.

Run: ``.venv/bin/python benchmarks/fuzz_api.py`` (``--help`` for the options).

The service (``realty.api.main:app``) runs in its own uvicorn process, started the way
``realty api`` starts it (the helpers of ``api_load.py``), with the ``none`` language-model
provider (parser only), every rate limit and the purge loop off, a staff key and a Twilio auth
token, over a fresh SQLite file and then over a fresh PostgreSQL database (created and
dropped here). Schemathesis loads the document the server serves at ``/openapi.json`` and,
for every operation, generates cases with Hypothesis from its strategies: valid data and,
where the operation has parameters or a body, data that breaks the schema (half and half).

Most conversation operations only reach their handlers with a real conversation and its
token, so, as in ``tests/service/test_api_schema.py``, 7 in 10 cases are pointed at a real
conversation (6 of them with its token) and the staff endpoints get the staff key as often;
the rest stay random, which exercises the 401/403/404/422 paths. A case that erases the
conversation opens a new one. Unsigned WhatsApp webhooks are refused with 403 (the document
describes no body for it). One case in three is tainted: every string of its path, query and
body gets a NUL or a lone surrogate appended, or is replaced by one (no schema forbids them;
PostgreSQL refuses NUL in text and a surrogate is not Unicode), which plain generation
produces too rarely to find what they break.

``--cases`` is spread over the operations; an operation whose inputs run out (``/healthz``
takes none) hands what it could not use to the others, so every database gets ``--cases``
cases unless every operation ran out. Each case's answer is checked with schemathesis's
conformance checks (documented status code, media type, body and headers). Per database and
per operation the table shows the cases, their status classes, the cases the checks failed
(and why), the cases that could not be sent (a header or body the HTTP client cannot encode),
and every 5xx with what reproduces it (method, path, headers, body).

Exit status: 1 when any case got a 5xx, else 0 (conformance failures are reported only).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import hypothesis
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_load import DEFAULT_POSTGRES_URL, Server, _postgres_database, _realty_env, _serving
from realty.store.base import lead_id

STAFF_KEY = "fuzz-staff-key"
# A complete brief, so the conversation also has a lead and can be confirmed.
FIRST_MESSAGE = "I need a 500 m² office in Mexico City for 20,000 USD a month."
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SHOWN_REPRODUCTIONS = 20


@dataclass(frozen=True)
class Taint:
    """Text no schema forbids that stores and parsers trip on, added to every string a case
    sends in its path, query and body (not its headers, which the HTTP client checks)."""

    text: str
    replace: bool  # the whole string, or appended to it
    body_only: bool = False  # a lone surrogate cannot be percent-encoded in a URL

    def apply(self, value: str, *, in_body: bool) -> str:
        """``value`` tainted (unchanged where this taint cannot go)."""
        if self.body_only and not in_body:
            return value
        return self.text if self.replace else value + self.text


# One case in three is tainted: a NUL (PostgreSQL refuses it in text; the service drops it
# from what it stores) or a lone surrogate (not Unicode; JSON carries it as an escape).
TAINTS: tuple[Taint | None, ...] = (
    *(None,) * 8,
    Taint("\x00", replace=False),
    Taint("\x00", replace=True),
    Taint("\ud800", replace=False, body_only=True),
    Taint("\ud800", replace=True, body_only=True),
)


@dataclass(frozen=True)
class Reproduction:
    """A case that got a 5xx: enough to send it again."""

    status: int
    method: str
    path: str
    headers: dict[str, str]
    body: str
    answer: str


@dataclass
class Tally:
    """What one operation's cases got."""

    cases: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    nonconforming: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    unsent: Counter[str] = field(default_factory=Counter)
    reproductions: list[Reproduction] = field(default_factory=list)


class Fuzzer:
    """Sends cases to one server, aiming most at a real conversation, and tallies answers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.tallies: dict[str, Tally] = {}
        self.conversation_id = ""
        self.token = ""
        self.reopen()

    def reopen(self) -> None:
        """Open a fresh conversation (the first, or after a case erased the current one)."""
        response = httpx.post(
            f"{self.url}/v1/conversations", json={"text": FIRST_MESSAGE}, timeout=30
        )
        response.raise_for_status()
        data = response.json()
        self.conversation_id, self.token = data["id"], data["token"]

    def aim(self, case: Case, bucket: int) -> None:
        """Point buckets 0-6 of 10 at the real conversation (or the staff key)."""
        if bucket >= 7:
            return
        if "conversation_id" in case.path_parameters:
            case.path_parameters["conversation_id"] = self.conversation_id
            if bucket < 6:  # the seventh keeps its random (or missing) credentials
                case.headers["Authorization"] = f"Bearer {self.token}"
        if "lead_id" in case.path_parameters:
            case.path_parameters["lead_id"] = lead_id(self.conversation_id)
        if case.path.startswith(("/v1/leads", "/v1/stats")):
            case.headers["X-API-Key"] = STAFF_KEY

    def send(self, case: Case, bucket: int, taint: Taint | None) -> None:
        """Send one case, check its answer and count it."""
        self.aim(case, bucket)
        if taint is not None:
            _taint(case, taint)
        tally = self.tallies.setdefault(case.operation.label, Tally())
        try:
            response = case.call(base_url=self.url, session=self.session, timeout=60)
        except ValueError as exc:  # a header or body the HTTP client cannot encode
            reason = re.sub(r" in position \d+(-\d+)?", "", str(exc).splitlines()[0][:100])
            tally.unsent[f"{type(exc).__name__}: {reason}"] += 1
            return
        tally.cases += 1
        status = response.status_code
        tally.classes[f"{status // 100}xx"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            tally.nonconforming += 1
            tally.failures.update({_title(failure) for failure in group.exceptions})
        except Failure as failure:
            tally.nonconforming += 1
            tally.failures[_title(failure)] += 1
        if status >= 500:
            tally.reproductions.append(_reproduction(case, status, response.text))
        erased = case.path_parameters.get("conversation_id") == self.conversation_id
        if case.method == "DELETE" and status == 204 and erased:
            self.reopen()


def _taint(case: Case, taint: Taint) -> None:
    for name, value in list(case.path_parameters.items()):
        if isinstance(value, str):
            case.path_parameters[name] = taint.apply(value, in_body=False)
    for name, value in list((case.query or {}).items()):
        if isinstance(value, str):
            case.query[name] = taint.apply(value, in_body=False)
    if case.body is not NOT_SET:
        case.body = _tainted(case.body, taint)


def _tainted(value: Any, taint: Taint) -> Any:
    """Every string in JSON-like ``value`` tainted (keys stay: they are names, not text)."""
    if isinstance(value, str):
        return taint.apply(value, in_body=True)
    if isinstance(value, dict):
        return {key: _tainted(item, taint) for key, item in value.items()}
    if isinstance(value, list):
        return [_tainted(item, taint) for item in value]
    return value


def _title(failure: Failure) -> str:
    return f"{failure.title}: {failure.message.splitlines()[0] if failure.message else ''}"[:160]


def _reproduction(case: Case, status: int, answer: str) -> Reproduction:
    query = urlencode(case.query or {}, doseq=True)
    # A NUL stays raw in the formatted path; the client sends it as %00.
    path = "".join(c if c.isprintable() else quote(c) for c in case.formatted_path)
    path += f"?{query}" if query else ""
    body = "<no body>" if case.body is NOT_SET else repr(case.body)
    headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
    return Reproduction(status, case.method, path, headers, body, answer[:300])


@dataclass(frozen=True)
class Inputs:
    """What Hypothesis draws for one operation's cases."""

    cases: st.SearchStrategy[Case]
    buckets: st.SearchStrategy[int]
    taints: st.SearchStrategy[Taint | None]


def _inputs(operation: Any, document: dict[str, Any]) -> Inputs:
    """Valid cases, and invalid ones where the operation takes anything that can be wrong
    (there only are aiming and taints worth drawing)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    spec = document["paths"][operation.path][operation.method.lower()]
    if not ({"parameters", "requestBody", "security"} & spec.keys()):
        # Nothing to break (a negative strategy would be unsatisfiable), aim or taint.
        return Inputs(positive, st.just(9), st.just(None))
    negative = operation.as_strategy(GenerationMode.NEGATIVE)
    return Inputs(st.one_of(positive, negative), st.integers(0, 9), st.sampled_from(TAINTS))


def _fuzz_operation(fuzzer: Fuzzer, inputs: Inputs, quota: int, seed: int) -> int:
    """Send up to ``quota`` cases of one operation; returns how many Hypothesis generated."""
    generated = 0

    @hypothesis.settings(
        max_examples=quota,
        deadline=None,
        database=None,
        phases=[hypothesis.Phase.generate],  # a failing case is recorded, never shrunk
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.seed(seed)
    @hypothesis.given(case=inputs.cases, bucket=inputs.buckets, taint=inputs.taints)
    def run(case: Case, bucket: int, taint: Taint | None) -> None:
        nonlocal generated
        generated += 1
        fuzzer.send(case, bucket, taint)

    run()
    return generated


def fuzz(url: str, cases: int, seed: int) -> dict[str, Tally]:
    """Fuzz the server at ``url`` with about ``cases`` cases spread over its operations."""
    document = httpx.get(f"{url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzer = Fuzzer(url)
    for operation in operations:
        fuzzer.tallies[operation.label] = Tally()
    inputs = {op.label: _inputs(op, document) for op in operations}
    active = list(operations)
    remaining, round_ = cases, 0
    while remaining > 0 and active:
        quota = math.ceil(remaining / len(active))
        still, sent_in_round = [], 0
        for index, operation in enumerate(active):
            quota = min(quota, remaining)
            if quota <= 0:
                break
            tally = fuzzer.tallies[operation.label]
            before = tally.cases
            made = _fuzz_operation(
                fuzzer, inputs[operation.label], quota, seed + 1000 * round_ + index
            )
            sent = tally.cases - before  # the cases that could not be sent count for nothing
            remaining -= sent
            sent_in_round += sent
            if made >= quota:  # its inputs did not run out: it may take more
                still.append(operation)
        if not sent_in_round:
            break
        active, round_ = still, round_ + 1
    return fuzzer.tallies


# ---- output ----

HEADER = (
    f"{'operation':<52} {'cases':>6} {'2xx':>5} {'3xx':>4} {'4xx':>5} {'5xx':>4} "
    f"{'nonconf':>7} {'unsent':>6}"
)


def _row(name: str, tally: Tally) -> str:
    c = tally.classes
    return (
        f"{name:<52} {tally.cases:>6} {c['2xx']:>5} {c['3xx']:>4} {c['4xx']:>5} {c['5xx']:>4} "
        f"{tally.nonconforming:>7} {sum(tally.unsent.values()):>6}"
    )


def _report(database: str, tallies: dict[str, Tally], elapsed_s: float) -> int:
    """Print one database's table and findings; returns its number of 5xx answers."""
    total = Tally()
    for tally in tallies.values():
        total.cases += tally.cases
        total.classes.update(tally.classes)
        total.nonconforming += tally.nonconforming
        total.unsent.update(tally.unsent)
    print(f"\n{database}: {total.cases} cases in {elapsed_s:.0f} s")
    print(HEADER)
    for name, tally in tallies.items():
        print(_row(name, tally))
    print(_row("total", total))
    for name, tally in tallies.items():
        for title, count in tally.failures.most_common():
            print(f"  nonconforming  {name}: {count} × {title}")
        for reason, count in tally.unsent.most_common():
            print(f"  not sent       {name}: {count} × {reason}")
    reproductions = [r for t in tallies.values() for r in t.reproductions]
    for r in reproductions[:SHOWN_REPRODUCTIONS]:
        print(
            f"  {r.status}  {r.method} {r.path}\n       headers {r.headers}\n       body {r.body}"
        )
        print(f"       answer {r.answer!r}")
    if len(reproductions) > SHOWN_REPRODUCTIONS:
        print(f"  … and {len(reproductions) - SHOWN_REPRODUCTIONS} more 5xx")
    return total.classes["5xx"]


# ---- orchestration ----


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = _realty_env(data_dir, database_url, None)
    env.update(
        REALTY_RATE_LIMIT_CLIENT_MESSAGES="0",
        REALTY_RATE_LIMIT_WEBSOCKETS="0",
        REALTY_STAFF_API_KEY=STAFF_KEY,
        REALTY_TWILIO_AUTH_TOKEN="fuzz-twilio-token",
    )
    return env


@contextlib.contextmanager
def _servers(args: argparse.Namespace, tmp: Path) -> Iterator[Iterator[Server]]:
    """The databases' servers, each started when reached and stopped before the next."""

    def each() -> Iterator[Server]:
        realty = "realty.api.main:app"
        if not args.skip_sqlite:
            env = _env(tmp / "sqlite", f"sqlite:///{tmp / 'realty.db'}")
            with _serving("sqlite", realty, env, tmp, factory=True, app_dir=None) as server:
                yield server
        if not args.skip_postgres:
            with _postgres_database(args.postgres_url) as (url, name):
                env = _env(tmp / "postgresql", url)
                with _serving("postgresql", realty, env, tmp, factory=True, app_dir=None) as s:
                    s.database = name
                    yield s

    servers = each()
    try:
        yield servers
    finally:
        servers.close()


def _run(args: argparse.Namespace) -> int:
    errors = 0
    with tempfile.TemporaryDirectory(prefix="realty-fuzz-") as tmp, _servers(args, Path(tmp)) as s:
        for server in s:
            print(f"fuzzing {server.name} ({args.cases} cases, seed {args.seed})…", flush=True)
            started = time.monotonic()
            tallies = fuzz(server.url, args.cases, args.seed)
            errors += _report(server.name, tallies, time.monotonic() - started)
            if server.process.poll() is not None:
                print(f"{server.name} server died:\n{server.log.read_text()[-3000:]}")
                errors += 1
    return errors


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fuzz every operation of the OpenAPI document on SQLite and PostgreSQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--cases", type=int, default=2000, help="Cases per database.")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (same cases).")
    parser.add_argument("--skip-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--skip-postgres", action="store_true", help="Only SQLite.")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="Admin URL; a fresh database is created next to it and dropped.",
    )
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzzing; exit status 1 when any case got a 5xx."""
    return 1 if _run(_arguments(argv)) else 0


if __name__ == "__main__":
    sys.exit(main())
