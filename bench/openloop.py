"""A fixed-rate, open-loop HTTP/1.1 load generator (what wrk2 does; Debian has no wrk2).

Request i is due at start + i/rate whether or not earlier ones have been answered, and its
latency is measured from that due time, not from when a connection became free: a server that
stalls is charged for the whole queue it causes (no "coordinated omission"). Requests go out
over a fixed pool of keep-alive connections; when all are busy, the wait counts as latency.

It is plain asyncio protocols on uvloop rather than httpx: httpx spends a few hundred
microseconds of client CPU per request, which at a few thousand requests a second would make
the client, not the server, the thing measured. `send_lag` (actual send - due time) is
reported so that a client that cannot keep up is visible rather than silently blamed on the
server. Times are read from `time.perf_counter()`, not `loop.time()`: uvloop's loop clock has
millisecond steps and is only refreshed once per loop iteration, which rounded every latency
to whole milliseconds.

The load is one request repeated (--path, --body-file) or a weighted mix of request kinds
(--mix FILE, see `parse_mix`), interleaved evenly so that every second of the run sees the
same proportions; latency and statuses are then also reported per kind.

Run as `python -m bench.openloop --port P --path /v2/posts --rate R --duration S
--header 'name: value' --body-file F` or `... --mix FILE`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import uvloop

from bench.procs import ROOT, BenchError, pinned, python_module
from bench.stats import summary_ms
from masthead import heap
from masthead.timeutil import iso

SCHEDULED_MARK = b"@SCHEDULED@"
"""In a template body, replaced per request by the ISO time `scheduledIn` seconds after the
request's due time, so that each post of a steady stream is due its own fixed lead later."""


@dataclass(frozen=True)
class Template:
    """One kind of request in a mix; `paths` are used in turn (ids of existing posts, say)."""

    kind: str
    weight: float
    method: str
    paths: tuple[str, ...]
    body: bytes
    scheduled_in: float | None = None


def parse_mix(spec: Any) -> list[Template]:
    """Templates from a mix's JSON: `{"requests": [{"kind", "weight", "method", "path" or
    "paths", "body" (a JSON value, optional), "scheduledIn" (seconds, optional)}]}`.
    Raises ValueError on anything a run would only trip over later."""
    if not isinstance(spec, dict) or not isinstance(spec.get("requests"), list):
        raise ValueError('a mix is an object with a "requests" list')
    templates: list[Template] = []
    for n, item in enumerate(spec["requests"]):
        if not isinstance(item, dict):
            raise ValueError(f"request {n}: not an object")
        kind = str(item.get("kind") or f"request-{n}")
        weight = item.get("weight", 1)
        if not isinstance(weight, int | float) or weight <= 0:
            raise ValueError(f"{kind}: weight must be a positive number")
        paths = item.get("paths", [item["path"]] if "path" in item else [])
        if not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise ValueError(f"{kind}: needs a path or a non-empty list of paths, each /...")
        body = json.dumps(item["body"], separators=(",", ":")).encode() if "body" in item else b""
        scheduled_in = item.get("scheduledIn")
        if scheduled_in is not None and SCHEDULED_MARK not in body:
            raise ValueError(f"{kind}: scheduledIn needs {SCHEDULED_MARK.decode()} in the body")
        templates.append(
            Template(
                kind=kind,
                weight=float(weight),
                method=str(item.get("method", "POST")).upper(),
                paths=tuple(paths),
                body=body,
                scheduled_in=float(scheduled_in) if scheduled_in is not None else None,
            )
        )
    if not templates:
        raise ValueError("a mix needs at least one request")
    if len({t.kind for t in templates}) != len(templates):
        raise ValueError("request kinds must be distinct")
    return templates


def weighted_schedule(weights: Sequence[float], count: int) -> list[int]:
    """`count` template indexes in proportion to `weights`, spread evenly (smooth weighted
    round robin, as nginx balances upstreams): any stretch of the run has the mix's shares,
    so a short run or its first seconds are not all of one kind."""
    total = sum(weights)
    current = [0.0] * len(weights)
    order: list[int] = []
    for _ in range(count):
        for i, weight in enumerate(weights):
            current[i] += weight
        best = max(range(len(weights)), key=current.__getitem__)
        current[best] -= total
        order.append(best)
    return order


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
    due_offsets: list[float] = field(default_factory=list)
    """Seconds from the start of the run to each answered request's due time."""
    send_lags: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


class _GcPauses:
    """This client's own garbage-collector pauses, as (start, length) in seconds from the run's
    start. While one runs no request goes out and no answer is read, so each pause lands on
    the server's latencies: they are reported beside them, per window."""

    def __init__(self, clock: Callable[[], float], start: float) -> None:
        self._clock = clock
        self._start = start
        self._began = 0.0
        self.pauses: list[tuple[float, float]] = []

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        now = self._clock()
        if phase == "start":
            self._began = now
        else:
            self.pauses.append((self._began - self._start, now - self._began))


class _Requests:
    """The bytes of each template's next request: headers built once, the path taken in
    turn, the scheduled time filled in when the template asks for one."""

    def __init__(self, templates: Sequence[Template], headers: Sequence[str]) -> None:
        self._templates = templates
        self._headers = "".join(f"{h}\r\n" for h in ["Host: 127.0.0.1", *headers])
        self._turn = [0] * len(templates)

    def next(self, index: int, due_wall: float) -> bytes:
        template = self._templates[index]
        path = template.paths[self._turn[index] % len(template.paths)]
        self._turn[index] += 1
        body = template.body
        if template.scheduled_in is not None:
            when = iso_at(due_wall + template.scheduled_in).encode()
            body = body.replace(SCHEDULED_MARK, when)
        head = f"{template.method} {path} HTTP/1.1\r\n{self._headers}"
        if body or template.method in ("POST", "PUT", "PATCH"):
            head += f"Content-Length: {len(body)}\r\n"
        return (head + "\r\n").encode() + body


def iso_at(unix: float) -> str:
    return iso(datetime.fromtimestamp(unix, UTC))


def _report(results: _Results) -> dict[str, Any]:
    return {
        "requests": len(results.send_lags),
        "completed": len(results.latencies),
        "statuses": {str(code): n for code, n in sorted(results.statuses.items())},
        "errors": dict(results.errors),
        "latency": summary_ms(results.latencies),
    }


async def run(
    *,
    port: int,
    templates: Sequence[Template],
    headers: list[str],
    rate: float,
    duration: float,
    connections: int,
    timeout: float,
    window: float = 10.0,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    requests = _Requests(templates, headers)
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    opened: list[_Connection] = []
    for _ in range(connections):
        _, proto = await loop.create_connection(_Connection, "127.0.0.1", port)
        opened.append(proto)
        idle.put_nowait(proto)
    results = _Results()
    by_kind = {t.kind: _Results() for t in templates}
    clock = time.perf_counter
    wall_offset = time.time() - clock()

    async def one(due: float, index: int) -> None:
        kind = by_kind[templates[index].kind]
        conn = await idle.get()
        lag = clock() - due
        results.send_lags.append(lag)
        kind.send_lags.append(lag)
        try:
            status = await asyncio.wait_for(
                conn.request(requests.next(index, due + wall_offset)), timeout
            )
        except (TimeoutError, ConnectionError) as exc:
            results.errors[type(exc).__name__] += 1
            kind.errors[type(exc).__name__] += 1
            conn.closed = True
            if conn.transport is not None:
                conn.transport.close()
            _, conn = await loop.create_connection(_Connection, "127.0.0.1", port)
            opened.append(conn)
        else:
            latency = clock() - due
            results.latencies.append(latency)
            results.due_offsets.append(due - start)
            results.statuses[status] += 1
            kind.latencies.append(latency)
            kind.statuses[status] += 1
        idle.put_nowait(conn)

    total = int(rate * duration)
    order = weighted_schedule([t.weight for t in templates], total)
    # Only the requests in flight are kept: every finished task kept to the end made the
    # client's full collections walk all of them, pauses that grew to seconds in a 10-minute
    # soak and were charged to the server (docs/performance.md, part 6).
    in_flight: set[asyncio.Task[None]] = set()
    start = clock() + 0.05
    pauses = _GcPauses(clock, start)
    gc.callbacks.append(pauses)
    try:
        for i, index in enumerate(order):
            due = start + i / rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(due, index))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        sent_for = clock() - start
        if in_flight:
            await asyncio.wait(in_flight, timeout=timeout + 5)
    finally:
        gc.callbacks.remove(pauses)
    for conn in opened:
        if conn.transport is not None:
            conn.transport.close()
    elapsed = clock() - start
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
        "kinds": {kind: _report(r) for kind, r in by_kind.items()} if len(templates) > 1 else {},
        "client_gc": pause_summary(pauses.pauses),
        "windows": windows(results.due_offsets, results.latencies, window, pauses.pauses),
    }


def windows(
    offsets: Sequence[float],
    latencies: Sequence[float],
    width: float,
    pauses: Sequence[tuple[float, float]] = (),
) -> list[dict[str, Any]]:
    """Latency per `width` seconds of the run (by due time): a long run's p99 alone cannot
    tell a server that slowly fell behind from one that stalled once, or when. Each window
    also carries the client's own collector pauses that began in it (`client_gc_ms`)."""
    buckets: dict[int, list[float]] = {}
    for offset, latency in zip(offsets, latencies, strict=True):
        buckets.setdefault(int(offset // width), []).append(latency)
    paused: dict[int, float] = {}
    for began, length in pauses:
        n = int(began // width)
        paused[n] = paused.get(n, 0.0) + length
    return [
        {
            "from_s": n * width,
            "requests": len(values),
            **summary_ms(values),
            "client_gc_ms": round(paused.get(n, 0.0) * 1000, 1),
        }
        for n, values in sorted(buckets.items())
    ]


def pause_summary(pauses: Sequence[tuple[float, float]]) -> dict[str, Any]:
    lengths = [length for _, length in pauses]
    return {
        "count": len(lengths),
        "total_ms": round(sum(lengths) * 1000, 1),
        "max_ms": round(max(lengths, default=0.0) * 1000, 1),
    }


def measure(
    port: int,
    *,
    api_key: str | None,
    rate: float,
    seconds: float,
    cpu: int | None,
    body_file: Path | None = None,
    path: str = "/v2/posts",
    mix_file: Path | None = None,
    connections: int = 64,
) -> dict[str, Any]:
    """Run this module as a child process (on `cpu`, off the server's) and return its JSON:
    one request repeated (`body_file` to `path`) or the mix in `mix_file`."""
    headers = ["--header", "Content-Type: application/json"]
    if api_key:
        headers += ["--header", f"blotato-api-key: {api_key}"]
    if mix_file is not None:
        load = ["--mix", str(mix_file)]
    elif body_file is not None:
        load = ["--path", path, "--body-file", str(body_file)]
    else:
        raise ValueError("measure() needs a body_file or a mix_file")
    cmd = python_module(
        "bench.openloop",
        "--port",
        str(port),
        *load,
        "--rate",
        f"{rate:.1f}",
        "--duration",
        f"{seconds:g}",
        "--connections",
        str(connections),
        *headers,
    )
    done = subprocess.run(
        pinned(cmd, cpu),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise BenchError(f"open-loop client failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[])
    load = parser.add_mutually_exclusive_group(required=True)
    load.add_argument("--body-file", type=Path, help="POST this body to --path")
    load.add_argument("--mix", type=Path, help="a JSON mix of request kinds (see parse_mix)")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    if args.mix is not None:
        templates = parse_mix(json.loads(args.mix.read_text()))
    else:
        body = args.body_file.read_bytes()
        templates = [Template("request", 1.0, "POST", (args.path,), body)]
    started = time.time()
    heap.settle()  # as the server does: its collections walk only what the run allocates
    result = uvloop.run(
        run(
            port=args.port,
            templates=templates,
            headers=args.header,
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
