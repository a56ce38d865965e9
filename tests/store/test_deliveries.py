"""The event outbox and the deliveries queue on both engines: nothing written without a
subscription, leases, order per subject, outcomes and the failing streak."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection

from masthead.security import Secrets
from masthead.services import webhooks
from masthead.store import deliveries, events
from masthead.store import webhooks as webhooks_store
from masthead.store.models import Event, WebhookSubscription
from masthead.timeutil import utcnow
from tests.store.conftest import Seeded

LEASE = timedelta(seconds=30)


async def _subscribe(seeded: Seeded) -> str:
    created = await webhooks.create(
        seeded.db,
        Secrets(["store-test-key"]),
        frozenset(),
        seeded.caller.user_id,
        url="https://hooks.example.com/x",
        events=["*"],
    )
    return created.row.id


def _new(seeded: Seeded, subject: str, kind: str = "post.published") -> events.NewEvent:
    return events.NewEvent(seeded.caller.user_id, kind, subject, {"postSubmissionId": subject})


def _claim(
    owner: str, at_offset: float = 0.0
) -> Callable[[Connection], list[deliveries.ClaimedDelivery]]:
    def claim(conn: Connection) -> list[deliveries.ClaimedDelivery]:
        return deliveries.claim(
            conn,
            owner=owner,
            now=utcnow() + timedelta(seconds=at_offset),
            lease=LEASE,
            limit=10,
            skip_locked=conn.dialect.name == "postgresql",
        )

    return claim


async def test_without_a_subscription_nothing_is_written(seeded: Seeded) -> None:
    now = utcnow()
    written = await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p1")], now))
    count = await seeded.db.read(lambda c: c.execute(select(func.count()).select_from(Event)))
    assert written == 0
    assert count.scalar_one() == 0


async def test_a_claimed_delivery_is_leased_then_taken_over_with_the_same_event(
    seeded: Seeded,
) -> None:
    await _subscribe(seeded)
    now = utcnow()
    await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p1")], now))
    [first] = await seeded.db.write(_claim("a"))
    assert await seeded.db.write(_claim("b")) == []
    [again] = await seeded.db.write(_claim("b", at_offset=LEASE.total_seconds() + 1))
    assert (first.event_id, first.attempts) == (again.event_id, 1)
    assert again.attempts == 2
    assert first.data == {"postSubmissionId": "p1"}


async def test_a_later_event_of_a_subject_waits_for_the_earlier_one(seeded: Seeded) -> None:
    sid = await _subscribe(seeded)
    now = utcnow()
    await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p1", "post.scheduled")], now))
    await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p1")], now))
    await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p2")], now))
    claimed = await seeded.db.write(_claim("a"))
    assert [c.event_type for c in claimed] == ["post.scheduled", "post.published"]
    assert {c.data["postSubmissionId"] for c in claimed} == {"p1", "p2"}
    scheduled = claimed[0]
    failed = deliveries.Attempt(
        scheduled.id, sid, scheduled.retry_from, utcnow(), False, 503, "busy", utcnow()
    )
    window = timedelta(hours=72)
    await seeded.db.write(
        lambda c: deliveries.settle(c, owner="a", attempts=[failed], window=window)
    )
    streak = await seeded.db.read(
        lambda c: c.execute(select(WebhookSubscription.failing_since)).scalar_one()
    )
    assert streak == scheduled.retry_from
    [retried] = await seeded.db.write(_claim("a", at_offset=1))
    assert retried.id == scheduled.id  # p1's post.published still waits behind it
    done = deliveries.Attempt(retried.id, sid, retried.retry_from, utcnow(), True, 200, "")
    await seeded.db.write(lambda c: deliveries.settle(c, owner="a", attempts=[done], window=window))
    [published] = await seeded.db.write(_claim("a", at_offset=1))
    assert (published.event_type, published.data["postSubmissionId"]) == ("post.published", "p1")
    cleared = await seeded.db.read(
        lambda c: c.execute(select(WebhookSubscription.failing_since)).scalar_one()
    )
    assert cleared is None


async def test_with_no_subscription_a_change_reads_nothing_on_sqlite_and_loses_no_event(
    seeded: Seeded,
) -> None:
    selects: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    def published(post_id: str) -> Callable[[Connection], int]:
        return lambda c: events.post_changed(c, [(post_id, "post.published")], utcnow())

    await seeded.db.write(published("p0"))  # SQLite learns here that nobody subscribed
    sa_event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert await seeded.db.write(published("p1")) == 0
    finally:
        sa_event.remove(Engine, "before_cursor_execute", seen)
    assert len(selects) == (0 if seeded.db.is_sqlite else 1), selects

    # A subscription made after that is seen by the very next change: nothing is lost.
    sid = await _subscribe(seeded)
    assert await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p2")], utcnow())) == 1
    off = webhooks_store.Change(enabled=False)
    on = webhooks_store.Change(enabled=True)
    user = seeded.caller.user_id
    await seeded.db.write(lambda c: webhooks_store.change(c, user, sid, off, utcnow()))
    assert await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p3")], utcnow())) == 0
    await seeded.db.write(lambda c: webhooks_store.change(c, user, sid, on, utcnow()))
    assert await seeded.db.write(lambda c: events.record(c, [_new(seeded, "p4")], utcnow())) == 1
