"""SSRF guard: URL/address refusals, and the guarded client against real loopback listeners.

Only 127.0.0.1 / ::1 listeners started here are ever contacted: the resolver is replaced for
made-up names, and a tripwire on the inner backend refuses any other connect target.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import pytest

from masthead.net import client as client_mod
from masthead.net.client import safe_async_client
from masthead.net.guard import BlockedDestination, IPAddress, ParsedTarget, check_address, check_url

TIMEOUT = httpx.Timeout(5.0)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


# --- fixtures -------------------------------------------------------------------------------


@dataclass
class Listener:
    """A loopback HTTP/1.1 server that counts accepted TCP connections."""

    port: int
    response: bytes = OK_RESPONSE
    connections: int = 0
    server: asyncio.Server | None = field(default=None, repr=False)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.response)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _start(host: str) -> AsyncIterator[Listener]:
    listener = Listener(port=0)
    listener.server = await asyncio.start_server(listener.handle, host, 0)
    listener.port = listener.server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        listener.server.close()
        await listener.server.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    async for item in _start("127.0.0.1"):
        yield item


@pytest.fixture
async def listener6() -> AsyncIterator[Listener]:
    try:
        agen = _start("::1")
        item = await agen.__anext__()
    except OSError as exc:
        pytest.skip(f"cannot listen on ::1: {exc}")
    yield item
    with pytest.raises(StopAsyncIteration):
        await agen.__anext__()


@pytest.fixture(autouse=True)
def tripwire(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every real connect; refuse (without connecting) anything but loopback."""
    attempts: list[tuple[str, int]] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(
        self: httpcore.AnyIOBackend,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        attempts.append((host, port))
        if host not in LOOPBACK:
            raise httpcore.ConnectError(f"tripwire: test tried to reach {host}")
        return await real(self, host, port, timeout, local_address, socket_options)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return attempts


def fake_resolver(
    table: dict[str, list[str]],
) -> Callable[[str, int], Awaitable[list[IPAddress]]]:
    """Stand-in for client._resolve so tests never touch real DNS."""

    async def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"fake resolver has no {host}")
        return [ipaddress.ip_address(a) for a in table[host]]

    return resolve


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def settle() -> None:
    """Let the listener's accept callbacks run before we count connections."""
    await asyncio.sleep(0.05)


# --- check_url ------------------------------------------------------------------------------

URL_BLOCKED = [
    pytest.param("ftp://example.com/x", "scheme", id="scheme-ftp"),
    pytest.param("file:///etc/passwd", "scheme", id="scheme-file"),
    pytest.param("gopher://example.com/", "scheme", id="scheme-gopher"),
    pytest.param("http:///path", "no host", id="no-host"),
    pytest.param("http://user:pw@example.com/", "credentials", id="userinfo-user-pass"),
    pytest.param("http://user@example.com/", "credentials", id="userinfo-user"),
    pytest.param("http://example.com\\@127.0.0.1/", "credentials", id="backslash-userinfo"),
    pytest.param("http://2130706433/", "non-standard IPv4", id="v4-decimal"),
    pytest.param("http://0177.0.0.1/", "not valid", id="v4-octal"),
    pytest.param("http://127.1/", "non-standard IPv4", id="v4-short"),
    pytest.param("http://127.0.1/", "non-standard IPv4", id="v4-short-3"),
    pytest.param("http://0x7f.0.0.1/", "non-standard IPv4", id="v4-hex-octet"),
    pytest.param("http://0x7f000001/", "non-standard IPv4", id="v4-hex-whole"),
    pytest.param("http://127.0.0.1./", "non-standard IPv4", id="v4-trailing-dot"),
    pytest.param("http://localhost/", "loopback name", id="localhost"),
    pytest.param("http://LOCALHOST./", "loopback name", id="localhost-fqdn"),
    pytest.param("http://api.localhost/", "loopback name", id="sub-localhost"),
    pytest.param("http://127.0.0.1/", "loopback", id="v4-loopback"),
    pytest.param("http://10.0.0.5/", "private", id="v4-private"),
    pytest.param("http://169.254.169.254/latest/meta-data/", "metadata", id="metadata"),
    pytest.param("http://[::1]/", "loopback", id="v6-loopback"),
    pytest.param("http://[::ffff:127.0.0.1]/", "IPv4-mapped", id="v6-mapped"),
    pytest.param("http://[fe80::1%25eth0]/", "zone identifier", id="v6-zone-id"),
    pytest.param("http://exa%2emple.com/", "percent-encoding", id="percent-encoded-host"),
    pytest.param("http://exa mple.com/", "percent-encoding", id="space-in-host"),
    pytest.param("http://-a.example.com/", "not a valid hostname", id="bad-hostname"),
    pytest.param("http://example.com:0/", "port 0", id="port-zero"),
    pytest.param("http://[::1/", "not valid", id="malformed"),
]


@pytest.mark.parametrize(("url", "reason"), URL_BLOCKED)
def test_check_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(BlockedDestination) as info:
        check_url(url)
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "https://example.com/hook", ParsedTarget("https", "example.com", 443), id="https-name"
        ),
        pytest.param(
            "HTTP://Example.COM:8080/x", ParsedTarget("http", "example.com", 8080), id="case"
        ),
        pytest.param(
            "http://93.184.216.34/", ParsedTarget("http", "93.184.216.34", 80), id="v4-public"
        ),
        pytest.param(
            "https://[2606:4700::1]/", ParsedTarget("https", "2606:4700::1", 443), id="v6-public"
        ),
        pytest.param(
            "https://exämple.com/", ParsedTarget("https", "xn--exmple-cua.com", 443), id="idna"
        ),
        pytest.param(
            "http://1.2.3.4.example.com/",
            ParsedTarget("http", "1.2.3.4.example.com", 80),
            id="digits-then-name",
        ),
    ],
)
def test_check_url_accepts(url: str, expected: ParsedTarget) -> None:
    assert check_url(url) == expected


def test_allow_list_is_exact_host_and_port() -> None:
    allow = frozenset({("127.0.0.1", 8080), ("LocalHost", 9000), ("[::1]", 7000)})
    assert check_url("http://127.0.0.1:8080/", allow).port == 8080
    assert check_url("http://localhost:9000/", allow).host == "localhost"
    assert check_url("http://[::1]:7000/", allow).host == "::1"
    for url in ("http://127.0.0.1:8081/", "http://localhost:8080/", "http://127.0.0.2:8080/"):
        with pytest.raises(BlockedDestination):
            check_url(url, allow)


def test_an_accepted_url_is_refused_again_under_another_allow_list() -> None:
    """Answers are remembered per (URL, allow list): one list's permission never leaks."""
    url = "http://127.0.0.1:8080/hook"
    allow = frozenset({("127.0.0.1", 8080)})
    for _ in range(2):
        assert check_url(url, allow).port == 8080
        with pytest.raises(BlockedDestination, match="loopback"):
            check_url(url)


def test_a_refused_url_stays_refused_with_the_same_reason() -> None:
    for _ in range(2):
        with pytest.raises(BlockedDestination, match="is not valid"):
            check_url("http://[::1/")
        with pytest.raises(BlockedDestination, match="cloud metadata"):
            check_url("http://169.254.169.254/latest")


def test_allow_list_does_not_excuse_credentials_or_scheme() -> None:
    allow = frozenset({("127.0.0.1", 8080)})
    for url in ("http://u:p@127.0.0.1:8080/", "ftp://127.0.0.1:8080/"):
        with pytest.raises(BlockedDestination):
            check_url(url, allow)


# --- check_address --------------------------------------------------------------------------

ADDRESS_BLOCKED = [
    pytest.param("127.0.0.1", "loopback", id="v4-loopback"),
    pytest.param("127.255.0.9", "loopback", id="v4-loopback-range"),
    pytest.param("10.0.0.5", "private", id="v4-10"),
    pytest.param("172.16.3.4", "private", id="v4-172.16"),
    pytest.param("172.31.255.255", "private", id="v4-172.31"),
    pytest.param("192.168.1.1", "private", id="v4-192.168"),
    pytest.param("169.254.169.254", "metadata", id="v4-metadata"),
    pytest.param("169.254.1.1", "link-local", id="v4-link-local"),
    pytest.param("100.64.0.1", "carrier-grade NAT", id="v4-cgnat-low"),
    pytest.param("100.127.255.254", "carrier-grade NAT", id="v4-cgnat-high"),
    pytest.param("100.100.100.200", "carrier-grade NAT", id="v4-alibaba-metadata"),
    pytest.param("0.0.0.0", "unspecified", id="v4-unspecified"),
    pytest.param("0.1.2.3", "unspecified", id="v4-this-network"),
    pytest.param("224.0.0.1", "multicast", id="v4-multicast"),
    pytest.param("239.255.255.250", "multicast", id="v4-ssdp"),
    pytest.param("240.0.0.1", "reserved", id="v4-reserved"),
    pytest.param("255.255.255.255", "broadcast", id="v4-broadcast"),
    pytest.param("192.0.2.10", "documentation", id="v4-test-net-1"),
    pytest.param("198.51.100.10", "documentation", id="v4-test-net-2"),
    pytest.param("203.0.113.10", "documentation", id="v4-test-net-3"),
    pytest.param("198.18.0.1", "benchmarking", id="v4-benchmark"),
    pytest.param("192.0.0.192", "IETF", id="v4-oracle-metadata"),
    pytest.param("::1", "loopback", id="v6-loopback"),
    pytest.param("::", "unspecified", id="v6-unspecified"),
    pytest.param("::ffff:127.0.0.1", "IPv4-mapped", id="v6-mapped-loopback"),
    pytest.param("::ffff:8.8.8.8", "IPv4-mapped", id="v6-mapped-public"),
    pytest.param("::127.0.0.1", "IPv4-compatible", id="v6-compatible"),
    pytest.param("64:ff9b::10.0.0.1", "NAT64 address embedding 10.0.0.1", id="v6-nat64-private"),
    pytest.param("64:ff9b::7f00:1", "NAT64 address embedding 127.0.0.1", id="v6-nat64-loop"),
    pytest.param("64:ff9b:1::1", "local-use NAT64", id="v6-nat64-local-use"),
    pytest.param("2002:a00:1::1", "6to4 address embedding 10.0.0.1", id="v6-6to4-private"),
    pytest.param("2002:a9fe:a9fe::1", "6to4 address embedding 169.254", id="v6-6to4-metadata"),
    pytest.param(
        "2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo address embedding", id="v6-teredo-loop"
    ),
    pytest.param("fe80::1", "link-local", id="v6-link-local"),
    pytest.param("fec0::1", "site-local", id="v6-site-local"),
    pytest.param("fc00::1", "unique-local", id="v6-ula-fc"),
    pytest.param("fd00:ec2::254", "unique-local", id="v6-aws-metadata"),
    pytest.param("ff02::1", "multicast", id="v6-multicast"),
    pytest.param("2001:db8::1", "documentation", id="v6-documentation"),
    pytest.param("3fff::1", "documentation", id="v6-documentation-3fff"),
    pytest.param("2001:2::1", "benchmarking", id="v6-benchmark"),
    pytest.param("100::1", "discard", id="v6-discard"),
]


@pytest.mark.parametrize(("address", "reason"), ADDRESS_BLOCKED)
def test_check_address_refuses(address: str, reason: str) -> None:
    with pytest.raises(BlockedDestination) as info:
        check_address(ipaddress.ip_address(address))
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("93.184.216.34", id="v4-public"),
        pytest.param("8.8.8.8", id="v4-public-dns"),
        pytest.param("2606:4700::1", id="v6-public"),
        pytest.param("64:ff9b::808:808", id="v6-nat64-public"),
        pytest.param("2002:808:808::1", id="v6-6to4-public"),
    ],
)
def test_check_address_accepts_public(address: str) -> None:
    check_address(ipaddress.ip_address(address))


def test_reason_names_address_and_host() -> None:
    with pytest.raises(BlockedDestination) as info:
        check_address(ipaddress.ip_address("10.0.0.5"), host="example.com")
    assert info.value.reason == "address 10.0.0.5 of example.com is in a private range"
    assert str(info.value) == info.value.reason


# --- guarded client against loopback listeners ----------------------------------------------

REFUSED_URLS = [
    pytest.param("http://127.0.0.1:{port}/", id="v4-literal"),
    pytest.param("http://localhost:{port}/", id="localhost"),
    pytest.param("http://2130706433:{port}/", id="v4-decimal"),
    pytest.param("http://127.1:{port}/", id="v4-short"),
    pytest.param("http://0x7f.0.0.1:{port}/", id="v4-hex"),
    pytest.param("http://[::ffff:127.0.0.1]:{port}/", id="v6-mapped"),
    pytest.param("http://rebind.test:{port}/", id="name-resolving-to-loopback"),
    pytest.param("http://user:pw@rebind.test:{port}/", id="credentials"),
]


@pytest.mark.parametrize("template", REFUSED_URLS)
async def test_client_never_connects_to_loopback(
    template: str,
    listener: Listener,
    tripwire: list[tuple[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_mod, "_resolve", fake_resolver({"rebind.test": ["127.0.0.1"]}))
    async with safe_async_client(allow=frozenset(), timeout=TIMEOUT) as client:
        with pytest.raises(BlockedDestination) as info:
            await client.get(template.format(port=listener.port))
    await settle()
    assert not isinstance(info.value, httpx.HTTPError)
    assert listener.connections == 0
    assert tripwire == []


async def test_client_never_connects_to_ipv6_loopback(listener6: Listener) -> None:
    async with safe_async_client(allow=frozenset(), timeout=TIMEOUT) as client:
        with pytest.raises(BlockedDestination):
            await client.get(f"http://[::1]:{listener6.port}/")
    await settle()
    assert listener6.connections == 0


async def test_allowed_pair_reaches_listener(listener: Listener) -> None:
    allow = frozenset({("127.0.0.1", listener.port)})
    async with safe_async_client(allow=allow, timeout=TIMEOUT) as client:
        response = await client.get(f"http://127.0.0.1:{listener.port}/")
    assert (response.status_code, response.text) == (200, "ok")
    assert listener.connections == 1


async def test_allow_list_port_must_match(listener: Listener) -> None:
    allow = frozenset({("127.0.0.1", listener.port + 1)})
    async with safe_async_client(allow=allow, timeout=TIMEOUT) as client:
        with pytest.raises(BlockedDestination):
            await client.get(f"http://127.0.0.1:{listener.port}/")
    await settle()
    assert listener.connections == 0


async def test_name_with_public_and_private_address_is_refused(
    tripwire: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = fake_resolver({"mixed.test": ["93.184.216.34", "10.0.0.5"]})
    monkeypatch.setattr(client_mod, "_resolve", resolver)
    async with safe_async_client(allow=frozenset(), timeout=TIMEOUT) as client:
        with pytest.raises(BlockedDestination) as info:
            await client.get("https://mixed.test/hook")
    assert info.value.reason == "address 10.0.0.5 of mixed.test is in a private range"
    assert tripwire == []


async def test_connects_to_checked_ip_without_resolving_again(
    tripwire: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    resolve = fake_resolver({"public.test": ["93.184.216.34"]})

    async def counting(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return await resolve(host, port)

    monkeypatch.setattr(client_mod, "_resolve", counting)
    async with safe_async_client(allow=frozenset(), timeout=TIMEOUT) as client:
        with pytest.raises(httpx.ConnectError, match="tripwire"):
            await client.get("https://public.test/hook")
    assert calls == ["public.test"]
    # The inner backend is handed the checked IP, never the name (which it would re-resolve).
    assert tripwire == [("93.184.216.34", 443)]


async def test_resolution_failure_is_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "_resolve", fake_resolver({}))
    async with safe_async_client(allow=frozenset(), timeout=TIMEOUT) as client:
        with pytest.raises(httpx.ConnectError, match=r"could not resolve nowhere\.test"):
            await client.get("http://nowhere.test/")


async def test_proxy_environment_is_ignored(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, bogus)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    allow = frozenset({("127.0.0.1", listener.port)})
    async with safe_async_client(allow=allow, timeout=TIMEOUT) as client:
        response = await client.get(f"http://127.0.0.1:{listener.port}/")
    assert response.status_code == 200
    assert listener.connections == 1


async def test_redirects_are_not_followed_and_each_hop_is_rechecked(listener: Listener) -> None:
    listener.response = (
        b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    allow = frozenset({("127.0.0.1", listener.port)})
    url = f"http://127.0.0.1:{listener.port}/"
    async with safe_async_client(allow=allow, timeout=TIMEOUT) as client:
        response = await client.get(url)
        assert response.status_code == 302
        # A caller forcing redirects on still cannot reach the next hop unchecked.
        with pytest.raises(BlockedDestination, match="metadata"):
            await client.get(url, follow_redirects=True)


@pytest.mark.parametrize("name", ["transport", "mounts", "proxy", "trust_env", "follow_redirects"])
def test_client_rejects_bypassing_kwargs(name: str) -> None:
    with pytest.raises(TypeError, match=name):
        kwargs: dict[str, Any] = {name: None}
        safe_async_client(allow=frozenset(), timeout=TIMEOUT, **kwargs)


async def test_only_allowed_refuses_public_addresses_before_resolving(
    tripwire: list[tuple[str, int]], listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved: list[str] = []

    async def resolve(host: str, port: int) -> list[IPAddress]:
        resolved.append(host)
        return [ipaddress.ip_address("93.184.216.34")]

    monkeypatch.setattr(client_mod, "_resolve", resolve)
    allow = frozenset({("127.0.0.1", listener.port)})
    async with safe_async_client(allow=allow, timeout=TIMEOUT, only_allowed=True) as client:
        with pytest.raises(BlockedDestination, match="not in MASTHEAD_FETCH_ALLOW"):
            await client.get("http://public.test/")
        with pytest.raises(BlockedDestination, match="not in MASTHEAD_FETCH_ALLOW"):
            await client.get("http://93.184.216.34/")
        allowed = await client.get(f"http://127.0.0.1:{listener.port}/")

    assert allowed.status_code == 200
    assert resolved == []
    assert tripwire == [("127.0.0.1", listener.port)]
