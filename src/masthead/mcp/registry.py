"""The tool table. A tool is a few lines beside its service: a name, a description written for
models, an input schema, its REST route (whose rate-limit bucket it shares) and a handler that
calls the service. `tools/` registers them; `server.py` serves whatever is here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from masthead.mcp.backend import Call

Handler = Callable[[Call, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    route: str
    """`METHOD /v2/path` of the REST route it maps to: the same per-key rate limit applies."""
    input_schema: dict[str, Any]
    handler: Handler
    read_only: bool = False
    destructive: bool = False


TOOLS: dict[str, Tool] = {}


def tool(
    name: str,
    route: str,
    description: str,
    input_schema: dict[str, Any],
    *,
    read_only: bool = False,
    destructive: bool = False,
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in TOOLS:
            raise ValueError(f"tool {name} is registered twice")
        TOOLS[name] = Tool(
            name,
            " ".join(description.split()),
            route,
            input_schema,
            handler,
            read_only,
            destructive,
        )
        return handler

    return register
