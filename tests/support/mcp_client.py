"""The MCP SDK's own client against a running Masthead, and readers for tool results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import orjson
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult


@asynccontextmanager
async def connected(
    base_url: str,
    headers: dict[str, str],
    mode: str = "auto",
    statuses: list[int] | None = None,
) -> AsyncIterator[Client]:
    """Streamable HTTP to `<base_url>/mcp`, sending `headers` on every request. `mode`:
    "auto" (the SDK's newest protocol) or "legacy" (the 2025 initialize handshake); the HTTP
    status of every answer is appended to `statuses`."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    http = httpx2.AsyncClient(headers=headers, timeout=30, event_hooks={"response": [record]})
    transport = streamable_http_client(f"{base_url}/mcp", http_client=http)
    async with http, Client(transport, mode=mode) as client:
        yield client


def payload(result: CallToolResult) -> Any:
    """A successful call's result, checked to be the same in its text and structured forms."""
    assert not result.is_error, result.content
    [content] = result.content
    value = orjson.loads(content.text)
    structured = {"result": value} if isinstance(value, list) else value
    assert result.structured_content == structured
    return value


def refusal(result: CallToolResult) -> str:
    """A refused call's text (the REST `message`)."""
    assert result.is_error, result
    [content] = result.content
    text: str = content.text
    return text


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    return payload(await client.call_tool(tool, arguments))
