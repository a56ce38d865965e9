"""Every tool, one module per service; importing this package registers them all."""

from masthead.mcp.registry import TOOLS
from masthead.mcp.tools import accounts, analytics, comments, media, posts, schedules, slots

__all__ = ["TOOLS", "accounts", "analytics", "comments", "media", "posts", "schedules", "slots"]
