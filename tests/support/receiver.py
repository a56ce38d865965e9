"""A local webhook receiver that records every delivery and can answer with faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Delivery:
    received_at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Fault:
    """One scripted answer: a status (and headers), after an optional delay; for requests
    to `path` only when one is given."""

    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    body: bytes = b""


def verify(secret: str, header: str, body: bytes) -> bool:
    """Checks an `X-Masthead-Signature` the way docs/webhooks.md tells receivers to."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """Runs in its own thread and event loop, so both in-process apps and server
    subprocesses can deliver to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.deliveries: list[Delivery] = []
        self.script: deque[Fault] = deque()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def events_url(self) -> str:
        """Where tests subscribe event webhooks, apart from the webhook target's `/hook`."""
        return f"http://127.0.0.1:{self.port}/events"

    def events(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == "/events"]

    async def wait_for_events(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return self.events()

    @property
    def allow(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        fault = next((f for f in self.script if f.path in (None, request.url.path)), None)
        if fault is None:
            fault = Fault()
        else:
            self.script.remove(fault)  # an equal fault is an interchangeable one
        self.deliveries.append(Delivery(time.time(), request.url.path, dict(request.headers), body))
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return Response(fault.body, status_code=fault.status, headers=fault.headers)

    def start(self) -> None:
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("webhook receiver did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Polls, so that the event loop (and an in-process dispatcher) keeps running."""
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return list(self.deliveries)
