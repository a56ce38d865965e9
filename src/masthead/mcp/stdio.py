"""`masthead mcp`: the same tools over stdio, for agents that start a local command.

It forwards every call to a running Masthead's `/mcp` with the caller's key, rather than
opening the database itself. The embedded mode (SQLite) is one process by design: its worker
is woken in-process when a post is stored, so a second process writing to the same file would
store posts that wait for the next timer instead of publishing at once, and would keep its own
rate-limit counts. Forwarding keeps one process serving one database, on either engine, and
makes the tools, limits and texts exactly those of the server (docs/mcp.md)."""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from masthead.mcp.server import serving

API_KEY_HEADER = "blotato-api-key"
TIMEOUT = 60.0
"""Generous: a tool that fetches media waits for the download."""


class Unreachable(Exception):
    """The server refused the key or could not be reached; the message says which."""


async def check_key(server_url: str, key: str) -> None:
    """One REST call before serving, so a wrong key or URL fails at start with the server's
    own words, not on the agent's first tool call."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.get(f"{server_url}/v2/users/me", headers={API_KEY_HEADER: key})
    except httpx.HTTPError as exc:
        raise Unreachable(f"cannot reach Masthead at {server_url}: {exc}") from None
    if answer.status_code != 200:
        try:
            message = answer.json()["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {answer.status_code}"
        raise Unreachable(f"{server_url} refused the key: {message}")


def proxy(upstream: Client) -> Server[Any]:
    """A server whose tools are the upstream's, listed and called through as they are."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return await upstream.list_tools()

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await upstream.call_tool(params.name, params.arguments)

    return serving(list_tools, call_tool)


async def serve(server_url: str, key: str) -> None:
    server_url = server_url.rstrip("/")
    await check_key(server_url, key)
    http = httpx2.AsyncClient(headers={API_KEY_HEADER: key}, timeout=TIMEOUT)
    transport = streamable_http_client(f"{server_url}/mcp", http_client=http)
    async with http, Client(transport) as upstream:
        local = proxy(upstream)
        async with stdio_server() as (read, write):
            await local.run(read, write, local.create_initialization_options())
