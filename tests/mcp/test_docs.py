"""docs/mcp.md lists every tool the server registers."""

from __future__ import annotations

from pathlib import Path

from masthead.mcp.tools import TOOLS

DOC = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"


def test_every_registered_tool_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in TOOLS if f"| `{name}` |" not in text]
    assert missing == []
