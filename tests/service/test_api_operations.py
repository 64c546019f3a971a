"""Operations over a real server: liveness, readiness, Prometheus metrics and HTTP-level errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from livesupport import FreezableProxy, MakeSettings, Opened, Serve

OpenConv = Callable[..., Opened]
PROBLEM = "application/problem+json"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """The :func:`samples` key of one sample."""
    return name, frozenset(labels.items())


def test_healthz_says_ok(sqlite_url: str, make_settings: MakeSettings, serve: Serve) -> None:
    """Liveness is a plain 200 {"status": "ok"}."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(
    database_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """Without Redis or a model: ready, database ok, Redis not configured, parser only."""
    server = serve(make_settings(database_url))
    with server.client() as http:
        response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "degraded": False,
        "database": "ok",
        "redis": "not configured",
        "model": "none (parser only)",
    }


def test_readyz_pings_a_configured_redis(
    sqlite_url: str,
    redis_url: str,
    redis_prefix: str,
    make_settings: MakeSettings,
    serve: Serve,
) -> None:
    """With REDIS_URL set, readiness reports the Redis ping."""
    server = serve(make_settings(sqlite_url, redis_url=redis_url, redis_prefix=redis_prefix))
    with server.client() as http:
        response = http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["redis"]) == ("ready", "ok", "ok")


def test_metrics_count_turns_conversations_and_requests_by_route_template(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """After one conversation and one message, the counters say exactly that."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        conv = open_conv(http)
        sent = http.post(
            f"/v1/conversations/{conv.id}/messages",
            json={"text": "I need an office in Mexico City."},
            headers=conv.auth,
        )
        assert sent.status_code == 200
        response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'realty_turns_total{channel="api",outcome="answered"} 1.0' in text
    assert 'realty_conversations_started_total{channel="api"} 1.0' in text
    found = samples(text)
    route = "/v1/conversations/{conversation_id}/messages"
    requests = "realty_http_requests_total"
    assert found[key(requests, method="POST", route=route, status="200")] == 1
    assert found[key(requests, method="POST", route="/v1/conversations", status="201")] == 1
    assert found[key("realty_http_request_seconds_count", method="POST", route=route)] == 1
    assert found[key("realty_turn_seconds_count")] == 1
    # The concrete path (with the id) never becomes a label value.
    assert conv.id not in text


def test_an_unknown_path_is_a_404_problem(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A path no route matches gets a problem document, not Starlette's plain text."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        response = http.get("/v2/nothing-here")
        metrics = samples(http.get("/metrics").text)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert (problem["status"], problem["title"]) == (404, "Not found")
    # Unmatched paths share one label value instead of minting one per path.
    unmatched = key("realty_http_requests_total", method="GET", route="unmatched", status="404")
    assert metrics[unmatched] == 1


def test_a_wrong_method_is_a_405_problem_with_allow(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """A known path with a method it does not take: 405 problem and the Allow header."""
    server = serve(make_settings(sqlite_url))
    with server.client() as http:
        response = http.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET"
    problem = response.json()
    assert (problem["status"], problem["title"]) == (405, "Method not allowed")


LIMITS = {"max_body_bytes": 8192, "max_message_chars": 1000}


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    """A JSON body of ``total`` bytes, in pieces (so httpx sends it chunked)."""
    body = b'{"text": "' + b"a" * (total - 12) + b'"}'
    assert len(body) == total
    for start in range(0, total, size):
        yield body[start : start + size]


def test_an_oversized_body_with_content_length_is_a_413_problem(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """A declared body over max_body_bytes is refused before it is read; nothing is stored."""
    server = serve(make_settings(sqlite_url, **LIMITS))
    with server.client() as http:
        conv = open_conv(http)
        big = {"text": "a" * 9000}
        for path in ("/v1/conversations", f"/v1/conversations/{conv.id}/messages"):
            response = http.post(path, json=big, headers=conv.auth)
            assert response.status_code == 413, path
            assert response.headers["content-type"] == PROBLEM
            problem = response.json()
            assert problem["type"] == "/problems/body-too-large"
            assert (problem["status"], problem["limit"]) == (413, 8192)
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        text = http.get("/metrics").text
    assert [entry["kind"] for entry in history] == ["start"]
    assert 'realty_conversations_started_total{channel="api"} 1.0' in text
    turns = [v for (name, _), v in samples(text).items() if name == "realty_turns_total"]
    assert turns  # every channel's series is there from the start, at 0
    assert set(turns) == {0.0}


def _form_chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    """A Twilio-like form body of ``total`` bytes, in pieces."""
    body = b"From=whatsapp%3A%2B5215550001&Body=" + b"a" * (total - 35)
    assert len(body) == total
    for start in range(0, total, size):
        yield body[start : start + size]


@pytest.mark.parametrize("route", ["open", "message", "whatsapp"])
def test_an_oversized_chunked_body_is_a_413_problem(
    route: str, sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """Without Content-Length the body is counted while it streams and refused past the limit."""
    server = serve(make_settings(sqlite_url, **LIMITS))
    with server.client() as http:
        conv = open_conv(http)
        paths = {
            "open": "/v1/conversations",
            "message": f"/v1/conversations/{conv.id}/messages",
            "whatsapp": "/v1/channels/whatsapp",
        }
        content_type = (
            "application/x-www-form-urlencoded" if route == "whatsapp" else "application/json"
        )
        request = http.build_request(
            "POST",
            paths[route],
            content=_form_chunks(9000) if route == "whatsapp" else _chunks(9000),
            headers={"Content-Type": content_type, **conv.auth},
        )
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
        response = http.send(request)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert (problem["status"], problem["title"]) == (413, "Request body too large")
        history = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()["history"]
        text = http.get("/metrics").text
    assert [entry["kind"] for entry in history] == ["start"]
    assert 'realty_conversations_started_total{channel="api"} 1.0' in text


def test_a_chunked_body_under_the_limit_is_accepted(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """Counting a streamed body does not refuse one that fits."""
    server = serve(make_settings(sqlite_url, **LIMITS))
    with server.client() as http:
        conv = open_conv(http)
        response = http.post(
            f"/v1/conversations/{conv.id}/messages",
            content=iter([b'{"text": "I need an office ', b'in Mexico City."}']),
            headers={"Content-Type": "application/json", **conv.auth},
        )
    assert response.status_code == 200, response.text
    assert response.json()["brief"]["fields"]["city"]["value"] == "Mexico City"


def test_chunked_and_declared_oversized_bodies_get_the_same_problem(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    """The two ways of sending too much are refused with the same problem document."""
    server = serve(make_settings(sqlite_url, **LIMITS))
    with server.client() as http:
        declared = http.post("/v1/conversations", content=b"".join(_chunks(9000)))
        chunked = http.post(
            "/v1/conversations",
            content=_chunks(9000),
            headers={"Content-Type": "application/json"},
        )
    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert chunked.json() == declared.json()


def test_a_message_over_max_message_chars_is_a_413_too_long(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve, open_conv: OpenConv
) -> None:
    """A body that fits with a text over max_message_chars: the too-long problem."""
    server = serve(make_settings(sqlite_url, **LIMITS))
    with server.client() as http:
        conv = open_conv(http)
        response = http.post(
            f"/v1/conversations/{conv.id}/messages", json={"text": "a" * 1001}, headers=conv.auth
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert (problem["type"], problem["limit"]) == ("/problems/too-long", 1000)


def test_metrics_are_per_app(sqlite_url: str, make_settings: MakeSettings, serve: Serve) -> None:
    """Two apps in one process keep separate counters (a fresh server starts at zero)."""
    first = serve(make_settings(sqlite_url))
    with first.client() as http:
        assert http.post("/v1/conversations", json={}).status_code == 201
    second = serve(make_settings(sqlite_url))
    with second.client() as http:
        text = http.get("/metrics").text
    assert "realty_conversations_started_total{" not in text
    with first.client() as http:
        again = http.get("/metrics").text
    assert 'realty_conversations_started_total{channel="api"} 1.0' in again


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[tuple[FreezableProxy, str]]:
    """Redis behind a proxy the test can cut, and the URL through it."""
    parts = urlsplit(redis_url)
    proxy = FreezableProxy((parts.hostname or "127.0.0.1", parts.port or 6379))
    try:
        yield proxy, urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
    finally:
        proxy.close()


def test_redis_is_optional_start_without_it_serve_degraded_and_recover(
    sqlite_url: str,
    redis_prefix: str,
    redis_proxy: tuple[FreezableProxy, str],
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: OpenConv,
) -> None:
    proxy, url = redis_proxy
    proxy.cut()  # Redis is down when the process starts
    settings = make_settings(sqlite_url, redis_url=url, redis_prefix=redis_prefix)
    server = serve(settings)
    with server.client() as http:
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert (ready.json()["status"], ready.json()["degraded"]) == ("ready", True)
        assert ready.json()["redis"].startswith("error")

        # No request fails because of it: turns, and a socket hearing its own process.
        conv = open_conv(http)
        socket_url = f"{server.ws_url}/v1/conversations/{conv.id}/ws?token={conv.token}"
        with connect(socket_url, open_timeout=10) as ws:
            while json.loads(ws.recv(timeout=10))["type"] != "ready":
                pass  # the replay of the greeting comes first
            sent = http.post(
                f"/v1/conversations/{conv.id}/messages",
                json={"text": "I need an office in Mexico City."},
                headers=conv.auth,
            )
            assert sent.status_code == 200
            kinds = [json.loads(ws.recv(timeout=10))["type"] for _ in range(3)]
            assert kinds == ["typing", "reply", "brief"]

        proxy.restore()  # Redis is back: the client reconnects by itself
        deadline = time.monotonic() + 10
        while http.get("/readyz").json()["degraded"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert http.get("/readyz").json() == {
            "status": "ready",
            "degraded": False,
            "database": "ok",
            "redis": "ok",
            "model": "none (parser only)",
        }
