"""The hottest routes (`POST /v2/posts`) called straight from the middleware stack.

Under load, Starlette's exception middleware, FastAPI's exit-stack middleware, the router's
scan and `request_response`'s two wrappers cost about a tenth of the event loop's time on
`POST /v2/posts` (py-spy under bench part 1) for a route that needs none of them. This
middleware answers those routes itself, with the app's own exception handlers looked up the
way Starlette looks them up, so answers and errors are the same. Anything else (another
method, a trailing slash, a root path) goes on to the router as before.

It must sit inside the request-context and security-header middlewares, so that request ids,
metrics, access logs, the contract's 500 and the headers apply unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class FastRoutes:
    def __init__(
        self, app: ASGIApp, routes: Iterable[Route], handlers: Mapping[Any, Handler]
    ) -> None:
        self.app = app
        self._routes = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }
        self._handlers = handlers
        """The app's exception handlers, read at each error (they are installed after this)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self._routes.get((scope["method"], scope["path"]))
            if scope["type"] == "http" and not scope.get("root_path")
            else None
        )
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        request = Request(scope, receive, send)
        try:
            response: Response = await route.endpoint(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            handled = handler(request, exc)
            response = await handled if inspect.isawaitable(handled) else handled
            # Reused exception instances would accumulate tracebacks across requests.
            exc.__traceback__ = None
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Handler | None:
        """Starlette's lookup: an HTTPException's status first, then the nearest class. The
        catch-all (`Exception`, 500) is left to the outer middlewares, as the router does."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status != 500 and status in self._handlers:
            return self._handlers[status]
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in self._handlers:
                return self._handlers[cls]
        return None
