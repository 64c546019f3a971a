"""The client address behind proxies: the rightmost X-Forwarded-For hop not a trusted proxy."""

from __future__ import annotations

import pytest

from realty.services.clients import client_address
from realty.settings import Settings

TRUSTING = Settings(trust_forwarded_for=True)

CASES = [
    # (peer, X-Forwarded-For values, expected client)
    ("127.0.0.1", [], "127.0.0.1"),
    ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
    # A client cannot choose its address by writing the header itself: the proxy appends
    # the real one, and the walk stops there.
    ("127.0.0.1", ["1.2.3.4, 203.0.113.7"], "203.0.113.7"),
    ("10.0.0.5", ["6.6.6.6, 5.5.5.5, 203.0.113.7"], "203.0.113.7"),
    # A chain of trusted proxies: a CDN edge in a private range, then the load balancer.
    ("10.0.0.2", ["203.0.113.7, 192.168.1.10, 172.16.4.4"], "203.0.113.7"),
    ("10.0.0.2", ["203.0.113.7", "192.168.1.10"], "203.0.113.7"),  # two header lines
    ("::1", ["2001:db8::5, fd00::1"], "2001:db8::5"),
    ("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
    # Every hop trusted: the leftmost one is as far as anything can be believed.
    ("127.0.0.1", ["10.0.0.9, 10.0.0.8"], "10.0.0.9"),
    # A peer that is not a trusted proxy is the client, whatever it claims.
    ("198.51.100.20", ["1.2.3.4"], "198.51.100.20"),
    ("198.51.100.20", ["10.0.0.1"], "198.51.100.20"),
    # Garbage stops the walk at the proxy that passed it on.
    ("127.0.0.1", ["not-an-ip"], "127.0.0.1"),
    ("127.0.0.1", ["203.0.113.7, 10.0.0.3, bogus"], "127.0.0.1"),
    ("127.0.0.1", ["203.0.113.7,"], "127.0.0.1"),
    ("10.0.0.2", ["1.2.3.4, garbage, 10.0.0.3"], "10.0.0.3"),
    ("127.0.0.1", ["1.2.3.4:5678"], "127.0.0.1"),
    ("unix-socket", ["1.2.3.4"], "unix-socket"),
]


@pytest.mark.parametrize(("peer", "forwarded", "expected"), CASES)
def test_rightmost_untrusted_hop(peer: str, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, TRUSTING) == expected


def test_the_header_is_ignored_unless_trusted() -> None:
    assert client_address("127.0.0.1", ["1.2.3.4"], Settings()) == "127.0.0.1"
    assert client_address(None, ["1.2.3.4"], TRUSTING) == "unknown"


def test_trusted_proxies_are_configurable() -> None:
    settings = Settings(trust_forwarded_for=True, trusted_proxies=["198.51.100.0/24"])
    assert client_address("198.51.100.20", ["1.2.3.4"], settings) == "1.2.3.4"
    # Private ranges are no longer trusted once the list is replaced.
    assert client_address("127.0.0.1", ["1.2.3.4"], settings) == "127.0.0.1"


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTY_TRUSTED_PROXIES", '["10.1.0.0/16", "2001:db8::/32"]')
    assert [str(n) for n in Settings().trusted_proxies] == ["10.1.0.0/16", "2001:db8::/32"]
