"""The webhook's aiohttp session keeps the SSRF guard of the httpx client (net/session.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from masthead.net.guard import BlockedDestination
from masthead.net.session import ANSWER_BYTES, GuardedSession, connection_failed


def answer(status_line: bytes, extra: bytes = b"", body: bytes = b"{}") -> bytes:
    return (
        b"HTTP/1.1 "
        + status_line
        + b"\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )


class Listener:
    """A loopback TCP server that records each request's head and answers with `reply`
    (None: it reads the request and hangs up without a word)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                await reader.readexactly(int(line.split(b":")[1]))
        if self.reply is not None:
            writer.write(self.reply)
            await writer.drain()
        writer.close()

    async def __aenter__(self) -> Listener:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def allow(self) -> frozenset[tuple[str, int]]:
        return frozenset({("127.0.0.1", self.port)})


@pytest.fixture
async def session_for() -> AsyncIterator[Callable[..., GuardedSession]]:
    sessions: list[GuardedSession] = []

    def make(allow: frozenset[tuple[str, int]] = frozenset(), **kw: object) -> GuardedSession:
        session = GuardedSession(allow=allow, timeout=5.0, **kw)  # type: ignore[arg-type]
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.aclose()


async def test_an_allowed_receiver_gets_the_post_with_its_path_and_query_intact(
    session_for: Callable[..., GuardedSession],
) -> None:
    async with Listener(answer(b"200 OK")) as rx:
        url = f"http://127.0.0.1:{rx.port}/hooks/a%20b?token=%2F1&x=y"
        reply = await session_for(rx.allow).post(url, b'{"a":1}', {"X-Test": "1"})
    assert reply.status == 200
    assert rx.requests[0].startswith(b"POST /hooks/a%20b?token=%2F1&x=y HTTP/1.1")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::1]", "10.0.0.5", "169.254.169.254", "[::ffff:127.0.0.1]", "0.0.0.0"],
)
async def test_a_private_literal_address_is_refused_before_connecting(
    host: str, session_for: Callable[..., GuardedSession]
) -> None:
    async with Listener(answer(b"200 OK")) as rx:
        with pytest.raises(BlockedDestination):
            await session_for().post(f"http://{host}:{rx.port}/hook", b"{}", {})
    assert rx.connections == 0


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1"])
async def test_legacy_numeric_spellings_of_loopback_are_refused(
    host: str, session_for: Callable[..., GuardedSession], dns: dict[str, list[str]]
) -> None:
    async with Listener(answer(b"200 OK")) as rx:
        with pytest.raises((BlockedDestination, aiohttp.ClientError)):
            await session_for().post(f"http://{host}:{rx.port}/hook", b"{}", {})
    assert rx.connections == 0


async def test_a_name_that_resolves_to_loopback_is_refused_without_connecting(
    session_for: Callable[..., GuardedSession], dns: dict[str, list[str]]
) -> None:
    dns["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
    async with Listener(answer(b"200 OK")) as rx:
        with pytest.raises(BlockedDestination, match=r"127\.0\.0\.1"):
            await session_for().post(f"http://rebind.test:{rx.port}/hook", b"{}", {})
    assert rx.connections == 0


async def test_only_allowed_refuses_other_hosts_without_resolving_them(
    session_for: Callable[..., GuardedSession], dns: dict[str, list[str]]
) -> None:
    with pytest.raises(BlockedDestination, match="MASTHEAD_FETCH_ALLOW"):
        await session_for(only_allowed=True).post("http://public.test/hook", b"{}", {})
    with pytest.raises(BlockedDestination, match="MASTHEAD_FETCH_ALLOW"):
        await session_for(only_allowed=True).post("http://93.184.216.34/hook", b"{}", {})


async def test_a_redirect_is_returned_not_followed(
    session_for: Callable[..., GuardedSession],
) -> None:
    redirect = answer(b"302 Found", b"Location: http://169.254.169.254/latest\r\n")
    async with Listener(redirect) as rx:
        reply = await session_for(rx.allow).post(f"http://127.0.0.1:{rx.port}/", b"{}", {})
    assert reply.status == 302
    assert reply.headers["location"] == "http://169.254.169.254/latest"
    assert rx.connections == 1


async def test_a_long_answer_is_cut_at_the_cap(session_for: Callable[..., GuardedSession]) -> None:
    async with Listener(answer(b"200 OK", body=b"x" * (ANSWER_BYTES * 3))) as rx:
        reply = await session_for(rx.allow).post(f"http://127.0.0.1:{rx.port}/", b"{}", {})
    assert len(reply.body) == ANSWER_BYTES


async def test_a_refused_connection_certainly_did_not_deliver(
    session_for: Callable[..., GuardedSession],
) -> None:
    async with Listener(answer(b"200 OK")) as rx:
        port, allow = rx.port, rx.allow
    with pytest.raises(aiohttp.ClientError) as caught:
        await session_for(allow).post(f"http://127.0.0.1:{port}/", b"{}", {})
    assert connection_failed(caught.value)


async def test_a_hang_up_after_the_request_may_have_delivered(
    session_for: Callable[..., GuardedSession],
) -> None:
    async with Listener(None) as rx:
        with pytest.raises(aiohttp.ClientError) as caught:
            await session_for(rx.allow).post(f"http://127.0.0.1:{rx.port}/", b"{}", {})
    assert not connection_failed(caught.value)
