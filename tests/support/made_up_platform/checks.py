"""Run in a child process over a copy of the source that holds `mastodon.py` and its registry
line: prints, as one JSON line, what each list of platforms shows (test_new_platform.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from typer.testing import CliRunner

from masthead import cli
from masthead.app import create_app
from masthead.config import Settings
from masthead.domain.errors import ValidationFailed
from masthead.domain.validation import parse_post
from masthead.mcp.tools import TOOLS
from masthead.platforms.registry import BUDGETS, RULES, build_publishers
from masthead.services import account_cards
from masthead.web.routes import posts as web_posts


def enums(node: object, found: list[list[str]]) -> list[list[str]]:
    """Every `enum` list in a JSON schema."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            found.append(node["enum"])
        for value in node.values():
            enums(value, found)
    elif isinstance(node, list):
        for value in node:
            enums(value, found)
    return found


class NoAccounts:
    """The database of a user with no accounts yet: every connectable platform is a card."""

    async def read(self, load: object) -> tuple[list[Any], dict[int, str], dict[int, Any]]:
        return [], {}, {}


async def card_labels(settings: Settings) -> list[str]:
    publishers = build_publishers(settings)
    try:
        shown = await account_cards.cards(NoAccounts(), None, publishers, "1")  # type: ignore[arg-type]
    finally:
        for publisher in publishers.values():
            await publisher.aclose()
    return [card.label for card in shown]


def problem(text: str) -> str | None:
    post = {
        "accountId": "1",
        "content": {"text": text, "mediaUrls": [], "platform": "mastodon"},
        "target": {"targetType": "mastodon"},
    }
    try:
        parse_post(post, rules=RULES)
    except ValidationFailed as exc:
        return exc.message
    return None


def main(data_dir: str) -> None:
    settings = Settings(data_dir=data_dir, secret_key="test-secret-key-0123456789")
    cli_help = CliRunner().invoke(cli.app, ["accounts", "add", "--help"], env={"COLUMNS": "300"})
    budget = BUDGETS["mastodon"].account
    seen = {
        "openapi": enums(create_app(settings, run_worker=False).openapi(), []),
        "mcp": enums([tool.input_schema for tool in TOOLS.values()], []),
        "valid": problem("hello"),
        "too_long": problem("x" * 501),
        "cli": cli_help.output,
        "web_filters": list(vars(web_posts)["TARGET_TYPES"]),  # the posts page's filter
        "cards": asyncio.run(card_labels(settings)),
        "budget": None if budget is None else [budget.limit, budget.seconds],
    }
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
