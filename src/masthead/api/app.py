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


def install(app: FastAPI) -> FastRoutes:
    """The API's routes and error shapes on `app`; returns the routes the app answers ahead
    of its middleware stack (see api/fast_routes.py)."""
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

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return FastRoutes(posts.FAST_ROUTES, app.exception_handlers)
