"""The caller, their accounts, subaccounts and Pinterest boards, as the contract shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from masthead.domain import inputs
from masthead.domain.events import account_view
from masthead.platforms.registry import RULES
from masthead.security import Secrets
from masthead.services.errors import ApiError
from masthead.store import accounts, users
from masthead.store.database import Database

BOARDS_SHOWN = 250


def required_fields(platform: str) -> list[str]:
    """The target fields a post to `platform` must carry, from its rules."""
    rules = RULES.get(platform)
    return [rule.name for rule in rules.fields if rule.required] if rules else []


async def me(db: Database, secrets: Secrets, user: users.UserRow) -> dict[str, Any]:
    secret = await db.read(lambda conn: users.webhook_secret(conn, secrets, user.id))
    return {
        "id": user.id,
        "subscriptionStatus": "active",
        "apiKey": None,
        "email": user.email,
        "name": user.name,
        "webhookSigningSecret": secret,
    }


async def listing(db: Database, user_id: str, platform: str | None) -> list[dict[str, Any]]:
    """GET /v2/users/me/accounts (`items`)."""
    rows = await db.read(lambda conn: accounts.list_accounts(conn, user_id, platform or None))
    return [account_view(row) for row in rows]


async def listing_with_subaccounts(
    db: Database, user_id: str, platform: str | None
) -> list[dict[str, Any]]:
    """The accounts with their pages, organisations, boards and playlists, and the target
    fields each platform requires: everything an agent needs before it posts."""

    def load(conn: Connection) -> list[tuple[accounts.AccountRow, list[accounts.SubaccountRow]]]:
        rows = accounts.list_accounts(conn, user_id, platform or None)
        return [(row, accounts.list_subaccounts(conn, row.id)) for row in rows]

    return [
        {
            **account_view(row),
            "subaccounts": [{"id": sub.external_id, "name": sub.name} for sub in subs],
            "requiredFields": required_fields(row.platform),
        }
        for row, subs in await db.read(load)
    ]


async def owned(db: Database, user_id: str, account_id: str) -> accounts.AccountRow:
    """The caller's account by its id; any other id (unknown, another user's) is a 404."""
    key = inputs.row_id(account_id)
    account = (
        None
        if key is None
        else await db.read(lambda conn: accounts.get_account(conn, user_id, key))
    )
    if account is None:
        raise ApiError(404, "Account not found")
    return account


async def subaccounts(db: Database, user_id: str, account_id: str) -> dict[str, Any]:
    account = await owned(db, user_id, account_id)
    subs = await db.read(lambda conn: accounts.list_subaccounts(conn, account.id))
    items = [
        {"id": s.external_id, "accountId": str(account.id), "name": s.name}
        for s in subs
        if s.kind != "board"
    ]
    return {"items": items}


async def boards(db: Database, user_id: str, account_id: str) -> list[dict[str, str]]:
    account = await owned(db, user_id, account_id)
    if account.platform != "pinterest":
        raise ApiError(422, f"accountId: account {account.id} is not a pinterest account")
    rows = await db.read(lambda conn: accounts.list_subaccounts(conn, account.id, "board"))
    return [{"id": b.external_id, "name": b.name} for b in rows[:BOARDS_SHOWN]]
