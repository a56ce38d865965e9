"""A guarded aiohttp session for the one high-volume outbound call: webhook deliveries.

httpx (net/client.py) serves every platform and media fetch. A burst of webhooks is
different: thousands of small POSTs a second to the user's own endpoint. Measured on loopback
against a receiver answering at once (docs/performance.md), httpx sent 285 requests/s at 64
in flight (its pool re-checks every idle socket on each request) and 1,379/s one at a time;
aiohttp sent 4,071/s at 64 in flight, at about a fifth of the CPU per request.

The guard is the same as the httpx client's: `check_url` before anything (literal addresses
included, which aiohttp never passes to a resolver), a resolver that resolves a name once and
checks every address, and connections made only to those checked addresses (aiohttp connects
to what the resolver returns). Redirects are never followed, proxies and cookies never used.
The URL that is requested is rebuilt from the host and port that `check_url` checked, so the
two URL parsers (httpx's and yarl's) cannot disagree about where a request goes.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from masthead.net import client
from masthead.net.guard import _is_allowed, check_address, check_url, not_listed

__all__ = ["GuardedSession", "Reply"]

ANSWER_BYTES = 64 * 1024
"""How much of an answer's body is kept: a webhook's answer is read for its status."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes


class _GuardedResolver(AbstractResolver):
    def __init__(self, allow: frozenset[tuple[str, int]], only_allowed: bool) -> None:
        self._allow = allow
        self._only_allowed = only_allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        allowed = _is_allowed(host, port, self._allow)
        if self._only_allowed and not allowed:
            raise not_listed(host, port)
        addresses = list(dict.fromkeys(await client._resolve(host, port)))
        if not allowed:
            for ip in addresses:
                check_address(ip, host=host)
        return [
            {
                "hostname": host,
                "host": str(ip),
                "port": port,
                "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for ip in addresses
        ]

    async def close(self) -> None:
        return None


@functools.lru_cache(maxsize=4096)
def _checked_url(url: str, allow: frozenset[tuple[str, int]], only_allowed: bool) -> URL:
    """Remembered per URL: it is pure (no DNS, which the resolver asks per connection), and
    parsing it again for every delivery to the same webhook was 6% of a worker's CPU in a
    burst (py-spy). Refusals raise, so only accepted URLs are kept."""
    target = check_url(url, allow)
    if only_allowed and not _is_allowed(target.host, target.port, allow):
        raise not_listed(target.host, target.port)
    parsed = httpx.URL(url)
    path, _, query = parsed.raw_path.decode("ascii").partition("?")
    host = f"[{target.host}]" if ":" in target.host else target.host
    return URL.build(
        scheme=target.scheme,
        host=host,
        port=target.port,
        path=path,
        query_string=query,
        encoded=True,
    )


class GuardedSession:
    """POSTs to user-supplied URLs, refusing private destinations. Created inside a running
    event loop's lifetime (aiohttp binds its connector to the loop at first use)."""

    def __init__(
        self,
        *,
        allow: frozenset[tuple[str, int]],
        timeout: float,
        only_allowed: bool = False,
        connections: int = 256,
    ) -> None:
        self._allow = allow
        self._only_allowed = only_allowed
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_GuardedResolver(self._allow, self._only_allowed),
                limit=self._connections,
                limit_per_host=self._connections,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=False,
            )
        return self._session

    def checked_url(self, url: str) -> URL:
        """The URL to request, rebuilt from what `check_url` checked; BlockedDestination
        when it must not be requested."""
        return _checked_url(url, self._allow, self._only_allowed)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """One POST. Raises BlockedDestination for a refused URL, `aiohttp.ClientError` or
        TimeoutError for a failed exchange (see `connection_failed`)."""
        target = self.checked_url(url)
        async with self._open().post(
            target, data=body, headers=headers, allow_redirects=False
        ) as response:
            answer = await response.content.read(ANSWER_BYTES)
            return Reply(response.status, response.reason or "", response.headers, answer)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def connection_failed(exc: BaseException) -> bool:
    """True when the request certainly never reached the server: no connection was made.
    Anything else may have been received and acted on."""
    return isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
