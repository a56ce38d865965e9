"""JSON bodies read by hand, so that the domain parser names every bad field itself."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from masthead.api.errors import ApiError

MAX_BODY = 2 * 1024 * 1024
"""A post is text and URLs; media travels by URL or through /v2/media."""


async def read_json(request: Request, *, allow_empty: bool = False) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"Body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        if allow_empty:
            return None
        raise ApiError(400, "Body cannot be empty: send a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"Body is not valid JSON: {exc}") from exc
