"""The hottest routes (`POST /v2/posts`), answered ahead of the whole middleware stack.

Under load, FastAPI's and Starlette's layers, the router's scan, and the request-context and
security-header middlewares each wrapping `send` cost about a sixth of the server's CPU on
`POST /v2/posts` (120 against 141 us per request under wrk, with all of them bypassed) for a
route that needs none of their machinery. The app hands these routes to `serve`, which does
what those layers do, in one place: the request id and its logging context, metrics and the
access log (`middleware.begin` / `finish`), the security headers (`headers.secured`), the
app's own exception handlers looked up the way Starlette looks them up, and the contract's
500. Answers and errors are the same. Anything else (another method, a trailing slash, a
root path) goes through the stack as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from masthead.api import middleware
from masthead.headers import secured

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class FastRoutes:
    def __init__(self, routes: Iterable[Route], handlers: Mapping[Any, Handler]) -> None:
        self._routes = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }
        self._handlers = handlers
        """The app's exception handlers, read at each error (they may be installed later)."""

    def match(self, scope: Scope) -> Route | None:
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        return self._routes.get((scope["method"], scope["path"]))

    async def serve(self, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
        record = middleware.begin(scope)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        status = 500
        answering = False
        try:
            response = await self._answer(route, Request(scope, receive, send))
            status = response.status_code
            response.raw_headers = secured([*response.raw_headers, record.header])
            answering = True
            await response(scope, receive, send)
        except Exception:
            if answering:  # too late for another answer
                raise
            await middleware.answer_fault(scope, send, secured([record.header]))
        finally:
            middleware.finish(record, scope, status)

    async def _answer(self, route: Route, request: Request) -> Response:
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
        return response

    def _handler_for(self, exc: Exception) -> Handler | None:
        """Starlette's lookup: an HTTPException's status first, then the nearest class. The
        catch-all (`Exception`, 500) is left to `serve`, as the router leaves it to the outer
        middlewares."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status != 500 and status in self._handlers:
            return self._handlers[status]
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in self._handlers:
                return self._handlers[cls]
        return None
