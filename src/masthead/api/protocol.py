"""The HTTP protocol `masthead serve` runs: uvicorn's httptools protocol, with request bodies
passed on without uvicorn's two copies, and a response's head sent with its body."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class BodyProtocol(HttpToolsProtocol):
    """uvicorn gathers each body chunk into a bytearray, and copies that out as new bytes for
    the app: two copies of every byte of an upload (a presigned PUT of 1 GiB), a third of the
    event loop's CPU. A chunk that finds nothing waiting is kept as the bytes it is (`bytes()`
    of a bytes, in `receive`, is the same object); a second chunk before the app has taken the
    first goes the usual way, into a bytearray, so small chunks are never joined over and over.
    Flow control is uvicorn's: reading pauses above HIGH_WATER_LIMIT until the app receives."""

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if isinstance(cycle.body, bytes):
            cycle.body = bytearray(cycle.body)
        elif not cycle.body and not cycle.response_complete and not self.parser.should_upgrade():
            cycle.body = body  # type: ignore[assignment]
            if len(body) > HIGH_WATER_LIMIT:
                self.flow.pause_reading()
            cycle.message_event.set()
            return
        super().on_body(body)

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:
            self.cycle.transport = HeadWithBody(self.transport, self.loop)


class HeadWithBody(asyncio.Transport):
    """The transport a request's response cycle writes to. uvicorn writes a response's status
    line and headers, then its body, as two writes: two send() calls per answer, a twentieth
    of the event loop's CPU on `POST /v2/posts` (py-spy under wrk). Here the first write waits
    for the next one and both go out as one. A response whose body comes later (a stream, or
    none at all) gets its head at the loop's next turn, so nothing is held back longer than
    that, and the bytes sent are the same, in the same order."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None
        self._first = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._first:
            self._first = False
            self._head = bytes(data)
            self._loop.call_soon(self._flush)
            return
        head, self._head = self._head, None
        self._transport.write(data if head is None else head + data)

    def _flush(self) -> None:
        head, self._head = self._head, None
        if head is not None and not self._transport.is_closing():
            self._transport.write(head)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._flush()
        self._transport.close()
