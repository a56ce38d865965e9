"""Connecting an account through the browser: OAuth 2.0 authorization code with PKCE.

`start` remembers who asked (in the database, so any process can take the callback) and
returns the platform's authorize URL; `finish` takes the callback's state back exactly once,
trades the code for tokens and stores the account through the same path as
`masthead accounts add` (services/connections.py). Platform-neutral: a publisher takes part by
exposing an `OAuthProvider` as its `oauth` attribute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import timedelta

from masthead.config import Settings
from masthead.platforms.base import ConnectedAccount, Publisher, PublishError, Retryable
from masthead.platforms.oauth import OAuthProvider, challenge, new_state, new_verifier
from masthead.platforms.registry import SOCIAL, SPECS
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store import oauth_states
from masthead.store.database import Database
from masthead.timeutil import utcnow


class OAuthFailed(Exception):
    """A connect that cannot go on; `message` is meant for the user's eyes."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


def callback_url(settings: Settings, platform: str) -> str:
    """What the operator registers with the platform as the app's callback URL."""
    return f"{settings.public_url.rstrip('/')}/oauth/{platform}/callback"


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def provider_for(
    publishers: Mapping[str, Publisher], platform: str
) -> tuple[Publisher, OAuthProvider]:
    publisher = publishers.get(platform)
    if publisher is None:
        if platform in SOCIAL:
            raise OAuthFailed(f"{platform} accounts cannot be connected on this server yet")
        raise OAuthFailed(f"Unknown platform {platform!r}", status=404)
    if SPECS[platform].connect != "oauth":
        raise OAuthFailed(f"{platform} accounts are not connected through OAuth")
    if publisher.oauth is None:
        setting = SPECS[platform].client_id_setting
        raise OAuthFailed(
            f"{platform} is not configured on this server: the operator must register an "
            f"OAuth app and set {setting} (and {setting.removesuffix('_ID')}_SECRET)"
        )
    return publisher, publisher.oauth


async def start(
    db: Database,
    secrets: Secrets,
    settings: Settings,
    publishers: Mapping[str, Publisher],
    *,
    user_id: str,
    platform: str,
) -> str:
    """The URL to send the user's browser to."""
    _, provider = provider_for(publishers, platform)
    state, verifier = new_state(), new_verifier()
    redirect_uri = callback_url(settings, platform)
    now = utcnow()
    sealed = secrets.encrypt(verifier)
    await db.write(
        lambda conn: oauth_states.add(
            conn,
            state_hash=_state_hash(state),
            user_id=user_id,
            platform=platform,
            code_verifier=sealed,
            redirect_uri=redirect_uri,
            now=now,
            expires_at=now + timedelta(seconds=settings.oauth_state_seconds),
        )
    )
    return provider.authorization_url(
        state=state, code_challenge=challenge(verifier), redirect_uri=redirect_uri
    )


async def finish(
    db: Database,
    secrets: Secrets,
    publishers: Mapping[str, Publisher],
    *,
    platform: str,
    state: str | None,
    code: str | None,
    error: str | None = None,
    error_description: str | None = None,
) -> tuple[int, ConnectedAccount]:
    """The callback: returns the numeric accountId and what the platform said about it.

    The state is consumed before anything else, even when the platform reports an error, so
    a callback URL can never be replayed; the state alone decides whose account this is."""
    publisher, provider = provider_for(publishers, platform)
    if not state:
        raise OAuthFailed("The callback has no state: start the connection again")
    pending = await db.write(lambda conn: oauth_states.take(conn, _state_hash(state), platform))
    if pending is None or pending.expires_at <= utcnow():
        raise OAuthFailed(
            "This connection link is unknown, expired or already used: start the connection again"
        )
    if error:
        raise OAuthFailed(f"{platform} did not grant access: {error_description or error}")
    if not code:
        raise OAuthFailed("The callback has no code: start the connection again")
    try:
        credentials = await provider.exchange(
            code, secrets.decrypt(pending.code_verifier), pending.redirect_uri
        )
        return await connect_account(
            db, secrets, publisher, user_id=pending.user_id, credentials=credentials
        )
    except Retryable as exc:
        raise OAuthFailed(f"{platform} could not be reached: {exc.message}", status=502) from exc
    except PublishError as exc:
        raise OAuthFailed(f"{platform} refused the connection: {exc.message}") from exc
