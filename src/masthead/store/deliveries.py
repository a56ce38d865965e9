"""Event deliveries as a queue: batch claims with leases, outcomes, the log, redelivery.

The same shape as the posts queue (store/queue.py): one statement claims up to B due rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), a lease covers the attempt, and a worker that dies
simply lets its leases run out, after which any worker sends the same event id again (at
least once: ARCHITECTURE.md, invariant 2's exception). A pending delivery is held back while
an earlier delivery of the same subject (a post) to the same subscription is still pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from masthead.domain.events import WEBHOOK_DISABLED
from masthead.store import events
from masthead.store.leases import lease_due, unleased
from masthead.store.models import Event, EventDelivery, WebhookSubscription
from masthead.store.types import UTCDateTime

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    attempts: int
    retry_from: datetime
    event_id: str
    event_type: str
    event_created_at: datetime
    data: dict[str, Any]
    subscription_id: str
    url: str
    sealed_secret: str


def _claimable(now: datetime) -> Any:
    earlier = aliased(EventDelivery)
    return and_(
        EventDelivery.status == PENDING,
        EventDelivery.next_attempt_at <= now,
        unleased(EventDelivery.lease_until, now),
        EventDelivery.subscription_id.in_(
            select(WebhookSubscription.id).where(WebhookSubscription.enabled)
        ),
        ~exists().where(
            earlier.subscription_id == EventDelivery.subscription_id,
            earlier.subject == EventDelivery.subject,
            earlier.status == PENDING,
            earlier.id < EventDelivery.id,
        ),
    )


def claim(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_locked: bool,
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries, with their event and subscription."""
    ids = list(
        lease_due(
            conn,
            EventDelivery.id,
            where=_claimable(now),
            order_by=[EventDelivery.next_attempt_at, EventDelivery.id],
            limit=limit,
            skip_locked=skip_locked,
            values={
                "lease_owner": owner,
                "lease_until": now + lease,
                "attempts": EventDelivery.attempts + 1,
            },
            returning=[EventDelivery.id],
        ).scalars()
    )
    if not ids:
        return []
    rows = conn.execute(
        select(
            EventDelivery.id,
            EventDelivery.attempts,
            EventDelivery.retry_from,
            Event.id,
            Event.type,
            Event.created_at,
            Event.payload,
            WebhookSubscription.id,
            WebhookSubscription.url,
            WebhookSubscription.secret,
        )
        .join(Event, Event.id == EventDelivery.event_id)
        .join(WebhookSubscription, WebhookSubscription.id == EventDelivery.subscription_id)
        .where(EventDelivery.id.in_(ids))
        .order_by(EventDelivery.id)
    )
    return [ClaimedDelivery(*row) for row in rows]


def next_wakeup(conn: Connection) -> datetime | None:
    """The earliest pending attempt or lease end (read off the partial index)."""
    return conn.execute(
        select(
            func.min(
                func.coalesce(EventDelivery.lease_until, EventDelivery.next_attempt_at),
                type_=UTCDateTime(),
            )
        ).where(EventDelivery.status == PENDING)
    ).scalar()


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one attempt went. `retry_at` None on a failure: the window is spent, give up."""

    delivery_id: int
    subscription_id: str
    since: datetime
    """The delivery's `retry_from`: a failure means the subscription has failed since then."""
    at: datetime
    delivered: bool
    response_status: int | None
    excerpt: str
    retry_at: datetime | None = None


def settle(
    conn: Connection, *, owner: str, attempts: Sequence[Attempt], window: timedelta
) -> list[str]:
    """Store attempts' outcomes (only where `owner` still holds the lease) and keep each
    subscription's failing streak. A subscription whose streak has lasted the whole window
    when a delivery gives up is switched off, and its user's other subscriptions are told
    (`webhook.disabled`). Returns the ids of subscriptions switched off."""
    if not attempts:
        return []
    at = bindparam("a_at", type_=UTCDateTime())
    conn.execute(
        update(EventDelivery)
        .where(EventDelivery.id == bindparam("a_id"), EventDelivery.lease_owner == owner)
        .values(
            status=bindparam("a_status"),
            next_attempt_at=bindparam("a_next", type_=UTCDateTime()),
            lease_owner=None,
            lease_until=None,
            last_attempt_at=at,
            response_status=bindparam("a_code"),
            response_excerpt=bindparam("a_excerpt"),
        ),
        [
            {
                "a_id": a.delivery_id,
                "a_status": DELIVERED if a.delivered else PENDING if a.retry_at else FAILED,
                "a_next": None if a.delivered else a.retry_at,
                "a_at": a.at,
                "a_code": a.response_status,
                "a_excerpt": a.excerpt,
            }
            for a in attempts
        ],
    )
    now = max(a.at for a in attempts)
    events.announce(conn)  # deliveries held behind these (same post) may go now
    working = {a.subscription_id for a in attempts if a.delivered}
    failing: dict[str, datetime] = {}
    for a in attempts:
        if not a.delivered and a.subscription_id not in working:
            failing[a.subscription_id] = min(a.since, failing.get(a.subscription_id, a.since))
    if failing:
        conn.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == bindparam("f_id"),
                WebhookSubscription.failing_since.is_(None),
            )
            .values(failing_since=bindparam("f_since", type_=UTCDateTime())),
            [{"f_id": sid, "f_since": since} for sid, since in failing.items()],
        )
    if working:
        conn.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id.in_(working),
                WebhookSubscription.failing_since.is_not(None),
            )
            .values(failing_since=None)
        )
    gave_up = {a.subscription_id for a in attempts if not a.delivered and a.retry_at is None}
    return _disable_failing(conn, gave_up - working, now, window) if gave_up - working else []


def _disable_failing(
    conn: Connection, ids: set[str], now: datetime, window: timedelta
) -> list[str]:
    hours = window.total_seconds() / 3600
    reason = f"Switched off: every delivery failed for {hours:g} hours"
    disabled = conn.execute(
        update(WebhookSubscription)
        .where(
            WebhookSubscription.id.in_(ids),
            WebhookSubscription.enabled,
            WebhookSubscription.failing_since <= now - window,
        )
        .values(enabled=False, disabled_reason=reason, updated_at=now)
        .returning(
            WebhookSubscription.id,
            WebhookSubscription.user_id,
            WebhookSubscription.url,
            WebhookSubscription.description,
        )
    ).all()
    events.record(
        conn,
        [
            events.NewEvent(
                user_id,
                WEBHOOK_DISABLED,
                f"webhook:{sid}",
                {"id": sid, "url": url, "description": description, "reason": reason},
            )
            for sid, user_id, url, description in disabled
        ],
        now,
    )
    return [row[0] for row in disabled]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_attempt_at: datetime | None
    response_status: int | None
    response_excerpt: str | None


def list_for(
    conn: Connection, subscription_id: str, *, before: int | None, limit: int
) -> list[DeliveryRow]:
    """Newest first; `before` is the id of the last delivery already seen."""
    query = (
        select(
            EventDelivery.id,
            EventDelivery.event_id,
            Event.type,
            EventDelivery.status,
            EventDelivery.attempts,
            EventDelivery.last_attempt_at,
            EventDelivery.response_status,
            EventDelivery.response_excerpt,
        )
        .join(Event, Event.id == EventDelivery.event_id)
        .where(EventDelivery.subscription_id == subscription_id)
    )
    if before is not None:
        query = query.where(EventDelivery.id < before)
    query = query.order_by(EventDelivery.id.desc()).limit(limit)
    return [DeliveryRow(*row) for row in conn.execute(query)]


def redeliver(conn: Connection, subscription_id: str, delivery_id: int, now: datetime) -> bool:
    """Send it again, same event id, with a fresh retry window."""
    result = conn.execute(
        update(EventDelivery)
        .where(EventDelivery.id == delivery_id, EventDelivery.subscription_id == subscription_id)
        .values(status=PENDING, next_attempt_at=now, retry_from=now)
    )
    if result.rowcount != 1:
        return False
    events.announce(conn)
    return True


def hand_back(conn: Connection, *, owner: str) -> int:
    """A stopping worker's leases, for another worker to take at once."""
    result = conn.execute(
        update(EventDelivery)
        .where(EventDelivery.lease_owner == owner, EventDelivery.status == PENDING)
        .values(lease_owner=None, lease_until=None, attempts=EventDelivery.attempts - 1)
    )
    return result.rowcount


def forget_settled_before(conn: Connection, before: datetime, limit: int) -> int:
    """Up to `limit` delivered or failed deliveries last tried before `before`: the delivery
    log is kept that long. A pending delivery is never forgotten."""
    settled = (
        select(EventDelivery.id)
        .where(
            EventDelivery.status.in_((DELIVERED, FAILED)),
            func.coalesce(EventDelivery.last_attempt_at, EventDelivery.created_at) < before,
        )
        .limit(limit)
    )
    return conn.execute(
        delete(EventDelivery).where(EventDelivery.id.in_(settled.scalar_subquery()))
    ).rowcount


def forget_events_before(conn: Connection, before: datetime, limit: int) -> int:
    """Up to `limit` events from before `before` that no delivery refers to any more."""
    done = (
        select(Event.id)
        .where(Event.created_at < before, ~exists().where(EventDelivery.event_id == Event.id))
        .limit(limit)
    )
    return conn.execute(delete(Event).where(Event.id.in_(done.scalar_subquery()))).rowcount
