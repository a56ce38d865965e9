"""The MCP door: Blotato's agent tools over Streamable HTTP (`/mcp`) and stdio, calling the
same services as the REST routes (so the same rules, limits and error texts)."""
