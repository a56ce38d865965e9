"""BodyProtocol: uvicorn's httptools protocol, handing request bodies to the app uncopied and
sending a response's head with its body."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from masthead.api.protocol import BodyProtocol

HEAD = b"PUT /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: %d\r\n\r\n"


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent = bytearray()
        self.writes: list[bytes] = []
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent += data
        self.writes.append(bytes(data))

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


class _Spy(BodyProtocol):
    """Keeps what httptools handed over, to compare with what the app was given."""

    given: list[bytes]

    def on_body(self, body: bytes) -> None:
        self.given.append(body)
        super().on_body(body)


async def _connected(
    body_ready: asyncio.Event | None = None, body: bytes = b""
) -> tuple[_Spy, list[bytes]]:
    """A connection to an app that reads the whole request, then answers 200 with `body`
    (once `body_ready` is set, if given)."""
    received: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            received.append(message["body"])
            more = message["more_body"]
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if body_ready is not None:
            await body_ready.wait()
        await send({"type": "http.response.body", "body": body})

    config = uvicorn.Config(app, http=_Spy, lifespan="off", log_config=None, access_log=False)
    protocol = _Spy(config=config, server_state=ServerState(), app_state={})
    protocol.given = []
    protocol.connection_made(_Transport())
    return protocol, received


def _writes(protocol: BodyProtocol) -> list[bytes]:
    transport = protocol.transport
    assert isinstance(transport, _Transport)
    return transport.writes


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_each_chunk_reaches_the_app_as_the_bytes_httptools_made() -> None:
    protocol, received = await _connected()
    parts = [os.urandom(100_000) for _ in range(3)]

    protocol.data_received(HEAD % sum(map(len, parts)))
    for part in parts:
        protocol.data_received(part)
        await _settle()

    assert b"".join(received) == b"".join(parts)
    assert [body for body in received if body] == protocol.given
    assert all(sent is given for sent, given in zip(received, protocol.given, strict=False))


async def test_chunks_that_arrive_before_the_app_takes_them_arrive_joined_in_order() -> None:
    protocol, received = await _connected()
    parts = [os.urandom(size) for size in (10, 70_000, 5, 1_000)]

    protocol.data_received(HEAD % sum(map(len, parts)))
    for part in parts:
        protocol.data_received(part)
    await _settle()

    assert b"".join(received) == b"".join(parts)
    assert len(protocol.given) == len(parts)


async def test_a_response_goes_out_in_one_write() -> None:
    protocol, _ = await _connected(body=b'{"status":"scheduled"}')

    protocol.data_received(HEAD % 0)
    await _settle()

    [sent] = _writes(protocol)
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n")
    assert sent.endswith(b'\r\n\r\n{"status":"scheduled"}')


async def test_a_head_whose_body_comes_later_is_sent_at_the_next_turn() -> None:
    body_ready = asyncio.Event()
    protocol, _ = await _connected(body_ready, b"later")

    protocol.data_received(HEAD % 0)
    await _settle()
    [head] = _writes(protocol)
    body_ready.set()
    await _settle()

    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert _writes(protocol) == [head, b"later"]
