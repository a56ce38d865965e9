"""Access tokens that end: refreshed before they do, or once after the platform refuses one.

Shared by the publishers whose refresh tokens are reusable (LinkedIn, Pinterest). Two workers
may refresh the same account at once; the credential store's compare-and-swap keeps the first
answer stored and hands it to the second, so no worker stores a token older than another's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from masthead.platforms.base import AccountDisconnected, CredentialStore, Permanent, PublishContext
from masthead.platforms.oauth import expires_within
from masthead.timeutil import utcnow

Refresh = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Trades the stored credentials (with a refresh token) for new ones; raises PublishError."""


class TokenKeeper:
    """The account's current access token for one platform."""

    def __init__(self, platform: str, refresh: Refresh | None, margin: timedelta) -> None:
        self._platform = platform
        self._refresh = refresh
        self._margin = margin
        self._locks: dict[int, asyncio.Lock] = {}

    @staticmethod
    def store(ctx: PublishContext) -> CredentialStore:
        if ctx.credentials is None:
            raise Permanent("Publishing needs the account's credential store")
        return ctx.credentials

    async def token(self, ctx: PublishContext, *, stale: str | None = None) -> str:
        """The stored token, refreshed first when it is about to end or when the platform
        just refused `stale`."""
        store = self.store(ctx)
        current = await store.load()
        if not current.get("access_token"):
            raise AccountDisconnected(
                f"The {self._platform} account has no access token: reconnect the account"
            )
        if stale is None and not expires_within(current, self._margin, utcnow()):
            return str(current["access_token"])
        async with self._locks.setdefault(ctx.account.id, asyncio.Lock()):
            current = await store.load()
            token = str(current.get("access_token") or "")
            if stale is not None and token != stale:
                return token  # another call refreshed while this one waited
            if stale is None and not expires_within(current, self._margin, utcnow()):
                return token
            if not current.get("refresh_token"):
                raise AccountDisconnected(
                    f"The {self._platform} access token has expired and there is no refresh "
                    "token: reconnect the account"
                )
            if self._refresh is None:
                raise Permanent(
                    f"The {self._platform} token has expired and this server has no OAuth app "
                    "configured to refresh it"
                )
            new = await self._refresh(current)
            if await store.save(new, replaces=current):
                return str(new["access_token"])
            return str((await store.load()).get("access_token") or "")
