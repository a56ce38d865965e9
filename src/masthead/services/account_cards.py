"""What /settings/accounts shows: one card per platform this server can publish to, with the
user's accounts on it. Credentials are opened only to read a token's expiry; nothing secret
leaves this module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy.engine import Connection

from masthead.platforms.base import Publisher, PublishError, Retryable
from masthead.platforms.registry import SPECS
from masthead.platforms.spec import Connect
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store import accounts
from masthead.store.database import Database
from masthead.timeutil import utcnow

EXPIRING_WITHIN = timedelta(days=3)
"""A token that cannot be refreshed and ends sooner than this is flagged for a reconnect."""


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    username: str
    fullname: str
    status: str
    """connected | token expiring | disconnected"""
    reason: str | None
    subaccounts: list[accounts.SubaccountRow]


@dataclass(frozen=True, slots=True)
class PlatformCard:
    platform: str
    label: str
    connect: Connect
    """oauth | credentials (Bluesky's handle and app password) | none (webhook)"""
    configured: bool
    doc: str
    """Its file name (without .md) in docs/platforms/"""
    setting: str
    accounts: list[AccountView]


def _expiring(secrets: Secrets, sealed: str | None, now: datetime) -> bool:
    if not sealed:
        return False
    try:
        creds = orjson.loads(secrets.decrypt(sealed))
    except ValueError:
        return False
    expires = creds.get("expires_at") if isinstance(creds, dict) else None
    if not expires or creds.get("refresh_token"):
        return False
    return bool(datetime.fromisoformat(str(expires).replace("Z", "+00:00")) < now + EXPIRING_WITHIN)


def _status(secrets: Secrets, row: accounts.AccountRow, now: datetime) -> str:
    if row.status != "connected":
        return "disconnected"
    return "token expiring" if _expiring(secrets, row.credentials, now) else "connected"


async def cards(
    db: Database, secrets: Secrets, publishers: Mapping[str, Publisher], user_id: str
) -> list[PlatformCard]:
    def load(
        conn: Connection,
    ) -> tuple[
        list[accounts.AccountRow], dict[int, str | None], dict[int, list[accounts.SubaccountRow]]
    ]:
        rows = accounts.list_accounts(conn, user_id)
        subs = {row.id: accounts.list_subaccounts(conn, row.id) for row in rows}
        return rows, accounts.status_reasons(conn, user_id), subs

    rows, reasons, subs = await db.read(load)
    now = utcnow()
    result = []
    for platform, publisher in sorted(publishers.items(), key=lambda p: SPECS[p[0]].label):
        spec = SPECS[platform]
        mine = [row for row in rows if row.platform == platform]
        if spec.connect == "none" and not mine:
            continue
        result.append(
            PlatformCard(
                platform=platform,
                label=spec.label,
                connect=spec.connect,
                configured=spec.connect != "oauth" or publisher.oauth is not None,
                doc=spec.doc_page,
                setting=spec.client_id_setting,
                accounts=[
                    AccountView(
                        id=row.id,
                        username=row.username,
                        fullname=row.fullname,
                        status=_status(secrets, row, now),
                        reason=reasons.get(row.id),
                        subaccounts=subs[row.id],
                    )
                    for row in mine
                ],
            )
        )
    return result


async def connect_bluesky(
    db: Database,
    secrets: Secrets,
    publishers: Mapping[str, Publisher],
    user_id: str,
    handle: str,
    app_password: str,
) -> str | None:
    """Connect with a handle and app password; returns the reason when it did not work."""
    publisher = publishers.get("bluesky")
    if publisher is None:
        return "Bluesky is not available on this server"
    credentials: dict[str, object] = {"handle": handle.strip(), "app_password": app_password}
    try:
        await connect_account(db, secrets, publisher, user_id=user_id, credentials=credentials)
    except Retryable as exc:
        return f"Bluesky could not be reached: {exc.message}"
    except PublishError as exc:
        return f"Bluesky refused the connection: {exc.message}"
    return None
