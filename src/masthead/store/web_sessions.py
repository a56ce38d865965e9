"""Signed-in browsers and failed sign-ins (see models.WebSession and models.LoginAttempt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from masthead.store.models import LoginAttempt, User, WebSession
from masthead.store.users import UserRow


@dataclass(frozen=True, slots=True)
class SessionRow:
    user: UserRow
    csrf_token: str
    expires_at: datetime


def add(
    conn: Connection,
    *,
    id_hash: str,
    user_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a new session, and drop the expired ones while we are writing anyway."""
    conn.execute(delete(WebSession).where(WebSession.expires_at < now))
    conn.execute(
        insert(WebSession).values(
            id_hash=id_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def get(conn: Connection, id_hash: str, now: datetime) -> SessionRow | None:
    row = conn.execute(
        select(User.id, User.email, User.name, WebSession.csrf_token, WebSession.expires_at)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id_hash == id_hash, WebSession.expires_at > now)
    ).first()
    if row is None:
        return None
    return SessionRow(UserRow(row.id, row.email, row.name), row.csrf_token, row.expires_at)


def remove(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(WebSession).where(WebSession.id_hash == id_hash))


def remove_all(conn: Connection, user_id: str) -> None:
    conn.execute(delete(WebSession).where(WebSession.user_id == user_id))


def failures(conn: Connection, key: str, since: datetime) -> int:
    """Failed sign-ins for `key` in the window that started after `since`."""
    row = conn.execute(
        select(LoginAttempt.failures).where(
            LoginAttempt.key == key, LoginAttempt.window_start > since
        )
    ).scalar_one_or_none()
    return int(row or 0)


def record_failure(conn: Connection, key: str, now: datetime, since: datetime) -> None:
    """Count one more failure, opening a new window when the last one is older than `since`."""
    window = conn.execute(
        select(LoginAttempt.window_start).where(LoginAttempt.key == key)
    ).scalar_one_or_none()
    if window is None:
        conn.execute(insert(LoginAttempt).values(key=key, failures=1, window_start=now))
    elif window <= since:
        conn.execute(
            update(LoginAttempt).where(LoginAttempt.key == key).values(failures=1, window_start=now)
        )
    else:
        conn.execute(
            update(LoginAttempt)
            .where(LoginAttempt.key == key)
            .values(failures=LoginAttempt.failures + 1)
        )


def clear_failures(conn: Connection, key: str) -> None:
    conn.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
