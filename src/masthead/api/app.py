"""The ASGI application: routes, error shapes, middleware, and the process's lifetime."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from masthead.api import errors
from masthead.api.context import AppContext
from masthead.api.middleware import RequestContextMiddleware
from masthead.api.openapi import build as build_openapi
from masthead.api.ratelimit import parse_limits, rate_limiter
from masthead.api.routes import accounts, media, oauth, ops, posts, schedules, slots, webhooks
from masthead.config import Settings
from masthead.dispatch.deliveries import Deliverer
from masthead.dispatch.engine import Dispatcher
from masthead.dispatch.port import DispatchPort
from masthead.headers import SecurityHeadersMiddleware
from masthead.mcp.http import install as install_mcp
from masthead.media.library import MediaLibrary
from masthead.platforms.registry import AVAILABLE, build_publishers
from masthead.security import Secrets
from masthead.services import maintenance
from masthead.services.accounts import AccountDirectory
from masthead.store.database import Database
from masthead.web.app import install as install_web

log = logging.getLogger(__name__)

DESCRIPTION = """Masthead speaks the Blotato v2 API: point any Blotato client at this server.
Authenticate every `/v2` request with the `blotato-api-key` header."""


def create_app(settings: Settings, *, run_worker: bool = True) -> FastAPI:
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
        )
        publishers = build_publishers(settings)
        ctx.publishers = publishers
        if run_worker:
            ctx.dispatcher = Dispatcher(db, publishers, settings, secrets, media=ctx.media)
            ctx.port.subscribe(ctx.dispatcher.wake)
            await ctx.dispatcher.start()
        deliverer = None
        if ctx.dispatcher is not None:
            deliverer = Deliverer(db, settings, secrets, publishing=ctx.dispatcher.in_flight)
            await deliverer.start()
        housekeeping = asyncio.create_task(maintenance.run_forever(db), name="maintenance")
        app.state.ctx = ctx
        # Everything built so far lives as long as the process: keep it out of the
        # collector's full passes, which otherwise walk it and stall requests.
        gc.freeze()
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
            for publisher in publishers.values():
                await publisher.aclose()
            await ctx.media.aclose()
            await db.close()

    app = FastAPI(
        title="Masthead",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # the web UI serves /docs from vendored files
        redoc_url=None,
    )
    errors.install(app)
    for module in (accounts, posts, schedules, slots, media, ops, oauth, webhooks):
        app.include_router(module.router)
    app.include_router(media.hosting)
    install_web(app)
    install_mcp(app, settings)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)

    for route in posts.FAST_ROUTES:
        app.router.routes.insert(0, route)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
