"""Abuse through the real server: spoofed addresses, floods, hostile text and numbers."""

from __future__ import annotations

from livesupport import MakeSettings, Serve


def test_a_spoofed_forwarded_for_does_not_escape_the_per_client_limit(
    sqlite_url: str, make_settings: MakeSettings, serve: Serve
) -> None:
    # The test client reaches the server from 127.0.0.1, a trusted proxy by default; the
    # proxy appended the client's real address (203.0.113.7) after what the client wrote.
    settings = make_settings(sqlite_url, rate_limit_conversations=2, trust_forwarded_for=True)
    server = serve(settings)
    with server.client() as http:
        codes = [
            http.post(
                "/v1/conversations",
                json={},
                headers={"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"},
            ).status_code
            for n in range(4)
        ]
        assert codes == [201, 201, 429, 429]
        # Another client behind the same proxy has its own budget.
        other = {"X-Forwarded-For": "203.0.113.8"}
        assert http.post("/v1/conversations", json={}, headers=other).status_code == 201
