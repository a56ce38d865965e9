"""The events outbox: an event row, and one delivery per subscription that wants it, written
inside the transaction of the change that causes the event.

Writing both in that transaction is what makes "no event lost" hold: a crash either undoes
the change with its event or leaves both for any worker to deliver. Fan-out happens here too
(docs/design.md, "Event webhooks"): the subscriptions that count are those enabled at the
moment of the change, and a user with none pays one indexed read and writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event, insert, literal, select, text
from sqlalchemy.engine import Connection

from masthead.domain.events import (
    ACCOUNT_DISCONNECTED,
    AccountFacts,
    account_view,
    outcome_event,
    post_event_data,
    wants,
)
from masthead.store import posts as post_store
from masthead.store import webhooks
from masthead.store.models import Event, EventDelivery, WebhookSubscription

CHANNEL = "masthead_events"
"""PostgreSQL NOTIFY channel: deliveries were written (sent inside the writing transaction)."""
_WRITTEN = "masthead_events_written"


@dataclass(frozen=True, slots=True)
class NewEvent:
    user_id: str
    type: str
    subject: str
    data: dict[str, Any]


def new_event_id() -> str:
    return "evt_" + os.urandom(16).hex()


def record(conn: Connection, events: Sequence[NewEvent], now: datetime) -> int:
    """Store the events that some enabled subscription of their user wants, with a pending
    delivery for each such subscription. Returns the deliveries written."""
    if not webhooks.may_have_subscribers(conn):
        return 0
    subscriptions = _enabled_subscriptions(conn, {e.user_id for e in events})
    event_rows: list[dict[str, Any]] = []
    by_subscription: dict[str, list[str]] = {}
    for new in events:
        subscribed = subscriptions.get(new.user_id, ())
        targets = [sid for sid, names in subscribed if wants(names, new.type)]
        if not targets:
            continue
        event_id = new_event_id()
        event_rows.append(
            {
                "id": event_id,
                "type": new.type,
                "user_id": new.user_id,
                "subject": new.subject,
                "payload": new.data,
                "created_at": now,
            }
        )
        for sid in targets:
            by_subscription.setdefault(sid, []).append(event_id)
    if not event_rows:
        return 0
    conn.execute(insert(Event), event_rows)
    written = 0
    for sid, event_ids in by_subscription.items():
        # Copied from the event rows just written: no per-row parameters to convert (those
        # conversions were most of the outbox's cost in a burst of 10,000 posts).
        written += conn.execute(
            insert(EventDelivery).from_select(
                _DELIVERY_COLUMNS,
                select(
                    Event.id,
                    literal(sid),
                    Event.subject,
                    literal("pending"),
                    literal(0),
                    Event.created_at,
                    Event.created_at,
                    Event.created_at,
                ).where(Event.id.in_(event_ids)),
            )
        ).rowcount
    announce(conn)
    return written


_DELIVERY_COLUMNS = (
    "event_id",
    "subscription_id",
    "subject",
    "status",
    "attempts",
    "next_attempt_at",
    "retry_from",
    "created_at",
)


def announce(conn: Connection) -> None:
    """Wake delivery loops (and the comment loop, for queued comments) once this transaction
    commits: this process's through the commit hook below, other processes' through NOTIFY
    (delivered only on commit)."""
    conn.info[_WRITTEN] = True
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def _enabled_subscriptions(
    conn: Connection, user_ids: Iterable[str]
) -> dict[str, list[tuple[str, list[str]]]]:
    found: dict[str, list[tuple[str, list[str]]]] = {}
    rows = conn.execute(
        select(WebhookSubscription.user_id, WebhookSubscription.id, WebhookSubscription.events)
        .where(WebhookSubscription.user_id.in_(list(user_ids)), WebhookSubscription.enabled)
        .order_by(WebhookSubscription.created_at)
    )
    for user_id, sid, names in rows:
        found.setdefault(user_id, []).append((sid, names))
    return found


def post_changed(conn: Connection, changes: Sequence[tuple[str, str]], now: datetime) -> int:
    """Events for posts whose state just changed in this transaction: (post id, event type),
    each with the post's status as `GET /v2/posts/{id}` now shows it. Posts of users without
    an enabled subscription cost one read and nothing else (none on SQLite while no
    subscription is enabled)."""
    if not changes or not webhooks.may_have_subscribers(conn):
        return 0
    subscribers = select(WebhookSubscription.user_id).where(WebhookSubscription.enabled)
    found = post_store.posts_by_ids(conn, [post_id for post_id, _ in changes], owners=subscribers)
    if not found:
        return 0
    rows = {row.id: row for row in found}
    items = post_store.items_of(conn, list(rows))
    events = []
    for post_id, event_type in changes:
        row = rows.get(post_id)
        if row is None:
            continue
        thread = 1 + len(row.draft.get("content", {}).get("additionalPosts") or ())
        data = post_event_data(row, items.get(post_id, []), thread)
        events.append(NewEvent(row.user_id, event_type, post_id, data))
    return record(conn, events, now)


def post_finished(
    conn: Connection, finished: Iterable[tuple[str, str, bool]], now: datetime
) -> int:
    """Events for posts that reached a final state: (post id, state, outcome unknown)."""
    changes = []
    for post_id, state, unknown in finished:
        event_type = outcome_event(state, unknown)
        if event_type is not None:
            changes.append((post_id, event_type))
    return post_changed(conn, changes, now)


def account_changed(
    conn: Connection,
    account: AccountFacts,
    user_id: str,
    event_type: str,
    now: datetime,
    reason: str | None = None,
) -> int:
    """`account.connected` / `account.disconnected` (with the reason) for one account."""
    data = account_view(account)
    if event_type == ACCOUNT_DISCONNECTED:
        data["reason"] = reason
    return record(conn, [NewEvent(user_id, event_type, f"account:{account.id}", data)], now)


# In-process wake-ups: delivery loops of this process, woken after a commit that wrote
# deliveries. A commit happens in the writer's thread (SQLite) or greenlet (PostgreSQL), so
# the wake is handed to each loop's own thread.
_listeners: list[tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = []


def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` in the running loop after each commit that wrote deliveries; returns the
    function that unsubscribes."""
    entry = (asyncio.get_running_loop(), wake)
    _listeners.append(entry)
    return lambda: _listeners.remove(entry)


@event.listens_for(Engine, "commit")
def _committed(conn: Connection) -> None:
    if conn.info.pop(_WRITTEN, False):
        for loop, wake in list(_listeners):
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(wake)


@event.listens_for(Engine, "rollback")
def _rolled_back(conn: Connection) -> None:
    # A connection the server cut (an outage) has no `info` to clear: reading it would try
    # to reconnect inside the rollback and fail it (PendingRollbackError).
    if not conn.invalidated:
        conn.info.pop(_WRITTEN, None)
