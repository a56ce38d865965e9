"""Request ids, access logs and request metrics as one small ASGI middleware (a pure ASGI
middleware costs a fraction of Starlette's BaseHTTPMiddleware on the hot path)."""

from __future__ import annotations

import logging
import os
import time
from contextvars import Token
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masthead import logs
from masthead.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("masthead.access")
fault_log = logging.getLogger(__name__)
REQUEST_ID_HEADER = b"x-request-id"
SERVER_FAULT = orjson.dumps({"code": 9999, "message": "An unknown error occurred."})
"""The contract's 500 body: never a stack trace."""


_INSTRUMENTS: dict[tuple[str, str, int], tuple[Any, Any]] = {}
"""The request counter's and latency histogram's children by (method, route, status): the
same children `labels()` returns, without its checks and lock on every request (2-3 µs)."""


def _instruments(method: str, route: str, status: int) -> tuple[Any, Any]:
    key = (method, route, status)
    found = _INSTRUMENTS.get(key)
    if found is None:
        found = _INSTRUMENTS[key] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_LATENCY.labels(method, route),
        )
    return found


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


@dataclass(slots=True)
class RequestRecord:
    """One request's id, start time and logging context, from `begin` to `finish`."""

    rid: str
    started: float
    token: Token[str | None]

    @property
    def header(self) -> tuple[bytes, bytes]:
        return (REQUEST_ID_HEADER, self.rid.encode())


def begin(scope: Scope) -> RequestRecord:
    """The caller's X-Request-Id (up to 64 characters) or a new one, set for the logs."""
    incoming = next((v for k, v in scope["headers"] if k == REQUEST_ID_HEADER), None)
    # 128 random bits as 32 hex digits, a fifth of uuid4().hex's cost.
    rid = incoming.decode("latin-1")[:64] if incoming else os.urandom(16).hex()
    return RequestRecord(rid, time.perf_counter(), logs.request_id.set(rid))


def finish(record: RequestRecord, scope: Scope, status: int) -> None:
    """Count and time the answer, log it, and leave the request's logging context."""
    elapsed = time.perf_counter() - record.started
    route = _route_template(scope)
    method = scope["method"]
    requests, latency = _instruments(method, route, status)
    requests.inc()
    latency.observe(elapsed)
    if log.isEnabledFor(logging.INFO):
        log.info(
            "%s %s %d",
            method,
            scope["path"],
            status,
            extra={
                "client": scope["client"][0] if scope.get("client") else None,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "route": route,
            },
        )
    logs.request_id.reset(record.token)


async def answer_fault(scope: Scope, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    """A bug: log it, and answer the contract's 500 (no trace) with the given headers. Said
    here rather than left to Starlette's outermost handler, which would re-raise into the
    server and log the traceback a second time (and, under a test client, raise into the
    test)."""
    fault_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(SERVER_FAULT)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": SERVER_FAULT})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = begin(scope)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), record.header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if response_started:
                raise
            await answer_fault(scope, send_with_id, [])
        finally:
            finish(record, scope, status)
