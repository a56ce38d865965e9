"""Error shapes of the contract: `{"message": ...}` always, 422 with the field path, 503 with
`Retry-After` while the database is unavailable, a 500 that never leaks a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from masthead.domain.errors import ValidationFailed
from masthead.services.errors import ApiError as ApiError
from masthead.services.errors import invalid_fields
from masthead.store.outages import (
    DATABASE_ERRORS,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    is_unavailable,
)

log = logging.getLogger(__name__)

UNAVAILABLE = {"message": UNAVAILABLE_MESSAGE}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def validation_response(exc: ValidationFailed) -> Response:
    return json_response(
        422,
        {
            "message": exc.message,
            "errors": [{"path": e.path, "message": e.message} for e in exc.errors],
        },
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return json_response(exc.status, {"message": exc.message, **exc.extra}, exc.headers)

    @app.exception_handler(ValidationFailed)
    async def _invalid(_: Request, exc: ValidationFailed) -> Response:
        return validation_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> Response:
        refused = invalid_fields(exc.errors())
        return json_response(422, {"message": refused.message, **refused.extra})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found"
        return json_response(exc.status_code, {"message": message}, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return json_response(500, {"code": 9999, "message": "An unknown error occurred."})

    async def _database(request: Request, exc: Exception) -> Response:
        if not is_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return json_response(503, UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_SECONDS)})

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database)
