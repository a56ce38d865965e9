"""`/mcp`: Streamable HTTP (stateless, plain JSON answers) on the API's own server and port.

The key is checked here, exactly as REST checks it, before any JSON-RPC is read: a missing or
wrong key is a 401 `{"message"}` and no tool runs. Every API process serves it the same way,
holding nothing between requests, so a load balancer may send each request anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from masthead.config import Settings
from masthead.mcp import oauth, server
from masthead.mcp.backend import Backend, Call
from masthead.services import api_keys, mcp_oauth
from masthead.services.agent_setup import MCP_PATH

API_KEY_HEADER = "blotato-api-key"
CALL_KEY = "masthead.mcp.call"
"""Where the authenticated call waits in the request's scope for the tool handler."""


def _json(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps({"message": message}),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def presented_key(headers: Headers) -> str | None:
    """The `blotato-api-key` header (the contract's), or `Authorization: Bearer` with a key or
    an OAuth access token."""
    key = headers.get(API_KEY_HEADER)
    if key:
        return key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def caller(ctx: ServerRequestContext[Any, Any]) -> Call:
    if ctx.request is None:
        raise RuntimeError("an MCP call over HTTP without its request")
    call: Call = ctx.request.scope["state"][CALL_KEY]
    return call


class Endpoint:
    """Origin, key and method checks in front of the SDK's session manager."""

    def __init__(self, manager: StreamableHTTPSessionManager, settings: Settings) -> None:
        self.manager = manager
        self.public_url = settings.public_url
        self.origin = origin_of(settings.public_url)
        self.oauth = settings.mcp_oauth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = await self._admit(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.manager.handle_request(scope, receive, send)

    async def _admit(self, scope: Scope) -> Response | None:
        app: Starlette = scope["app"]
        backend: Backend = app.state.ctx
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and origin != self.origin:
            return _json(403, f"Origin {origin} is not allowed")
        key = presented_key(headers)
        refused = {"WWW-Authenticate": oauth.challenge(self.public_url)} if self.oauth else None
        if not key:
            return _json(401, api_keys.MISSING_KEY, refused)
        if self.oauth and mcp_oauth.is_token(key):
            owner = await mcp_oauth.bearer_owner(backend.db, backend.secrets, key)
        else:
            owner = await api_keys.owner_of(backend.db, backend.secrets, backend.known_keys, key)
        if owner is None:
            return _json(401, api_keys.WRONG_KEY, refused)
        if scope["method"] != "POST":
            return _json(405, "Send MCP messages with POST", {"Allow": "POST"})
        scope.setdefault("state", {})[CALL_KEY] = Call(backend, owner.user)
        return None


def install(app: Starlette, settings: Settings) -> None:
    """Serves `/mcp` on `app` (and OAuth for it, if on); the SDK's manager lives as long as
    the app's lifespan."""
    manager = StreamableHTTPSessionManager(
        app=server.build(caller), json_response=True, stateless=True
    )
    app.router.routes.insert(0, Route(MCP_PATH, Endpoint(manager, settings)))
    if settings.mcp_oauth:
        oauth.install(app)
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(instance: Any) -> AsyncIterator[Any]:
        async with outer(instance) as state, running(manager):
            yield state

    app.router.lifespan_context = lifespan


@asynccontextmanager
async def running(manager: StreamableHTTPSessionManager) -> AsyncIterator[None]:
    """The manager's task group, entered and left in a task of its own: a lifespan may be
    entered in one task and left in another (test fixtures do), which a task group refuses."""
    ready, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with manager.run():
            ready.set()
            await stop.wait()

    task = asyncio.create_task(serve(), name="mcp-sessions")
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task
