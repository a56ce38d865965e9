"""The Blotato-compatible API's part of the ASGI app: routes, error shapes, OpenAPI. The app
itself, and the parts the routes use, are built by the composition root (masthead/app.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from masthead.api import errors
from masthead.api.fast_routes import FastRoutes
from masthead.api.openapi import build as build_openapi
from masthead.api.routes import (
    accounts,
    analytics,
    comments,
    media,
    meta_webhooks,
    oauth,
    ops,
    posts,
    schedules,
    slots,
    webhooks,
)

DESCRIPTION = """Masthead speaks the Blotato v2 API: point any Blotato client at this server.
Authenticate every `/v2` request with the `blotato-api-key` header."""


def install(app: FastAPI) -> None:
    errors.install(app)
    for module in (
        accounts,
        posts,
        schedules,
        slots,
        media,
        ops,
        oauth,
        webhooks,
        analytics,
        comments,
        meta_webhooks,
    ):
        app.include_router(module.router)
    app.include_router(media.hosting)
    for route in posts.FAST_ROUTES:
        app.router.routes.insert(0, route)
    # Added before the app's own middlewares, so it runs inside them (innermost).
    app.add_middleware(FastRoutes, routes=posts.FAST_ROUTES, handlers=app.exception_handlers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
