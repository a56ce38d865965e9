"""An httpx client that can only reach public addresses (or the operator's allow list).

The guard sits in the network backend: each new connection resolves the host once, checks
every address, and connects to a checked IP, so DNS rebinding between check and connect is
impossible. TLS still verifies and sends SNI for the URL's hostname because httpcore passes
`server_hostname` from the request URL to `start_tls`, independent of what we connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, cast

import anyio
import httpcore
import httpx

from masthead.net.guard import (
    BlockedDestination,
    IPAddress,
    _is_allowed,
    check_address,
    check_url,
    not_listed,
)

__all__ = ["detach_transport", "safe_async_client"]

# Keyword arguments that would route around the guarded transport or undo its settings.
_FORBIDDEN_KW = frozenset(
    {"transport", "mounts", "proxy", "trust_env", "follow_redirects", "cert", "http1", "http2"}
)

_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# Most specific first: the first match decides which httpx error the caller sees.
_ERROR_MAP: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def safe_async_client(
    *,
    allow: frozenset[tuple[str, int]],
    timeout: httpx.Timeout,
    verify: ssl.SSLContext | bool = True,
    limits: httpx.Limits = _DEFAULT_LIMITS,
    only_allowed: bool = False,
    **kw: Any,
) -> httpx.AsyncClient:
    """Build the only client allowed to fetch user-supplied URLs.

    `only_allowed` (MASTHEAD_FETCH_ONLY_ALLOWED) narrows it further to the allow list: for
    closed networks, and for tests of a server subprocess that must not even query DNS.

    Proxy env vars are ignored (a proxy would do its own, unchecked resolution) and redirects
    are not followed; a caller that follows them anyway is still checked on every hop because
    the check lives in the transport. Refusals raise `BlockedDestination`, never an httpx error.
    """
    bad = _FORBIDDEN_KW.intersection(kw)
    if bad:
        raise TypeError(
            f"safe_async_client does not accept {sorted(bad)}: it would weaken the guard"
        )
    transport = _GuardedTransport(
        allow=allow, verify=verify, limits=limits, only_allowed=only_allowed
    )
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, trust_env=False, follow_redirects=False, **kw
    )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Resolve once with the system resolver; a module-level seam so tests can replace it."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


class _WideReads(httpcore.AsyncNetworkStream):
    """httpcore reads 64 KiB at a time; for media downloads that per-read cost (h11 events,
    await, copy) held httpx to about half of curl's speed on loopback. Reading up to 256 KiB
    per call doubled it (measured in bench/media.py)."""

    READ_AT_LEAST = 256 * 1024

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max(max_bytes, self.READ_AT_LEAST), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _WideReads(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def detach(self) -> tuple[asyncio.Transport, list[bytes]] | None:
        """The asyncio transport under a plain-TCP connection, paused, with what anyio has read
        from it and not handed out yet, for a caller that reads the rest with a protocol of its
        own (a media download, media/fetch.py). The stream must not be read after this.

        This reaches into anyio's asyncio SocketStream (`_transport`, `_protocol.read_queue`,
        as in anyio 4): None over TLS, at EOF, or if those are not there, and the caller reads
        the stream as before (tests/media/test_sized_body.py fails if the swap stops working)."""
        stream = getattr(self._inner, "_stream", None)
        transport: Any = getattr(stream, "_transport", None)
        protocol = getattr(stream, "_protocol", None)
        queue = getattr(protocol, "read_queue", None)
        if (
            not all(hasattr(transport, name) for name in _SWAPPABLE)
            or not isinstance(queue, deque)
            or getattr(protocol, "is_at_eof", True)
            or getattr(protocol, "exception", None) is not None
            or transport.is_closing()
        ):
            return None
        transport.pause_reading()
        read = list(queue)
        queue.clear()
        return cast(asyncio.Transport, transport), read


_SWAPPABLE = ("set_protocol", "pause_reading", "resume_reading", "is_closing")


def detach_transport(stream: object) -> tuple[asyncio.Transport, list[bytes]] | None:
    """`_WideReads.detach` for a response's `network_stream`; None for any other stream."""
    return stream.detach() if isinstance(stream, _WideReads) else None


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Network backend that connects only to checked addresses; everything else is delegated."""

    def __init__(self, allow: frozenset[tuple[str, int]], only_allowed: bool = False) -> None:
        self._allow = allow
        self._only_allowed = only_allowed
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _WideReads(await self._connect(host, port, timeout, local_address, socket_options))

    async def _connect(
        self,
        host: str,
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        options = None if socket_options is None else list(socket_options)
        if _is_allowed(host, port, self._allow):
            return await self._inner.connect_tcp(
                host, port, timeout=timeout, local_address=local_address, socket_options=options
            )
        if self._only_allowed:
            raise not_listed(host, port)
        # One budget for resolving and trying every address, not `timeout` per step.
        deadline = math.inf if timeout is None else anyio.current_time() + timeout
        addresses = await self._checked_addresses(host, port, deadline)
        error: Exception = httpcore.ConnectError(f"no addresses for {host}")
        for ip in addresses:
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                raise httpcore.ConnectTimeout(f"timed out connecting to {host}")
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=None if remaining == math.inf else remaining,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def _checked_addresses(self, host: str, port: int, deadline: float) -> list[IPAddress]:
        """All addresses for `host`, each checked; one refused address refuses the host."""
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                with anyio.fail_at(deadline):
                    addresses = await _resolve(host, port)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"timed out resolving {host}") from exc
            except OSError as exc:
                raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        unique = list(dict.fromkeys(addresses))
        for ip in unique:
            check_address(ip, host=host)
        return unique

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedDestination("unix sockets are not allowed for outbound fetches")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@contextlib.contextmanager
def _map_errors() -> Iterator[None]:
    """Turn httpcore errors into httpx ones; BlockedDestination and others pass untouched."""
    try:
        yield
    except Exception as exc:
        for source, target in _ERROR_MAP:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _map_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        closer = getattr(self._stream, "aclose", None)
        if closer is not None:
            await closer()


class _GuardedTransport(httpx.AsyncBaseTransport):
    """httpx transport over an httpcore pool with the guarded backend (public APIs only)."""

    def __init__(
        self,
        *,
        allow: frozenset[tuple[str, int]],
        verify: ssl.SSLContext | bool,
        limits: httpx.Limits,
        only_allowed: bool,
    ) -> None:
        self._allow = allow
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(allow, only_allowed),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url, self._allow)
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("the guarded transport needs an async request body")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _map_errors():
            response = await self._pool.handle_async_request(core_request)
        if not isinstance(response.stream, AsyncIterable):
            raise TypeError("httpcore returned a sync stream from an async pool")
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
