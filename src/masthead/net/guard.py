"""SSRF guard: pure checks for user-supplied URLs and the addresses they resolve to.

Every outbound fetch of a user-supplied URL (webhook targets, media downloads) must pass
`check_url` before the request and `check_address` for each resolved address before the
socket is opened; `masthead.net.client.safe_async_client` does both. Nothing here does I/O.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import TypeAlias

import httpx

__all__ = ["BlockedDestination", "IPAddress", "ParsedTarget", "check_address", "check_url"]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}

# WHATWG URL parsers (browsers, curl, glibc's inet_aton) treat a host whose last label is a
# number as an IPv4 address in decimal/octal/hex/short form; we only accept dotted quads.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")

_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_.])?")

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Checked in order, so specific entries (metadata, broadcast) come before their supernets.
_V4_RANGES: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "in the unspecified ('this network') range"),
    (_V4("10.0.0.0/8"), "in a private range"),
    (_V4("100.64.0.0/10"), "in the carrier-grade NAT range (100.64.0.0/10)"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.169.254/32"), "the cloud metadata endpoint"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "in a private range"),
    (_V4("192.0.0.0/24"), "in the IETF protocol assignments range"),
    (_V4("192.0.2.0/24"), "in a documentation range"),
    (_V4("192.88.99.0/24"), "in the 6to4 relay anycast range"),
    (_V4("192.168.0.0/16"), "in a private range"),
    (_V4("198.18.0.0/15"), "in the benchmarking range"),
    (_V4("198.51.100.0/24"), "in a documentation range"),
    (_V4("203.0.113.0/24"), "in a documentation range"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "the broadcast address"),
    (_V4("240.0.0.0/4"), "in the reserved range (240.0.0.0/4)"),
)

_V6_RANGES: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("64:ff9b:1::/48"), "in the local-use NAT64 range"),
    (_V6("100::/64"), "in the discard-only range"),
    (_V6("2001:2::/48"), "in the benchmarking range"),
    (_V6("2001:db8::/32"), "in a documentation range"),
    (_V6("3fff::/20"), "in a documentation range"),
    (_V6("fc00::/7"), "in the unique-local range (fc00::/7)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "in the deprecated site-local range (fec0::/10)"),
    (_V6("ff00::/8"), "multicast"),
)

_V4_COMPATIBLE = _V6("::/96")
_NAT64 = _V6("64:ff9b::/96")


class BlockedDestination(ValueError):
    """The URL or address must not be fetched; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedTarget:
    """Where a checked URL points: lower-case ASCII (IDNA) host, IPv6 without brackets."""

    scheme: str
    host: str
    port: int


def _is_allowed(host: str, port: int, allow: frozenset[tuple[str, int]]) -> bool:
    """Exact (host, port) match against the operator's allow list; host compared lower-case."""
    host = host.lower()
    return any(host == h.lower().strip("[]") and port == p for h, p in allow)


def not_listed(host: str, port: int) -> BlockedDestination:
    """The refusal of MASTHEAD_FETCH_ONLY_ALLOWED for a destination outside the allow list."""
    return BlockedDestination(
        f"{host}:{port} is not in MASTHEAD_FETCH_ALLOW, and only those may be fetched"
    )


def check_url(
    url: str | httpx.URL, allow: frozenset[tuple[str, int]] = frozenset()
) -> ParsedTarget:
    """Refuse URLs we must never fetch, before any DNS lookup or connection.

    Parsing uses httpx's own parser so the host checked here is the host httpx connects to.
    Names are only checked for obvious loopback spellings; their addresses are checked at
    connect time by the guarded client.
    """
    if isinstance(url, httpx.URL):
        return _check_parsed(url, allow)
    return _check_text(url, allow)


@functools.lru_cache(maxsize=4096)
def _check_text(url: str, allow: frozenset[tuple[str, int]]) -> ParsedTarget:
    """`check_url` of a string, remembered per (URL, allow list): it is pure and every post
    to the same webhook would otherwise parse the same URL again. Refusals raise, so only
    accepted URLs are kept."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedDestination(f"URL is not valid: {exc}") from exc
    return _check_parsed(parsed, allow)


def _check_parsed(parsed: httpx.URL, allow: frozenset[tuple[str, int]]) -> ParsedTarget:
    scheme = parsed.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BlockedDestination(f"scheme {scheme!r} is not allowed (only http and https)")
    if parsed.userinfo:
        raise BlockedDestination("URL must not contain credentials (user:password@)")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise BlockedDestination("URL has no host")
    port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise BlockedDestination(f"port {port} is not valid")
    target = ParsedTarget(scheme=scheme, host=host, port=port)
    if _is_allowed(host, port, allow):
        return target
    if "%" in host:
        raise BlockedDestination(
            f"host {host!r} contains '%' (percent-encoding or an IPv6 zone identifier)"
        )
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal)
        return target
    if not _HOSTNAME.fullmatch(host):
        raise BlockedDestination(f"host {host!r} is not a valid hostname")
    name = host.removesuffix(".")
    if _NUMERIC_LABEL.fullmatch(name.rsplit(".", 1)[-1]):
        raise BlockedDestination(
            f"host {host!r} is a non-standard IPv4 spelling; write addresses as four decimal "
            "numbers like 93.184.216.34"
        )
    if name == "localhost" or name.endswith(".localhost"):
        raise BlockedDestination(f"host {host!r} is a loopback name")
    return target


def check_address(ip: IPAddress, *, host: str | None = None) -> None:
    """Refuse any address that is not plainly public unicast; `host` only improves the message."""
    reason = _v4_reason(ip) if isinstance(ip, ipaddress.IPv4Address) else _v6_reason(ip)
    if reason is None:
        return
    of = f" of {host}" if host and host != str(ip) else ""
    raise BlockedDestination(f"address {ip}{of} is {reason}")


def _v4_reason(ip: ipaddress.IPv4Address) -> str | None:
    for network, reason in _V4_RANGES:
        if ip in network:
            return reason
    if not ip.is_global:
        return "not a globally routable address"
    return None


def _embedded_reason(kind: str, embedded: ipaddress.IPv4Address) -> str | None:
    inner = _v4_reason(embedded)
    return None if inner is None else f"{kind} embedding {embedded}, which is {inner}"


def _v6_reason(ip: ipaddress.IPv6Address) -> str | None:
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    # Embedded IPv4 forms are refused or judged by the IPv4 address they carry, because
    # stacks and translators may route them to that address.
    if ip.ipv4_mapped is not None:
        return f"an IPv4-mapped IPv6 address (embeds {ip.ipv4_mapped})"
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _V4_COMPATIBLE:
        return f"an IPv4-compatible IPv6 address (embeds {low32})"
    if ip in _NAT64 and (reason := _embedded_reason("a NAT64 address", low32)):
        return reason
    if ip.sixtofour is not None and (reason := _embedded_reason("a 6to4 address", ip.sixtofour)):
        return reason
    if ip.teredo is not None:
        for embedded in ip.teredo:
            if reason := _embedded_reason("a Teredo address", embedded):
                return reason
    for network, reason in _V6_RANGES:
        if ip in network:
            return reason
    if not ip.is_global:
        return "not a globally routable address"
    return None
