"""Refreshed tokens, stored so that every worker process agrees on the current ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from masthead.platforms.base import AccountContext, AccountInfo, CredentialStore
from masthead.security import Secrets
from masthead.store import accounts
from masthead.store.database import Database
from masthead.timeutil import utcnow


class AccountCredentials(CredentialStore):
    """The CredentialStore of one account (see platforms/base.py for the compare-and-swap)."""

    def __init__(
        self,
        db: Database,
        secrets: Secrets,
        account_id: int,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._account_id = account_id
        self._on_change = on_change

    def _open(self, sealed: str | None) -> dict[str, Any]:
        if not sealed:
            return {}
        opened: dict[str, Any] = orjson.loads(self._secrets.decrypt(sealed))
        return opened

    async def load(self) -> dict[str, Any]:
        sealed = await self._db.read(lambda c: accounts.sealed_credentials(c, self._account_id))
        return self._open(sealed)

    async def save(self, new: dict[str, Any], *, replaces: dict[str, Any]) -> bool:
        sealed_new = self._secrets.encrypt(orjson.dumps(new).decode())

        def swap(conn: Connection) -> bool:
            if self._open(accounts.sealed_credentials(conn, self._account_id)) != replaces:
                return False
            accounts.replace_credentials(conn, self._account_id, sealed_new, utcnow())
            return True

        swapped = await self._db.write(swap)
        self._on_change()
        return swapped

    async def subaccount(self, kind: str, external_id: str) -> dict[str, Any] | None:
        sealed = await self._db.read(
            lambda c: accounts.sealed_subaccount_credentials(c, self._account_id, kind, external_id)
        )
        return None if sealed is None else self._open(sealed)


async def account_context(db: Database, secrets: Secrets, account_id: int) -> AccountContext | None:
    """What a call for an account outside publishing (comments) needs; None when the account
    is gone or disconnected."""
    row = await db.read(lambda c: accounts.account_by_id(c, account_id))
    if row is None or row.status != "connected":
        return None
    credentials: dict[str, Any] = (
        orjson.loads(secrets.decrypt(row.credentials)) if row.credentials else {}
    )
    info = AccountInfo(row.id, row.platform, row.external_id, row.username, credentials)
    return AccountContext(info, AccountCredentials(db, secrets, row.id))
