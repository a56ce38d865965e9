"""A fixed-rate, open-loop HTTP/1.1 load generator (what wrk2 does; Debian has no wrk2).

Request i is due at start + i/rate whether or not earlier ones have been answered, and its
latency is measured from that due time, not from when a connection became free: a server that
stalls is charged for the whole queue it causes (no "coordinated omission"). Requests go out
over a fixed pool of keep-alive connections; when all are busy, the wait counts as latency.

It is plain asyncio protocols on uvloop rather than httpx: httpx spends a few hundred
microseconds of client CPU per request, which at a few thousand requests a second would make
the client, not the server, the thing measured. `send_lag` (actual send - due time) is
reported so that a client that cannot keep up is visible rather than silently blamed on the
server.

Run as `python -m bench.openloop --port P --path /v2/posts --rate R --duration S
--header 'name: value' --body-file F`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import uvloop

from bench.stats import summary_ms


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))

    def request(self, payload: bytes) -> asyncio.Future[int]:
        """Send `payload`; the future resolves to the response status."""
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self._waiter

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        head_end = self._buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self._buffer[:head_end]).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        end = head_end + 4 + length
        if len(self._buffer) < end:
            return
        del self._buffer[:end]
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(int(head[0].split(" ", 2)[1]))


@dataclass
class _Results:
    latencies: list[float] = field(default_factory=list)
    send_lags: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


async def run(
    *,
    port: int,
    path: str,
    headers: list[str],
    body: bytes,
    rate: float,
    duration: float,
    connections: int,
    timeout: float,
) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", *headers]
    payload = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    opened: list[_Connection] = []
    for _ in range(connections):
        _, proto = await loop.create_connection(_Connection, "127.0.0.1", port)
        opened.append(proto)
        idle.put_nowait(proto)
    results = _Results()

    async def one(due: float) -> None:
        conn = await idle.get()
        results.send_lags.append(loop.time() - due)
        try:
            status = await asyncio.wait_for(conn.request(payload), timeout)
        except (TimeoutError, ConnectionError) as exc:
            results.errors[type(exc).__name__] += 1
            conn.closed = True
            if conn.transport is not None:
                conn.transport.close()
            _, conn = await loop.create_connection(_Connection, "127.0.0.1", port)
            opened.append(conn)
        else:
            results.latencies.append(loop.time() - due)
            results.statuses[status] += 1
        idle.put_nowait(conn)

    total = int(rate * duration)
    tasks: list[asyncio.Task[None]] = []
    start = loop.time() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    sent_for = loop.time() - start
    await asyncio.wait(tasks, timeout=timeout + 5)
    for conn in opened:
        if conn.transport is not None:
            conn.transport.close()
    elapsed = loop.time() - start
    return {
        "target_rate": rate,
        "duration_s": round(sent_for, 3),
        "requests": total,
        "completed": len(results.latencies),
        "achieved_rate": round(len(results.latencies) / elapsed, 1) if elapsed else 0.0,
        "statuses": {str(code): n for code, n in sorted(results.statuses.items())},
        "errors": dict(results.errors),
        "latency": summary_ms(results.latencies),
        "send_lag": summary_ms(results.send_lags),
        "connections": connections,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    started = time.time()
    result = uvloop.run(
        run(
            port=args.port,
            path=args.path,
            headers=args.header,
            body=args.body_file.read_bytes(),
            rate=args.rate,
            duration=args.duration,
            connections=args.connections,
            timeout=args.timeout,
        )
    )
    result["started_at"] = started
    print(json.dumps(result))


if __name__ == "__main__":
    main()
