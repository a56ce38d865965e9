"""The embedded default (one `masthead serve` on SQLite, API and worker in one process) under
crashes and deploys: killed with SIGKILL at random moments while 2,000 posts go out, and
stopped with SIGTERM while posts are in flight. No post is lost; only a delivery cut by the
crash or the stop is repeated, marked as a redelivery."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from masthead.domain.states import State
from masthead.store.database import Database
from tests.support.crashes import (
    SETTLED,
    assert_each_delivered,
    create_posts,
    kill_while_publishing,
    read_outcomes,
    seed_webhook_account,
    wait_settled,
)
from tests.support.harness import webhook_post
from tests.support.receiver import Fault, Receiver
from tests.support.server import ServerProcess

SECRET = "embedded-restart-secret"
POSTS = 2000
KILLS = 4
WINDOW_SECONDS = 20.0
"""The posts fall due over this window, so that kills land while they are going out."""
DRAINED = 8
"""In-flight posts whose webhook answers within the shutdown's drain (10 s)."""
CUT = 8
"""In-flight posts whose webhook holds the request past the drain: they are handed back."""
CONCURRENCY = 16
LEASE_SECONDS = 120


def _server(tmp_path: Path, receiver: Receiver, **env: str) -> ServerProcess:
    return ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_FETCH_ALLOW": receiver.allow,
            "MASTHEAD_API_RATE_LIMITS": "off",
            **env,
        },
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    """The server's SQLite file, which the tests read directly."""
    return f"sqlite:///{tmp_path / 'masthead.db'}"


@pytest.mark.parametrize("seed", [1, 2])
async def test_killed_embedded_server_loses_nothing_and_repeats_only_cut_deliveries(
    tmp_path: Path, receiver: Receiver, database: str, seed: int
) -> None:
    rng = random.Random(seed)
    receiver.script.extend(Fault(delay=rng.uniform(0.01, 0.08)) for _ in range(POSTS * 2))
    caller, account = await seed_webhook_account(database, SECRET, "kill@example.com")
    server = _server(
        tmp_path,
        receiver,
        # A short lease: the restarted server takes the dead one's posts over quickly.
        MASTHEAD_DISPATCH_LEASE_SECONDS="3",
        MASTHEAD_DISPATCH_CONCURRENCY=str(CONCURRENCY),
        MASTHEAD_LOG_LEVEL="WARNING",
    )
    db = Database(database)
    await db.start()
    try:
        await asyncio.to_thread(server.start)
        start = datetime.now(UTC) + timedelta(seconds=2)
        step = timedelta(seconds=WINDOW_SECONDS / POSTS)
        bodies = [
            webhook_post(account, receiver.url, scheduledTime=(start + n * step).isoformat())
            for n in range(POSTS)
        ]
        created = await create_posts(server, caller, bodies)
        kills = await kill_while_publishing(rng, [server], receiver, KILLS)
        outcomes = await wait_settled(db, timeout=120)
    finally:
        server.kill()
        await db.close()

    assert kills == KILLS
    assert {o.id for o in outcomes} == set(created)  # every post answered 201 is there
    # At most the posts in flight at each kill are delivered again.
    assert_each_delivered(outcomes, receiver.deliveries, POSTS, repeats=KILLS * CONCURRENCY)
    assert any(o.attempt > 1 for o in outcomes), "no kill landed while posts were in flight"


async def test_graceful_restart_hands_back_in_flight_posts(
    tmp_path: Path, receiver: Receiver, database: str
) -> None:
    posts = 200
    # Alternate quick and stuck answers; the server sends no more than DRAINED + CUT at once.
    for _ in range(CUT):
        receiver.script.extend([Fault(delay=2.0), Fault(delay=20.0)])
    caller, account = await seed_webhook_account(database, SECRET, "term@example.com")
    server = _server(
        tmp_path,
        receiver,
        MASTHEAD_DISPATCH_LEASE_SECONDS=str(LEASE_SECONDS),
        MASTHEAD_DISPATCH_CONCURRENCY=str(DRAINED + CUT),
    )
    db = Database(database)
    await db.start()
    try:
        await asyncio.to_thread(server.start)
        created = await create_posts(
            server, caller, [webhook_post(account, receiver.url) for _ in range(posts)]
        )
        assert len(await receiver.wait_for(DRAINED + CUT, timeout=30)) >= DRAINED + CUT

        stopping = time.monotonic()
        status = await asyncio.to_thread(server.terminate, 30)
        stopped_in = time.monotonic() - stopping
        # uvicorn re-raises the SIGTERM it caught once its shutdown is complete.
        assert status in (0, -signal.SIGTERM), status
        assert "Application shutdown complete" in server.log.read_text()
        assert stopped_in < 25, stopped_in  # the drain's 10 s, then the hand-back

        stopped = await read_outcomes(db)
        assert [o for o in stopped if o.lease_owner is not None] == []  # no lease left behind
        assert sum(o.state == "published" for o in stopped) >= DRAINED  # the drain let them end
        unfinished = [o for o in stopped if o.state not in SETTLED]
        # The claim's attempt was given back: a shutdown is not a failed attempt.
        assert [o for o in unfinished if o.attempt != 0] == []
        handed_back = [o for o in unfinished if o.state == State.IN_PROGRESS]
        assert len(handed_back) == CUT, stopped  # the posts whose requests were cut

        await asyncio.to_thread(server.start)
        restarted = time.monotonic()
        # Well inside the lease: handed-back posts are taken at once, not when it ends.
        outcomes = await wait_settled(db, timeout=LEASE_SECONDS / 2)
        settled_in = time.monotonic() - restarted
    finally:
        server.kill()
        await db.close()

    assert {o.id for o in outcomes} == set(created)
    assert_each_delivered(outcomes, receiver.deliveries, posts, repeats=CUT)
    assert settled_in < LEASE_SECONDS / 2, settled_in
    # Cut mid-request, a handed-back post cannot know its answer: it is delivered again.
    delivered = Counter(d.headers["x-masthead-delivery"] for d in receiver.deliveries)
    assert {post_id for post_id, n in delivered.items() if n > 1} == {o.id for o in handed_back}
    assert [o for o in outcomes if o.attempt != 1] == []  # each claimed once, as counted
