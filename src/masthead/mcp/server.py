"""The MCP server: lists the registered tools and runs them, shaping results and refusals
as the contract says (section 11, "Tool results and errors")."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

import jsonschema_rs
import mcp_types as types
import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import x_mcp_header_map

from masthead.domain.errors import ValidationFailed
from masthead.domain.inputs import MAX_JSON_DEPTH, json_too_deep
from masthead.mcp.backend import Call
from masthead.mcp.registry import Tool
from masthead.mcp.tools import TOOLS
from masthead.services import api_keys
from masthead.services.errors import ApiError
from masthead.store.outages import DATABASE_ERRORS, UNAVAILABLE_MESSAGE, is_unavailable

log = logging.getLogger(__name__)

Resolver = Callable[[ServerRequestContext[Any, Any]], Call]
"""Who is calling, as the transport authenticated them."""
ListTools = Callable[
    [ServerRequestContext[Any, Any], types.PaginatedRequestParams | None],
    Awaitable[types.ListToolsResult],
]
CallTool = Callable[
    [ServerRequestContext[Any, Any], types.CallToolRequestParams],
    Awaitable[types.CallToolResult],
]

UNEXPECTED = "An unknown error occurred."
INSTRUCTIONS = (
    "Masthead publishes and schedules social media posts (the Blotato API). Start with "
    "blotato_list_accounts, then blotato_create_post, then blotato_get_post_status."
)
VALIDATORS = {name: Draft202012Validator(t.input_schema) for name, t in TOOLS.items()}
"""The reference check, which names the first argument that misses the schema."""
FAST_CHECKS = {
    name: jsonschema_rs.Draft202012Validator(t.input_schema, validate_formats=False)
    for name, t in TOOLS.items()
}
"""The same schemas compiled in Rust: tells valid arguments in about a microsecond where the
reference check takes a quarter of a millisecond (bench/mcp.py); formats are annotations
for both, as the 2020-12 draft says."""


def describe(tool: Tool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.input_schema,
        annotations=types.ToolAnnotations(
            read_only_hint=tool.read_only,
            destructive_hint=tool.destructive,
            idempotent_hint=tool.read_only,
            open_world_hint=tool.name == "blotato_create_post",
        ),
    )


LISTING = types.ListToolsResult(tools=[describe(t) for t in TOOLS.values()])


def result(value: Any) -> types.CallToolResult:
    """Compact JSON as text; an array is wrapped as `{"result": [...]}` in structuredContent."""
    return types.CallToolResult(
        content=[types.TextContent(text=orjson.dumps(value).decode())],
        structured_content={"result": value} if isinstance(value, list) else value,
    )


def refusal(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def schema_problem(name: str, arguments: dict[str, Any]) -> str | None:
    """The first way the arguments miss the tool's input schema, naming the argument."""
    if FAST_CHECKS[name].is_valid(arguments):
        return None
    error = best_match(VALIDATORS[name].iter_errors(arguments))
    if error is None:
        return None
    where = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    ).lstrip(".")
    return f"{where}: {error.message}" if where else error.message


async def run(tool: Tool, call: Call, arguments: dict[str, Any]) -> types.CallToolResult:
    if json_too_deep(arguments):  # what REST refuses as a body; nothing could store it
        return refusal(f"Arguments are nested more than {MAX_JSON_DEPTH} levels deep")
    problem = schema_problem(tool.name, arguments)
    if problem is not None:
        return refusal(problem)
    try:
        await api_keys.admit(call.backend.limiter, call.user.id, tool.route)
        return result(await tool.handler(call, arguments))
    except ApiError as exc:
        return refusal(exc.message)
    except ValidationFailed as exc:
        return refusal(exc.message)
    except Exception as exc:
        if isinstance(exc, DATABASE_ERRORS) and is_unavailable(exc):
            log.warning("database unavailable in tool %s: %s", tool.name, exc)
            return refusal(UNAVAILABLE_MESSAGE)
        log.exception("tool %s failed", tool.name)
        return refusal(UNEXPECTED)


def build(resolve: Resolver) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return LISTING

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = TOOLS.get(params.name)
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        return await run(tool, resolve(ctx), params.arguments or {})

    return serving(list_tools, call_tool)


def serving(list_tools: ListTools, call_tool: CallTool) -> Server[Any]:
    """Masthead's MCP server with the given handlers (local tools, or a forwarding proxy)."""
    server: Server[Any] = Server(
        "masthead",
        version=version("masthead"),
        instructions=INSTRUCTIONS,
        # Without it, the newest protocol's header check runs the whole tools/list (and
        # serialises every schema) on each call: a third of a call's CPU (bench/mcp.py).
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    # The SDK's default OpenTelemetry span per message: Masthead exports no traces, and the
    # span costs every call (py-spy under bench/mcp.py).
    server.middleware = []
    return server


HEADER_SCHEMAS = {
    name: t.input_schema for name, t in TOOLS.items() if x_mcp_header_map(t.input_schema)
}
"""The tools that declare `x-mcp-header` parameters: only their calls have `Mcp-Param-*`
headers for the SDK to check against the arguments."""


def input_schema(name: str) -> dict[str, Any] | None:
    """What the SDK checks a call's `Mcp-Param-*` headers against; None (nothing to check)
    for a tool that declares none, which spares a walk of its whole schema on every call."""
    return HEADER_SCHEMAS.get(name)
