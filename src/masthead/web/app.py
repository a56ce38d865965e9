"""Wires the web UI into the ASGI app: its pages, its static files, and how its refusals look."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from masthead.web.render import STATIC_DIR, page
from masthead.web.routes import (
    accounts,
    analytics,
    comments,
    docs,
    keys,
    posts,
    signin,
    slots,
    webhooks,
)
from masthead.web.session import CsrfRefused, NotFound, NotSignedIn


def install(app: FastAPI) -> None:
    for module in (signin, keys, accounts, posts, analytics, comments, slots, webhooks, docs):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(NotSignedIn)
    async def _sign_in_first(request: Request, _: NotSignedIn) -> Response:
        target = request.url.path if request.method == "GET" else "/posts"
        return RedirectResponse(f"/login?next={quote(target)}", 303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        message = "This form has expired or did not come from this site. Reload and try again."
        return page(request, "error.html", status=403, title="Refused", message=message)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _: NotFound) -> Response:
        return page(request, "error.html", status=404, title="Not found", message="Not found.")
