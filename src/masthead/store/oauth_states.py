"""OAuth connects in progress (see models.OAuthState for why they live in the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from masthead.store.models import OAuthState


@dataclass(frozen=True, slots=True)
class PendingConnect:
    user_id: str
    platform: str
    code_verifier: str
    """Still encrypted."""
    redirect_uri: str
    expires_at: datetime


def add(
    conn: Connection,
    *,
    state_hash: str,
    user_id: str,
    platform: str,
    code_verifier: str,
    redirect_uri: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a new connect, and drop the ones nobody came back from."""
    conn.execute(delete(OAuthState).where(OAuthState.expires_at < now))
    conn.execute(
        insert(OAuthState).values(
            state_hash=state_hash,
            user_id=user_id,
            platform=platform,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            created_at=now,
            expires_at=expires_at,
        )
    )


def take(conn: Connection, state_hash: str, platform: str) -> PendingConnect | None:
    """Delete the connect and return it: a state is good for one callback only, even when two
    arrive at once (only one DELETE can return the row)."""
    row = conn.execute(
        delete(OAuthState)
        .where(OAuthState.state_hash == state_hash, OAuthState.platform == platform)
        .returning(
            OAuthState.user_id,
            OAuthState.platform,
            OAuthState.code_verifier,
            OAuthState.redirect_uri,
            OAuthState.expires_at,
        )
    ).one_or_none()
    if row is None:
        return None
    return PendingConnect(
        row.user_id, row.platform, row.code_verifier, row.redirect_uri, row.expires_at
    )
