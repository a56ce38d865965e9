"""Pieces every platform fake shares: how it is served (a uvicorn server in a thread, or
in-process through `transport()`), recorded calls, faults, the OAuth app it accepts and the
settings that point Masthead at it."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from masthead.config import OAuthApp
from tests.fakes.openapi import Contract
from tests.support.receiver import free_port

FAULTS = frozenset({"rate_limit", "unavailable", "server_error_after", "drop_after", "slow_after"})
"""rate_limit: 429 with Retry-After, nothing done; unavailable: 503 before acting;
server_error_after: acts, then answers 500; drop_after: acts, then drops the connection
mid-answer (the client never learns the id); slow_after: acts, then answers only after
`slow_seconds` (long enough for a test to kill the client in between)."""


@dataclass
class Recorded:
    at: float
    method: str
    path: str
    operation: str
    body: bytes
    headers: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    """The query or form fields, for fakes of APIs that take their input there."""


@dataclass
class Token:
    """An access token a fake issued: whose, until when (Unix time), for which scopes."""

    user_id: str
    expires_at: float
    scopes: tuple[str, ...]


class IssuedTokens(dict[str, Token]):
    """The access tokens a fake issued, by token."""

    def issue(self, access: str, user_id: str, lifetime: float, scopes: tuple[str, ...]) -> None:
        self[access] = Token(user_id, time.time() + lifetime, scopes)

    def bearer(self, request: Request) -> Token | None:
        """The unexpired token the request's `Authorization: Bearer` names, or None."""
        token = self.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if token is None or token.expires_at <= time.time():
            return None
        return token

    def expire(self) -> None:
        """Every token ends now, before its announced end (platforms do that at times)."""
        for token in self.values():
            token.expires_at = 0.0


class Dropped(Response):
    """Starts an answer (`status`, then the first bytes `start` of its JSON body) and breaks
    the connection: the request was acted on, but the client never learns the answer."""

    def __init__(self, status: int = 201, start: bytes = b'{"id":') -> None:
        super().__init__()
        self.status_code = status
        self.start = start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"500")],
            }
        )
        await send({"type": "http.response.body", "body": self.start, "more_body": True})
        raise ConnectionAbortedError("the fake dropped the connection after acting")


class InProcess(httpx.ASGITransport):
    """A fake served in the test's event loop. A connection it drops after acting (`Dropped`)
    reaches the client as over a socket: a protocol error, with the answer lost."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionAbortedError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc


class FakeServer:
    """A Starlette app on 127.0.0.1 in a daemon thread, or in-process, with recorded calls and
    queued faults. A fake either overrides `app()` or hands its routes to `use()`."""

    name = "fake"
    authorize_path = "/oauth/authorize"
    """The fake's consent page, where Masthead sends the browser to connect an account."""
    client_id = "fake-client"
    client_secret = "fake-secret"
    """The OAuth app the fake accepts (a fake takes its platform's own in its constructor)."""
    fault_names: frozenset[str] = FAULTS
    """What `fail_next` accepts (a fake with faults of its own names its set)."""
    first_id = 1
    """Where the fake's ids start (a fake whose platform's ids look long starts there)."""
    contract: Contract | None = None
    """The published OpenAPI the fake holds requests and answers to, read before it serves."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Recorded] = []
        self.invalid: list[str] = []
        self.faults: dict[str, deque[str | None]] = defaultdict(deque)
        self.rate_limit_seconds = 2
        self.slow_seconds = 5.0
        self._lock = threading.RLock()
        self._ids = itertools.count(self.first_id)
        self._app: Starlette | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}{self.authorize_path}"

    def oauth_app(self) -> OAuthApp:
        """The OAuth app registered with the fake, for a publisher built directly."""
        return OAuthApp(self.client_id, self.client_secret, self.authorize_url, self.url)

    def settings(self, prefix: str) -> dict[str, object]:
        """The settings that point Masthead's `prefix` platform at the fake: its API, its
        consent page and the OAuth app it accepts."""
        return {
            f"{prefix}_api_url": self.url,
            f"{prefix}_authorize_url": self.authorize_url,
            f"{prefix}_client_id": self.client_id,
            f"{prefix}_client_secret": self.client_secret,
        }

    def use(self, app: Starlette) -> None:
        self._app = app

    def app(self) -> Starlette:
        if self._app is None:
            raise NotImplementedError(f"{self.name} has no routes")
        return self._app

    def transport(self) -> InProcess:
        """The fake without a socket, for a publisher's `transport=` (no `start()` needed).
        httpx's timeouts do not apply in-process: tests of hanging answers keep the socket."""
        return InProcess(app=self.app())

    def start(self) -> None:
        if self.contract is not None:
            self.contract.load()
        config = uvicorn.Config(
            self.app(), host="127.0.0.1", port=self.port, log_level="critical", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)

    @contextmanager
    def running(self, refused: str = "requests the platform's contract refuses") -> Iterator[Self]:
        """Serving for one test, stopped after it; the test then fails on any request the
        fake found invalid (`refused` says against what)."""
        self.start()
        yield self
        self.stop()
        assert self.invalid == [], refused

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def fail_next(self, operation: str, fault: str, *, after: int = 0) -> None:
        """Answer the `after`+1-th next call of `operation` with `fault`."""
        assert fault in self.fault_names, fault
        self.faults[operation].extend([None] * after + [fault])

    def next_fault(self, operation: str) -> str | None:
        queue = self.faults[operation]
        return queue.popleft() if queue else None

    def refused(
        self, fault: str | None, *, limited: dict[str, Any], unavailable: dict[str, Any]
    ) -> Response | None:
        """The answer to a fault that refuses before acting, with the platform's error body:
        rate_limit, 429 `limited` with Retry-After `rate_limit_seconds`; unavailable, 503
        `unavailable` with Retry-After 1. None for any other fault."""
        if fault == "rate_limit":
            retry = {"retry-after": str(self.rate_limit_seconds)}
            return JSONResponse(limited, status_code=429, headers=retry)
        if fault == "unavailable":
            return JSONResponse(unavailable, status_code=503, headers={"retry-after": "1"})
        return None

    def record(
        self,
        request: Request,
        operation: str,
        body: bytes = b"",
        params: dict[str, Any] | None = None,
    ) -> None:
        self.requests.append(
            Recorded(
                time.time(),
                request.method,
                request.url.path,
                operation,
                body,
                {k.lower(): v for k, v in request.headers.items()},
                params or {},
            )
        )

    def calls(self, operation: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation == operation]
