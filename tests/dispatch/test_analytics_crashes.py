"""Two worker processes on PostgreSQL, killed with SIGKILL at random moments while 2,000
metrics checks of 1,000 X posts are due: every check ends once with one snapshot, none is
lost, and checks cut by a kill run again under a live worker."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from masthead.security import Secrets
from masthead.store import accounts
from masthead.store.database import Database
from masthead.store.models import AnalyticsCheck, AnalyticsSnapshot
from masthead.timeutil import utcnow
from tests.fakes.x import OPENAPI, FakeX
from tests.support.analytics import publish
from tests.support.crashes import start_workers
from tests.support.harness import migrate, seed_user

pytestmark = pytest.mark.postgres
SECRET = "analytics-crash-secret"
POSTS = 1000
KILLS = 4
SECOND = timedelta(seconds=1)
STALLED = 60.0
"""Seconds without a new lookup (while killing) or a check settled (after): the workers are
stuck. The run's length is not bounded: it grows with the machine's load (the fake checks each
100-post answer against X's OpenAPI, over a second of CPU each, in this process)."""


async def _seed(url: str, fake: FakeX) -> tuple[Database, list[str]]:
    """1,000 published X posts whose two checks (1 s and 2 s after publishing) are due."""
    await migrate(url)
    db = Database(url)
    await db.start()
    secrets = Secrets([SECRET])
    caller = await seed_user(db, secrets, "crash@example.com")
    user = fake.add_user("ada")
    sealed = secrets.encrypt(orjson.dumps(fake.issue_tokens(user, lifetime=86_400)).decode())
    account = await db.write(
        lambda c: accounts.add_account(
            c,
            user_id=caller.user_id,
            platform="twitter",
            external_id=user.id,
            username="ada",
            fullname="Ada",
            now=utcnow(),
            credentials=sealed,
        )
    )
    tweets = [fake.add_tweet(user, f"post {n}") for n in range(POSTS)]
    ids = await publish(
        db,
        caller,
        str(account),
        "twitter",
        [t.id for t in tweets],
        utcnow() - 60 * SECOND,
        {"twitter": (SECOND, 2 * SECOND)},
    )
    return db, ids


async def _open_checks(db: Database) -> int:
    def count(conn: Connection) -> int:
        query = select(func.count()).select_from(AnalyticsCheck)
        return int(conn.execute(query.where(AnalyticsCheck.due_at.is_not(None))).scalar_one())

    return await db.read(count)


async def test_killed_workers_run_each_check_once_and_lose_none(
    tmp_path: Path, fresh_pg_url: str
) -> None:
    if not OPENAPI.exists():
        pytest.skip(f"X's OpenAPI is not at {OPENAPI}")
    rng = random.Random(15)
    fake = FakeX()
    fake.lookup_seconds = 0.4
    fake.start()
    db, ids = await _seed(fresh_pg_url, fake)
    env = {
        "MASTHEAD_SECRET_KEY": SECRET,
        "MASTHEAD_DATABASE_URL": fresh_pg_url,
        "MASTHEAD_X_API_URL": fake.url,
        "MASTHEAD_ANALYTICS_LEASE_SECONDS": "3",
        "MASTHEAD_ANALYTICS_BATCH_SIZE": "200",
        "MASTHEAD_ANALYTICS_CONCURRENCY": "2",
        "MASTHEAD_LOG_LEVEL": "WARNING",
    }
    workers = start_workers(tmp_path, env)
    kills = 0
    try:
        progress = time.monotonic()
        seen = lookups = 0
        while kills < KILLS and time.monotonic() - progress < STALLED:
            await asyncio.sleep(rng.uniform(0.1, 0.5))
            if len(fake.calls("lookup")) > lookups:
                lookups, progress = len(fake.calls("lookup")), time.monotonic()
            if lookups - seen < 2:
                continue
            seen = lookups
            victim = rng.choice(workers)
            victim.kill()  # SIGKILL: no hand-back
            kills += 1
            await asyncio.to_thread(victim.start)
        progress, left = time.monotonic(), await _open_checks(db)
        while left and time.monotonic() - progress < STALLED:
            await asyncio.sleep(0.5)
            if (still := await _open_checks(db)) < left:
                left, progress = still, time.monotonic()

        def read(conn: Connection) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
            snapshots = conn.execute(
                select(
                    AnalyticsSnapshot.post_id, AnalyticsSnapshot.checkpoint, func.count()
                ).group_by(AnalyticsSnapshot.post_id, AnalyticsSnapshot.checkpoint)
            ).all()
            checks = conn.execute(
                select(
                    AnalyticsCheck.post_id, AnalyticsCheck.checkpoint, AnalyticsCheck.attempt
                ).where(AnalyticsCheck.done_at.is_not(None), AnalyticsCheck.last_error.is_(None))
            ).all()
            return [tuple(r) for r in snapshots], [tuple(r) for r in checks]

        snapshots, done = await db.read(read)
    finally:
        for worker in workers:
            worker.kill()
        await db.close()
        fake.stop()

    assert kills == KILLS
    expected = {(post_id, checkpoint) for post_id in ids for checkpoint in (0, 1)}
    assert {(p, c) for p, c, _ in snapshots} == expected
    assert {n for _, _, n in snapshots} == {1}, "a check stored two snapshots"
    assert {(p, c) for p, c, _ in done} == expected
    assert any(attempt > 1 for _, _, attempt in done), "no kill landed while checks ran"
    assert fake.invalid == []
