"""Connecting an account: ask the platform whose credentials these are, then store them.

One path for `masthead accounts add`, an OAuth callback and a reconnect, so that all three
store the same thing (store.accounts.save_connected keeps the accountId across reconnects).
"""

from __future__ import annotations

import orjson
from sqlalchemy.engine import Connection

from masthead.platforms.base import ConnectedAccount, Publisher
from masthead.security import Secrets
from masthead.store import accounts
from masthead.store.database import Database
from masthead.timeutil import utcnow


def _seal(secrets: Secrets, data: dict[str, object]) -> str | None:
    return secrets.encrypt(orjson.dumps(data).decode()) if data else None


async def store_connected(
    db: Database, secrets: Secrets, *, user_id: str, platform: str, connected: ConnectedAccount
) -> int:
    """Save what `Publisher.connect` found; returns the numeric accountId."""
    sealed = _seal(secrets, connected.credentials)
    subs = [
        (sub.kind, sub.external_id, sub.name, _seal(secrets, sub.credentials))
        for sub in connected.subaccounts
    ]

    def save(conn: Connection) -> int:
        return accounts.save_connected(
            conn,
            user_id=user_id,
            platform=platform,
            external_id=connected.external_id,
            username=connected.username,
            fullname=connected.fullname or connected.username,
            profile_image_url=connected.profile_image_url,
            credentials=sealed,
            subaccounts=subs,
            now=utcnow(),
        )

    return await db.write(save)


async def connect_account(
    db: Database,
    secrets: Secrets,
    publisher: Publisher,
    *,
    user_id: str,
    credentials: dict[str, object],
) -> tuple[int, ConnectedAccount]:
    """Raises `platforms.base.Permanent` (the platform's words) when it refuses them.
    Every account the grant reaches is stored (`Publisher.connect_all`); the first is
    returned, as a grant that reaches one account is the common case."""
    found = await publisher.connect_all(dict(credentials))
    ids = [
        await store_connected(
            db, secrets, user_id=user_id, platform=publisher.platform, connected=connected
        )
        for connected in found
    ]
    return ids[0], found[0]
