"""Signed-in browsers and counted sign-in attempts (models.WebSession, models.LoginAttempt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
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


@dataclass(frozen=True, slots=True)
class Counted:
    key: str
    attempts: int
    window_start: datetime


def count_attempt(conn: Connection, key: str, now: datetime, since: datetime) -> Counted:
    """Count one sign-in attempt against `key` and return the count, in one statement, so
    that parallel attempts each see a different number (a read, then a write, let 6 of 30
    through a limit of 5). A window older than `since` starts over at 1."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    lapsed = LoginAttempt.window_start <= since
    row = conn.execute(
        dialect.insert(LoginAttempt)
        .values(key=key, failures=1, window_start=now)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((lapsed, 1), else_=LoginAttempt.failures + 1),
                "window_start": case(
                    (lapsed, literal(now, LoginAttempt.window_start.type)),
                    else_=LoginAttempt.window_start,
                ),
            },
        )
        .returning(LoginAttempt.failures, LoginAttempt.window_start)
    ).one()
    return Counted(key, int(row.failures), row.window_start)


def uncount_attempt(conn: Connection, key: str) -> None:
    """Take back one attempt counted against `key` (it succeeded)."""
    conn.execute(
        update(LoginAttempt)
        .where(LoginAttempt.key == key, LoginAttempt.failures > 0)
        .values(failures=LoginAttempt.failures - 1)
    )


def clear_attempts(conn: Connection, key: str) -> None:
    conn.execute(delete(LoginAttempt).where(LoginAttempt.key == key))


def forget_attempts_before(conn: Connection, since: datetime) -> int:
    """Windows that ended count for nothing."""
    return conn.execute(delete(LoginAttempt).where(LoginAttempt.window_start <= since)).rowcount
