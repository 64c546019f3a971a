"""Who is calling: the client address every per-client limit is counted against.

Behind proxies the TCP peer is the last proxy, and the client is named in X-Forwarded-For,
where every proxy appends the address it received the request from. Only the right end of
that header can be believed: anything to the left of the first hop a trusted proxy wrote was
sent by the client itself. So the address is found by walking from the peer leftwards while
the current address is a trusted proxy (``REALTY_TRUSTED_PROXIES``); the first address that
is not one is the client. A peer that is not a trusted proxy is the client, whatever the
header says; a hop that is not an IP address stops the walk at the proxy that wrote it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from realty.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def _trusted(address: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def forwarded_client(peer: str, forwarded_for: Sequence[str], proxies: Sequence[IPNetwork]) -> str:
    """The rightmost address of ``peer`` and ``forwarded_for`` that is not a trusted proxy.

    Args:
        peer: The TCP peer's address.
        forwarded_for: Every X-Forwarded-For header value, in the order received.
        proxies: The networks of trusted proxies.
    """
    current = _ip(peer)
    if current is None:
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        if not _trusted(current, proxies):
            break
        previous = _ip(hop)
        if previous is None:
            break  # a proxy wrote something that is not an address: believe nothing further
        current = previous
    return str(current)


def client_address(peer: str | None, forwarded_for: Sequence[str], settings: Settings) -> str:
    """The client's address: the TCP peer, or, with ``REALTY_TRUST_FORWARDED_FOR``, the
    rightmost X-Forwarded-For hop that is not a trusted proxy (see the module doc).

    Args:
        peer: The TCP peer's address (``None`` when the server does not know it).
        forwarded_for: Every X-Forwarded-For header value of the request.
        settings: Whether the header is read, and which proxies are trusted.
    """
    if peer is None:
        return "unknown"
    if not settings.trust_forwarded_for:
        return peer
    return forwarded_client(peer, forwarded_for, settings.trusted_proxies)
