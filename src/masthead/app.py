"""The composition root: builds the process's parts (database, publishers, dispatcher, media
library) and assembles the ASGI app from the doors, `api/`, `web/` and `mcp/`, which never
import each other. Adding a door or a middleware is one line in `create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from masthead import __version__
from masthead.api import app as api
from masthead.api.fast_routes import FastRoutes
from masthead.api.middleware import RequestContextMiddleware
from masthead.api.ratelimit import parse_limits, rate_limiter
from masthead.config import Settings
from masthead.context import AppContext
from masthead.dispatch.analytics import Collector
from masthead.dispatch.comment_polls import CommentPoller
from masthead.dispatch.comments import CommentSender
from masthead.dispatch.deliveries import Deliverer
from masthead.dispatch.engine import Dispatcher
from masthead.dispatch.port import DispatchPort
from masthead.headers import SecurityHeadersMiddleware
from masthead.heap import settle
from masthead.mcp import http as mcp
from masthead.media.library import MediaLibrary
from masthead.platforms.registry import AVAILABLE, build_publishers
from masthead.security import Secrets
from masthead.services import maintenance
from masthead.services.accounts import AccountDirectory
from masthead.store.database import Database
from masthead.web import app as web


class MastheadApp(FastAPI):
    """FastAPI, with the API's hottest routes answered ahead of the middleware stack."""

    fast_routes: FastRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast_routes
        route = fast.match(scope) if fast is not None else None
        if fast is None or route is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await fast.serve(route, scope, receive, send)


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    app = MastheadApp(
        title="Masthead",
        version=__version__,
        description=api.DESCRIPTION,
        lifespan=running(settings, run_worker=run_worker, transports=transports),
        docs_url=None,  # the web UI serves /docs from vendored files
        redoc_url=None,
        # Masthead exports no traces, metrics or logs through OpenTelemetry (its metrics are
        # Prometheus'); FastAPI's check for a configured provider cost every request 2%.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.fast_routes = api.install(app)
    web.install(app)
    mcp.install(app, settings)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def running(
    settings: Settings,
    *,
    run_worker: bool,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The process's lifetime: its parts built at start-up, closed in reverse at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.sqlalchemy_url)
        await db.start()
        secrets = Secrets(settings.secret_keys)
        ctx = AppContext(
            settings=settings,
            db=db,
            secrets=secrets,
            limiter=rate_limiter(db, parse_limits(settings.api_rate_limits)),
            port=DispatchPort(cross_process=not db.is_sqlite),
            accounts=AccountDirectory(db, AVAILABLE),
            media=MediaLibrary(db, settings),
            publishers=build_publishers(settings, transports),
        )
        if run_worker:
            ctx.dispatcher = Dispatcher(db, ctx.publishers, settings, secrets, media=ctx.media)
            ctx.port.subscribe(ctx.dispatcher.wake)
            await ctx.dispatcher.start()
        deliverer = None
        collector = None
        commenter = None
        poller = None
        if ctx.dispatcher is not None:
            deliverer = Deliverer(db, settings, secrets, publishing=ctx.dispatcher.in_flight)
            await deliverer.start()
            if settings.analytics_enabled:
                collector = Collector(
                    db, ctx.publishers, settings, secrets, publishing=ctx.dispatcher.in_flight
                )
                await collector.start()
            commenter = CommentSender(db, ctx.publishers, settings, secrets)
            await commenter.start()
            poller = CommentPoller(
                db, ctx.publishers, settings, secrets, publishing=ctx.dispatcher.in_flight
            )
            await poller.start()
        housekeeping = asyncio.create_task(
            maintenance.run_forever(db, settings.comments_retention_days), name="maintenance"
        )
        app.state.ctx = ctx
        settle()
        try:
            yield
        finally:
            ctx.draining = True
            housekeeping.cancel()
            await asyncio.gather(housekeeping, return_exceptions=True)
            if ctx.dispatcher is not None:
                await ctx.dispatcher.stop()
            if deliverer is not None:
                await deliverer.stop()
            if collector is not None:
                await collector.stop()
            if commenter is not None:
                await commenter.stop()
            if poller is not None:
                await poller.stop()
            for publisher in ctx.publishers.values():
                await publisher.aclose()
            await ctx.media.aclose()
            await db.close()

    return lifespan
