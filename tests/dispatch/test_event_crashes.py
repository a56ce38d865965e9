"""No event lost: two worker processes on PostgreSQL, SIGKILLed at random moments while 600
posts go out and their `post.*` events are delivered. Every finished post has exactly one
event, written with its outcome, and the receiver got every event at least once."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from masthead.security import Secrets
from masthead.services import webhooks
from masthead.store.database import Database
from masthead.store.models import Event, EventDelivery
from tests.support.crashes import (
    insert_webhook_posts,
    kill_while_publishing,
    seed_webhook_account,
    start_workers,
    wait_settled,
)
from tests.support.receiver import Fault, Receiver

pytestmark = pytest.mark.postgres
SECRET = "event-crash-secret"
POSTS = 600
KILLS = 4


async def _events(db: Database) -> tuple[dict[str, tuple[str, str]], int]:
    """Stored events by id (type, post), and the deliveries still pending."""

    def read(conn: Connection) -> tuple[dict[str, tuple[str, str]], int]:
        stored = {
            row[0]: (row[1], row[2])
            for row in conn.execute(select(Event.id, Event.type, Event.subject))
        }
        pending = conn.execute(
            select(func.count()).where(EventDelivery.status == "pending")
        ).scalar_one()
        return stored, int(pending)

    return await db.read(read)


@pytest.mark.parametrize("seed", [3, 4])
async def test_killed_workers_lose_no_event(
    tmp_path: Path, receiver: Receiver, fresh_pg_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    receiver.script.extend(Fault(delay=rng.uniform(0.01, 0.05)) for _ in range(POSTS * 3))
    caller, account = await seed_webhook_account(fresh_pg_url, SECRET, "events@example.com")
    db = Database(fresh_pg_url)
    await db.start()
    await webhooks.create(
        db,
        Secrets([SECRET]),
        frozenset({("127.0.0.1", receiver.port)}),
        caller.user_id,
        url=receiver.events_url,
        events=["post.published", "post.outcome_unknown", "post.failed"],
    )
    await insert_webhook_posts(db, caller, account, receiver.url, POSTS)
    env = {
        "MASTHEAD_SECRET_KEY": SECRET,
        "MASTHEAD_DATABASE_URL": fresh_pg_url,
        "MASTHEAD_FETCH_ALLOW": receiver.allow,
        "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
        "MASTHEAD_DISPATCH_CONCURRENCY": "16",
        "MASTHEAD_EVENT_DELIVERY_CONCURRENCY": "16",
        "MASTHEAD_EVENT_LEASE_SECONDS": "3",
        "MASTHEAD_WEBHOOK_TIMEOUT_SECONDS": "1",
        "MASTHEAD_LOG_LEVEL": "WARNING",
    }
    workers = start_workers(tmp_path, env)
    try:
        kills = await kill_while_publishing(rng, workers, receiver, KILLS)
        outcomes = await wait_settled(db, timeout=120)
        deadline = time.monotonic() + 120
        stored, pending = await _events(db)
        while pending and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            stored, pending = await _events(db)
    finally:
        for worker in workers:
            worker.kill()
        await db.close()

    assert kills == KILLS
    assert pending == 0
    finished = {o.id: o for o in outcomes if o.state in ("published", "failed")}
    assert len(finished) == POSTS
    per_post = Counter(post for _, post in stored.values())
    assert set(per_post) == set(finished)  # every finished post has its event ...
    assert max(per_post.values()) == 1  # ... and only one
    for event_type, post_id in stored.values():
        post = finished[post_id]
        expected = "post.published" if post.state == "published" else "post.outcome_unknown"
        assert event_type == expected, post
    received = Counter(d.headers["x-masthead-event-id"] for d in receiver.events())
    assert set(received) == set(stored)  # none lost, none invented
    for delivery in receiver.events():
        body = orjson.loads(delivery.body)
        assert stored[body["id"]] == (body["type"], body["data"]["postSubmissionId"])
