"""Two worker processes on PostgreSQL, killed with SIGKILL at random moments while 2,000 posts
go out: no post is lost, every post ends published, and only deliveries in flight at a kill
are repeated (marked as redeliveries, with the same id)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from masthead.store.database import Database
from tests.support.crashes import (
    assert_each_delivered,
    insert_webhook_posts,
    kill_while_publishing,
    seed_webhook_account,
    start_workers,
    wait_settled,
)
from tests.support.receiver import Fault, Receiver

pytestmark = pytest.mark.postgres
SECRET = "crash-secret"
POSTS = 2000
LEASE_SECONDS = 3
KILLS = 5
CONCURRENCY = 16


@pytest.mark.parametrize("seed", [1, 2])
async def test_killed_workers_lose_nothing_and_repeat_only_cut_deliveries(
    tmp_path: Path, receiver: Receiver, fresh_pg_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    receiver.script.extend(Fault(delay=rng.uniform(0.01, 0.08)) for _ in range(POSTS * 2))
    caller, account = await seed_webhook_account(fresh_pg_url, SECRET, "crash@example.com")
    db = Database(fresh_pg_url)
    await db.start()
    await insert_webhook_posts(db, caller, account, receiver.url, POSTS)
    env = {
        "MASTHEAD_SECRET_KEY": SECRET,
        "MASTHEAD_DATABASE_URL": fresh_pg_url,
        "MASTHEAD_FETCH_ALLOW": receiver.allow,
        "MASTHEAD_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "MASTHEAD_DISPATCH_CONCURRENCY": str(CONCURRENCY),
        "MASTHEAD_LOG_LEVEL": "WARNING",
    }
    workers = start_workers(tmp_path, env)
    try:
        kills = await kill_while_publishing(rng, workers, receiver, KILLS)
        outcomes = await wait_settled(db, timeout=120)
    finally:
        for worker in workers:
            worker.kill()
        await db.close()

    assert kills == KILLS
    assert_each_delivered(outcomes, receiver.deliveries, POSTS, repeats=KILLS * CONCURRENCY)
    assert any(o.attempt > 1 for o in outcomes), "no kill landed while posts were in flight"
