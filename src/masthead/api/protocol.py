"""The HTTP protocol `masthead serve` runs: uvicorn's httptools protocol, with request bodies
passed on without uvicorn's two copies."""

from __future__ import annotations

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
