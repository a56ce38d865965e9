"""JSON bodies read by hand, so that the domain parser names every bad field itself."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from masthead.api.errors import ApiError
from masthead.domain.inputs import MAX_JSON_DEPTH, ascii_int, json_text_too_deep

M = TypeVar("M", bound=BaseModel)

MAX_BODY = 2 * 1024 * 1024
"""A post is text and URLs; media travels by URL or through /v2/media."""


async def read_body(request: Request, max_bytes: int = MAX_BODY) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `max_bytes`: by its
    declared Content-Length, or while streaming (never buffered whole first)."""
    declared = ascii_int(request.headers.get("content-length", ""))
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, f"Body is larger than {max_bytes} bytes")


async def read_json(
    request: Request, *, allow_empty: bool = False, max_bytes: int = MAX_BODY
) -> Any:
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        if allow_empty:
            return None
        raise ApiError(400, "Body cannot be empty: send a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"Body is not valid JSON: {exc}") from exc
    if json_text_too_deep(raw, data):
        raise ApiError(400, f"Body is nested more than {MAX_JSON_DEPTH} levels deep")
    return data


async def read_model(request: Request, model: type[M]) -> M:
    """A JSON body validated against `model`, read inside the route (after authentication):
    a FastAPI body parameter is parsed before the key is checked, so a request without a key
    but with a bad body would be answered 422 instead of 401, and bad JSON 422 instead of 400.
    Document the body with `schemas.body_schema(model)`."""
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
