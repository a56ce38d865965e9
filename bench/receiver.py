"""A zero-latency webhook receiver: answers 200 the moment a request is complete and records
when each delivery arrived and its X-Masthead-Delivery id (or, for an event webhook's delivery,
`event:` and its X-Masthead-Event-Id).

Raw asyncio + httptools on uvloop rather than an ASGI app, so that the receiver is never the
bottleneck of the dispatch measurement. It runs in its own process (and CPU where possible) so
it does not share an event loop with the dispatcher it measures. On SIGTERM it writes
`{"deliveries": [[unix_time, delivery_id], ...], "connections": N}` to --out and exits (N, the
connections the sender opened, shows whether its keep-alive pool is reused or churned).

Run as `python -m bench.receiver --port P --out FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import httptools
import uvloop

EVENT_PREFIX = "event:"
"""Recorded before an event id, to tell event deliveries from posts' deliveries."""
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@dataclass
class _Record:
    deliveries: list[tuple[float, str]] = field(default_factory=list)
    connections: int = 0


class _Connection(asyncio.Protocol):
    def __init__(self, record: _Record) -> None:
        self._record = record
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._delivery = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._record.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._delivery = ""

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"x-masthead-delivery":
            self._delivery = value.decode("latin-1")
        elif name == b"x-masthead-event-id":  # an event webhook's delivery
            self._delivery = EVENT_PREFIX + value.decode("latin-1")

    def on_message_complete(self) -> None:
        self._record.deliveries.append((time.time(), self._delivery))
        if self._transport is not None:
            self._transport.write(RESPONSE)


async def serve(port: int, out: Path) -> None:
    record = _Record()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(lambda: _Connection(record), "127.0.0.1", port, backlog=1024)
    try:
        await stop.wait()
    finally:
        server.close()
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record)))
        tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
