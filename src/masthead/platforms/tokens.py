"""Access tokens that end: refreshed before they do (or once after a 401), stored by
compare-and-swap so that two workers never both spend a single-use refresh token.

TikTok rotates refresh tokens (the old one stops working once used); Google, LinkedIn and
Pinterest keep them. All go through `TokenKeeper`, which only needs the platform's `Refresher`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import httpx

from masthead.platforms.base import (
    AccountDisconnected,
    AccountScope,
    CredentialStore,
    Permanent,
    Retryable,
)
from masthead.platforms.oauth import (
    OAuthCredentials,
    credentials_from_token_response,
    expires_within,
)
from masthead.timeutil import utcnow

REFRESH_RACE_SECONDS = 5.0
"""How long to wait for another worker's refresh to be stored after the platform says the
refresh token we hold was already spent."""


class RefreshTokenSpent(Exception):
    """The platform refused the refresh token; another worker may have just rotated it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


Reason = Callable[[httpx.Response], tuple[str, str]]
"""(code, message) of a platform's refusal of a token request."""


def rotated_credentials(
    platform: str, response: httpx.Response, reason: Reason, current: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """Credentials from the answer to a refresh that may rotate the refresh token: a 429 or
    5xx is tried again later; `invalid_client` means this server's app (the MASTHEAD_<prefix>_*
    settings) is refused; any other refusal means the refresh token is spent (perhaps by
    another worker)."""
    if response.status_code == 429 or response.status_code >= 500:
        raise Retryable(f"{platform} could not refresh the token: {reason(response)[1]}")
    code, message = reason(response)
    if code == "invalid_client":
        settings = (
            f"MASTHEAD_{prefix.upper()}_CLIENT_ID and MASTHEAD_{prefix.upper()}_CLIENT_SECRET"
        )
        raise Permanent(f"{platform} refused this server's OAuth app ({settings}): {message}")
    body = response.json() if response.status_code == 200 else {}
    if "access_token" not in body:
        raise RefreshTokenSpent(message)
    return credentials_from_token_response(body, previous=current)


class Refresher(Protocol):
    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        """New credentials from the stored ones (never dropping the refresh token). Raises
        `RefreshTokenSpent` when the platform refuses the refresh token, `Retryable` when it
        could not answer, `Permanent` when this server's app is refused."""
        ...


def store_of(ctx: AccountScope, platform: str) -> CredentialStore:
    if ctx.credentials is None:
        raise Permanent(f"{platform} publishing needs the account's credential store")
    return ctx.credentials


class TokenKeeper:
    def __init__(self, platform: str, refresher: Refresher | None, margin: timedelta) -> None:
        self._platform = platform
        self._refresher = refresher
        self._margin = margin
        self._locks: dict[int, asyncio.Lock] = {}

    async def token(self, ctx: AccountScope, *, stale: str | None = None) -> str:
        """A token the platform will accept: the stored one, refreshed first when it is about
        to end or when the platform just refused `stale`."""
        store = store_of(ctx, self._platform)
        credentials = OAuthCredentials.from_stored(await store.load())
        if not credentials.access_token:
            raise AccountDisconnected(
                f"The {self._platform} account has no access token: reconnect the account"
            )
        if stale is None and not expires_within(credentials, self._margin, utcnow()):
            return str(credentials.access_token)
        lock = self._locks.setdefault(ctx.account.id, asyncio.Lock())
        async with lock:  # one refresh per account in this process; other processes: below
            stored = await store.load()
            credentials = OAuthCredentials.from_stored(stored)
            token = str(credentials.access_token or "")
            fresh = stale is None and not expires_within(credentials, self._margin, utcnow())
            if fresh or (stale is not None and token != stale):
                return token  # someone refreshed while we waited
            refreshed = OAuthCredentials.from_stored(await self._refresh(store, stored))
            return str(refreshed.access_token or "")

    async def _refresh(self, store: CredentialStore, current: dict[str, Any]) -> dict[str, Any]:
        spent = OAuthCredentials.from_stored(current).refresh_token
        if not spent:
            raise AccountDisconnected(
                f"The {self._platform} access token expired and there is no refresh token: "
                "reconnect the account"
            )
        if self._refresher is None:
            raise Permanent(
                f"The {self._platform} token expired and this server has no OAuth app "
                "configured to refresh it"
            )
        try:
            new = await self._refresher.refresh(current)
        except RefreshTokenSpent as exc:
            theirs = await self._other_refresh(store, str(spent))
            if theirs is not None:
                return theirs
            raise AccountDisconnected(
                f"{self._platform} refused to refresh the token: {exc.message}"
            ) from None
        if await store.save(new, replaces=current):
            return new
        return await store.load()

    @staticmethod
    async def _other_refresh(store: CredentialStore, spent: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + REFRESH_RACE_SECONDS
        while True:
            latest = await store.load()
            if latest.get("refresh_token") and latest.get("refresh_token") != spent:
                return latest
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.1)
