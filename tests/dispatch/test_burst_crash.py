"""Issue #20, class 3: a kill -9 in the middle of a burst leaves open only the requests that
were actually in flight. 500 webhook posts fall due at once; the server dies after some have
been delivered; after the restart every post is delivered, and the only ids the receiver sees
twice are those whose sending mark was stored, unanswered, at the kill: at most the send
slots (MASTHEAD_DISPATCH_SEND_CONCURRENCY), however many posts the worker had claimed."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from masthead.platforms.webhook import REDELIVERY_HEADER
from masthead.store.database import Database
from tests.support.crashes import (
    assert_each_delivered,
    create_posts,
    read_in_flight,
    seed_webhook_account,
    wait_settled,
)
from tests.support.harness import webhook_post
from tests.support.receiver import Fault, Receiver
from tests.support.server import ServerProcess

SECRET = "burst-crash-secret"
POSTS = 500
SENDING = 40
"""Send slots: far fewer than the posts one claim takes (the batch and concurrency are 500)."""
KILL_AFTER = 120
"""Deliveries the receiver counts before the kill."""


async def test_a_kill_during_a_burst_repeats_only_the_requests_in_flight(
    tmp_path: Path, receiver: Receiver
) -> None:
    # Each answer takes a moment, so that requests are really in flight when the kill lands.
    receiver.script.extend(Fault(delay=0.15) for _ in range(POSTS))
    database = f"sqlite:///{tmp_path / 'masthead.db'}"
    caller, account = await seed_webhook_account(database, SECRET, "burst@example.com")
    server = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_FETCH_ALLOW": receiver.allow,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",  # the restart takes the rest over soon
            "MASTHEAD_DISPATCH_SEND_CONCURRENCY": str(SENDING),
            "MASTHEAD_LOG_LEVEL": "WARNING",
        },
    )
    db = Database(database)
    await db.start()
    try:
        await asyncio.to_thread(server.start)
        at = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
        bodies = [
            webhook_post(account, receiver.url, f"burst {n}", scheduledTime=at)
            for n in range(POSTS)
        ]
        created = await create_posts(server, caller, bodies)
        await receiver.wait_for(KILL_AFTER, timeout=60)
        server.kill()
        delivered_before = len(receiver.deliveries)
        in_flight = await read_in_flight(db)

        await asyncio.to_thread(server.start)
        outcomes = await wait_settled(db, timeout=120)
    finally:
        server.kill()
        await db.close()

    assert KILL_AFTER <= delivered_before < POSTS, delivered_before  # the kill was mid-burst
    assert 0 < len(in_flight) <= SENDING, len(in_flight)
    assert {o.id for o in outcomes} == set(created)
    assert_each_delivered(outcomes, receiver.deliveries, POSTS, repeats=len(in_flight))
    delivered = Counter(d.headers["x-masthead-delivery"] for d in receiver.deliveries)
    assert {post_id for post_id, n in delivered.items() if n > 1} <= in_flight
    redelivered = {
        d.headers["x-masthead-delivery"]
        for d in receiver.deliveries
        if REDELIVERY_HEADER.lower() in d.headers
    }
    assert redelivered == in_flight  # each open outcome was delivered again, with its id
