"""What a user pastes into an AI agent to connect it to Masthead over MCP: the URL, a JSON
`mcpServers` block for clients that speak HTTP, and one for clients that start a command."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

MCP_PATH = "/mcp"
KEY_PLACEHOLDER = "YOUR_MASTHEAD_API_KEY"


@dataclass(frozen=True, slots=True)
class AgentSetup:
    url: str
    http_config: str
    stdio_config: str
    command: str


def _pretty(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def setup(public_url: str, key: str | None = None) -> AgentSetup:
    base = public_url.rstrip("/")
    url = base + MCP_PATH
    secret = key or KEY_PLACEHOLDER
    http_config = {
        "mcpServers": {
            "masthead": {"type": "http", "url": url, "headers": {"blotato-api-key": secret}}
        }
    }
    stdio_config = {
        "mcpServers": {
            "masthead": {
                "command": "masthead",
                "args": ["mcp", "--server", base],
                "env": {"MASTHEAD_API_KEY": secret},
            }
        }
    }
    return AgentSetup(
        url=url,
        http_config=_pretty(http_config),
        stdio_config=_pretty(stdio_config),
        command=f"MASTHEAD_API_KEY={secret} masthead mcp --server {base}",
    )
