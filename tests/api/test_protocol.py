"""BodyProtocol: uvicorn's httptools protocol, handing request bodies to the app uncopied."""

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
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent += data

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


async def _connected() -> tuple[_Spy, list[bytes]]:
    received: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            received.append(message["body"])
            more = message["more_body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(app, http=_Spy, lifespan="off", log_config=None, access_log=False)
    protocol = _Spy(config=config, server_state=ServerState(), app_state={})
    protocol.given = []
    protocol.connection_made(_Transport())
    return protocol, received


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
