"""The caller and their accounts (services/account_reads.py)."""

from __future__ import annotations

from typing import Any

from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import numeric_id, obj, platform
from masthead.services import account_reads

ACCOUNT_ID = numeric_id("An account id from blotato_list_accounts.")


@tool(
    "blotato_get_user",
    "GET /v2/users/me",
    """Who you are acting as: the Masthead user that owns this API key (id, email, name, and
    the secret that signs webhook-target deliveries). Changes nothing.""",
    obj({}),
    read_only=True,
)
async def get_user(call: Call, args: dict[str, Any]) -> Any:
    return await account_reads.me(call.backend.db, call.backend.secrets, call.user)


@tool(
    "blotato_list_accounts",
    "GET /v2/users/me/accounts",
    """Lists the social accounts connected to Masthead, each with its id (the accountId every
    posting tool needs), platform, name, username, its subaccounts (Facebook pages, LinkedIn
    organisations, Pinterest boards, YouTube playlists: use their ids as pageId or boardId) and
    requiredFields, the extra arguments blotato_create_post needs for that platform. Call this
    first. Changes nothing.""",
    obj({"platform": platform("Only accounts of this platform.", webhook=True)}),
    read_only=True,
)
async def list_accounts(call: Call, args: dict[str, Any]) -> Any:
    return await account_reads.listing_with_subaccounts(
        call.backend.db, call.user.id, args.get("platform")
    )


@tool(
    "blotato_list_subaccounts",
    "GET /v2/users/me/accounts/{accountId}/subaccounts",
    """Lists the Facebook pages or LinkedIn organisations of one account (their ids go in
    pageId). blotato_list_accounts already includes them; use this to refresh one account.
    Changes nothing.""",
    obj({"accountId": ACCOUNT_ID}, "accountId"),
    read_only=True,
)
async def list_subaccounts(call: Call, args: dict[str, Any]) -> Any:
    return await account_reads.subaccounts(call.backend.db, call.user.id, args["accountId"])


@tool(
    "blotato_list_pinterest_boards",
    "GET /v2/social/pinterest/boards",
    """Lists the boards of a Pinterest account (id and name); a pin needs one as boardId.
    Changes nothing.""",
    obj(
        {"accountId": numeric_id("A pinterest account id from blotato_list_accounts.")}, "accountId"
    ),
    read_only=True,
)
async def list_pinterest_boards(call: Call, args: dict[str, Any]) -> Any:
    return await account_reads.boards(call.backend.db, call.user.id, args["accountId"])
