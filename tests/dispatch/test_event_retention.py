"""Event retention on both engines: settled deliveries older than the window go, in batches,
then the events none refers to; pending deliveries and recent ones stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from masthead.dispatch import retention
from masthead.store import deliveries, events
from masthead.store.models import Event, EventDelivery
from masthead.timeutil import utcnow
from tests.store.conftest import Seeded
from tests.store.conftest import db as db  # the fixtures, shared
from tests.store.conftest import seeded as seeded
from tests.store.test_deliveries import _new, _subscribe

WINDOW = timedelta(days=30)


def _settle(conn: Connection, subject: str, status: str, at: datetime) -> None:
    conn.execute(
        update(EventDelivery)
        .where(EventDelivery.subject == subject)
        .values(status=status, last_attempt_at=at)
    )


def _left(conn: Connection) -> tuple[list[str], list[str]]:
    kept = [r.subject for r in conn.execute(select(EventDelivery.subject))]
    return sorted(kept), sorted(r.subject for r in conn.execute(select(Event.subject)))


async def test_settled_deliveries_and_their_events_go_after_the_window(seeded: Seeded) -> None:
    await _subscribe(seeded)
    now = utcnow()
    old = now - WINDOW - timedelta(days=1)
    for subject, at in [("delivered", old), ("failed", old), ("pending", old), ("recent", now)]:
        await seeded.db.write(lambda c, s=subject, t=at: events.record(c, [_new(seeded, s)], t))
    await seeded.db.write(lambda c: _settle(c, "delivered", deliveries.DELIVERED, old))
    await seeded.db.write(lambda c: _settle(c, "failed", deliveries.FAILED, old))
    await seeded.db.write(lambda c: _settle(c, "recent", deliveries.DELIVERED, now))
    # A delivery made long ago but redelivered lately is judged by its last attempt.
    await seeded.db.write(lambda c: events.record(c, [_new(seeded, "redelivered")], old))
    await seeded.db.write(lambda c: _settle(c, "redelivered", deliveries.DELIVERED, now))

    removed = await retention.purge(seeded.db, now - WINDOW, batch=1)  # one row a batch

    assert removed == 4
    kept = ["pending", "recent", "redelivered"]
    assert await seeded.db.read(_left) == (kept, kept)
    assert await retention.purge(seeded.db, now - WINDOW, batch=1) == 0
