"""Refusals in the words of the contract: every door (REST, MCP) shows the same `message`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from masthead.domain.inputs import ascii_int


class ApiError(Exception):
    """A refused request: the REST status and the compat `message` (plus any extra fields).
    REST answers it as `{"message": ...}` with `status`; MCP as a tool error with `message`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = status
        self.message = message
        self.headers = headers
        self.extra = extra
        super().__init__(message)


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Rate limit exceeded, retry in {retry_after} seconds",
        headers={"Retry-After": str(retry_after)},
        statusCode=429,
    )


def _location(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    path = ""
    for part in parts:
        path += f"[{part}]" if ascii_int(part) is not None else (f".{part}" if path else part)
    return path


def invalid_fields(problems: Sequence[Any]) -> ApiError:
    """A 422 from pydantic's error list, each error named by its compat path."""
    errors = [
        {"path": _location(tuple(e.get("loc", ()))), "message": str(e.get("msg", "invalid"))}
        for e in problems
    ]
    first = errors[0] if errors else {"path": "", "message": "invalid request"}
    message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    return ApiError(422, message, errors=errors)
