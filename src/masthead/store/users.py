"""Users and their API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from masthead.security import Secrets, new_signing_secret
from masthead.store.models import ApiKey, User


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class KeyOwner:
    key_id: int
    user: UserRow
    digest: str
    last_used_at: datetime | None


def create_user(
    conn: Connection,
    secrets_: Secrets,
    *,
    email: str,
    name: str,
    now: datetime,
    password_hash: str | None = None,
) -> UserRow:
    user = UserRow(id=str(uuid.uuid4()), email=email.strip().lower(), name=name)
    conn.execute(
        insert(User).values(
            id=user.id,
            email=user.email,
            name=name,
            password_hash=password_hash,
            webhook_secret=secrets_.encrypt(new_signing_secret()),
            created_at=now,
        )
    )
    return user


def user_by_email(conn: Connection, email: str) -> UserRow | None:
    row = (
        conn.execute(
            select(User.id, User.email, User.name).where(User.email == email.strip().lower())
        )
    ).first()
    return UserRow(row.id, row.email, row.name) if row else None


def count_users(conn: Connection) -> int:
    return int((conn.execute(select(func.count()).select_from(User))).scalar_one())


def lock(conn: Connection, user_id: str) -> None:
    """Serialise one user's quota checks on PostgreSQL (count, then insert) until commit;
    SQLite's single writer already does."""
    conn.execute(select(User.id).where(User.id == user_id).with_for_update())


def webhook_secret(conn: Connection, secrets_: Secrets, user_id: str) -> str:
    stored = (conn.execute(select(User.webhook_secret).where(User.id == user_id))).scalar_one()
    return secrets_.decrypt(stored)


def add_api_key(
    conn: Connection, *, user_id: str, name: str, prefix: str, digest: str, now: datetime
) -> int:
    result = conn.execute(
        insert(ApiKey)
        .values(user_id=user_id, name=name, prefix=prefix, digest=digest, created_at=now)
        .returning(ApiKey.id)
    )
    return int(result.scalar_one())


def active_keys_with_prefix(conn: Connection, prefix: str) -> list[KeyOwner]:
    return _active_owners(conn, ApiKey.prefix == prefix)


def active_key(conn: Connection, key_id: int) -> KeyOwner | None:
    """The key by id if it is not revoked (an MCP OAuth token acts as its key)."""
    return next(iter(_active_owners(conn, ApiKey.id == key_id)), None)


def active_agent_key(conn: Connection, key_id: int, granted_by: int) -> KeyOwner | None:
    """An MCP agent's own key, if both it and the key its user approved it with are live."""
    owners = {o.key_id: o for o in _active_owners(conn, ApiKey.id.in_((key_id, granted_by)))}
    return owners.get(key_id) if granted_by in owners else None


def _active_owners(conn: Connection, condition: ColumnElement[bool]) -> list[KeyOwner]:
    rows = conn.execute(
        select(
            ApiKey.id,
            ApiKey.digest,
            ApiKey.last_used_at,
            User.id.label("user_id"),
            User.email,
            User.name,
        )
        .join(User, User.id == ApiKey.user_id)
        .where(condition, ApiKey.revoked_at.is_(None))
    )
    return [
        KeyOwner(r.id, UserRow(r.user_id, r.email, r.name), r.digest, r.last_used_at) for r in rows
    ]


def revoke_keys(conn: Connection, prefix: str, now: datetime) -> int:
    result = conn.execute(
        update(ApiKey)
        .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount


def touch_key(conn: Connection, key_id: int, now: datetime) -> None:
    conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def password_hash(conn: Connection, email: str) -> tuple[UserRow, str | None] | None:
    row = conn.execute(
        select(User.id, User.email, User.name, User.password_hash).where(
            User.email == email.strip().lower()
        )
    ).first()
    return (UserRow(row.id, row.email, row.name), row.password_hash) if row else None


def set_password_hash(conn: Connection, email: str, hashed: str) -> bool:
    result = conn.execute(
        update(User).where(User.email == email.strip().lower()).values(password_hash=hashed)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class KeyListing:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


def list_keys(conn: Connection, user_id: str) -> list[KeyListing]:
    """The user's live keys, newest first (revoked keys are gone for good)."""
    rows = conn.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.created_at, ApiKey.last_used_at)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id.desc())
    )
    return [KeyListing(*row) for row in rows]


def revoke_key(conn: Connection, user_id: str, key_id: int, now: datetime) -> str | None:
    """Revoke one of the user's keys; returns its digest (to drop it from caches), or None
    for unknown ids and other users' keys alike."""
    digest = conn.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKey.digest)
    ).scalar_one_or_none()
    return digest
