"""Event webhook subscriptions: a user's URLs, the events each wants, its sealed secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from masthead.store.models import WebhookSubscription


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: str
    user_id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    failing_since: datetime | None
    disabled_reason: str | None
    created_at: datetime


_COLUMNS = (
    WebhookSubscription.id,
    WebhookSubscription.user_id,
    WebhookSubscription.url,
    WebhookSubscription.events,
    WebhookSubscription.description,
    WebhookSubscription.enabled,
    WebhookSubscription.failing_since,
    WebhookSubscription.disabled_reason,
    WebhookSubscription.created_at,
)


@dataclass(frozen=True, slots=True)
class Change:
    """A PATCH: None leaves a field as it is."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


_ANY_ENABLED: dict[str | None, bool] = {}
"""SQLite databases (by file): whether one has an enabled subscription, once read."""


def _database_key(conn: Connection) -> str | None:
    # The file's path, not `str(url)`: rendering the URL cost 3-6 µs of every post's insert.
    return conn.engine.url.database


def may_have_subscribers(conn: Connection) -> bool:
    """False only when no subscription is enabled, so that a change's events need no read
    of its posts. Known without a read on SQLite once read: it is one process (cli.py's lock)
    and every write that creates or enables a subscription goes through `create` or `change`,
    which forget the answer inside their transaction, so a change committed after them reads
    again and loses no event. On PostgreSQL other processes write, so it is read each time,
    in the caller's transaction: one row at most, where the posts' read it spares takes a
    batch's ids (a quarter of the outcome's write in a burst of webhook posts)."""
    if conn.dialect.name != "sqlite":
        return _any_enabled(conn)
    key = _database_key(conn)
    known = _ANY_ENABLED.get(key)
    if known is None:
        known = _ANY_ENABLED[key] = _any_enabled(conn)
    return known


def _any_enabled(conn: Connection) -> bool:
    found = conn.execute(select(WebhookSubscription.id).where(WebhookSubscription.enabled).limit(1))
    return found.first() is not None


def _forget_subscribers(conn: Connection) -> None:
    _ANY_ENABLED.pop(_database_key(conn), None)


def create(
    conn: Connection,
    *,
    subscription_id: str,
    user_id: str,
    url: str,
    events: list[str],
    description: str,
    sealed_secret: str,
    now: datetime,
) -> SubscriptionRow:
    _forget_subscribers(conn)
    conn.execute(
        insert(WebhookSubscription).values(
            id=subscription_id,
            user_id=user_id,
            url=url,
            events=events,
            description=description,
            enabled=True,
            secret=sealed_secret,
            created_at=now,
            updated_at=now,
        )
    )
    return SubscriptionRow(
        subscription_id, user_id, url, events, description, True, None, None, now
    )


def list_for(conn: Connection, user_id: str) -> list[SubscriptionRow]:
    query = (
        select(*_COLUMNS)
        .where(WebhookSubscription.user_id == user_id)
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return [SubscriptionRow(*row) for row in conn.execute(query)]


def get(conn: Connection, user_id: str, subscription_id: str) -> SubscriptionRow | None:
    row = conn.execute(
        select(*_COLUMNS).where(
            WebhookSubscription.id == subscription_id, WebhookSubscription.user_id == user_id
        )
    ).first()
    return SubscriptionRow(*row) if row else None


def change(
    conn: Connection, user_id: str, subscription_id: str, change: Change, now: datetime
) -> SubscriptionRow | None:
    values: dict[str, Any] = {"updated_at": now}
    if change.url is not None:
        values["url"] = change.url
    if change.events is not None:
        values["events"] = change.events
    if change.description is not None:
        values["description"] = change.description
    if change.enabled is not None:
        values["enabled"] = change.enabled
        if change.enabled:  # switched on again: its failing streak starts over
            values |= {"failing_since": None, "disabled_reason": None}
            _forget_subscribers(conn)
    conn.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.user_id == user_id)
        .values(**values)
    )
    return get(conn, user_id, subscription_id)


def remove(conn: Connection, user_id: str, subscription_id: str) -> bool:
    result = conn.execute(
        delete(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id, WebhookSubscription.user_id == user_id
        )
    )
    return result.rowcount == 1


def set_secret(
    conn: Connection, user_id: str, subscription_id: str, sealed: str, now: datetime
) -> bool:
    result = conn.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.user_id == user_id)
        .values(secret=sealed, updated_at=now)
    )
    return result.rowcount == 1


def disabled_for_failing(conn: Connection, user_id: str) -> list[SubscriptionRow]:
    """Subscriptions switched off because they failed for the whole window (the UI banner)."""
    query = select(*_COLUMNS).where(
        WebhookSubscription.user_id == user_id,
        WebhookSubscription.enabled.is_(False),
        WebhookSubscription.disabled_reason.is_not(None),
    )
    return [SubscriptionRow(*row) for row in conn.execute(query)]
