"""Invariant 2 for X across a real crash: `masthead serve` dies after POST /2/tweets left and
before X's answer came back; the next start finds the post on X instead of posting again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.twitter import TwitterPublisher
from masthead.store.database import Database
from tests.fakes.x import FakeX
from tests.platforms.twitter.conftest import x_post
from tests.support.crashes import (
    crash_server,
    create_posts,
    kill_once_sent,
    read_in_flight,
    restarted_state,
    seed_connected,
    wait_settled,
)
from tests.support.harness import Caller
from tests.support.server import ServerProcess

SECRET = "x-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_x: FakeX) -> Iterator[ServerProcess]:
    process = crash_server(
        tmp_path,
        SECRET,
        {
            "MASTHEAD_X_API_URL": fake_x.url,
            "MASTHEAD_X_CLIENT_ID": fake_x.client_id,
            "MASTHEAD_X_CLIENT_SECRET": fake_x.client_secret,
        },
    )
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakeX) -> tuple[Caller, str]:
    publisher = TwitterPublisher(api_url=fake.url, app=None)
    credentials = credentials_from_token_response(fake.issue_tokens(fake.add_user("kay")))
    return await seed_connected(server, SECRET, publisher, credentials)


async def test_a_crash_after_the_post_left_is_reconciled_with_x_not_reposted(
    server: ServerProcess, fake_x: FakeX
) -> None:
    caller, account = await _seed(server, fake_x)
    fake_x.fail_next("tweets", "slow_after")
    post = x_post(account, "before the crash")
    post_id = await kill_once_sent(server, caller, post, lambda: fake_x.tweets)

    body = await restarted_state(server, caller, post_id)

    [tweet] = fake_x.tweets.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == f"https://x.com/kay/status/{tweet.id}"
    assert len(fake_x.calls("tweets")) == 1
    assert len(fake_x.calls("timeline")) == 1


BURST = 300
SENDING = 30
"""Send slots for X: far fewer than the posts the worker claims at once."""


async def test_a_kill_during_a_burst_leaves_unknown_only_the_requests_in_flight(
    server: ServerProcess, fake_x: FakeX
) -> None:
    """Issue #20, class 3, on a platform that is never re-sent: when reconcile cannot tell
    (X's timeline is down after the restart), the unknown outcomes are at most the requests
    that were in flight at the kill; every other post is published, and none twice."""
    fake_x.slow_seconds = 0.3  # each post is made at once and answered a moment later
    fake_x.faults["tweets"].extend(["slow_after"] * BURST)
    caller, account = await _seed(server, fake_x)
    server.env.update(
        {
            "MASTHEAD_RATE_BUDGETS": "twitter.account=0/1s,twitter.app=0/1s",
            "MASTHEAD_DISPATCH_SEND_CONCURRENCY": str(SENDING),
            "MASTHEAD_LOG_LEVEL": "WARNING",
        }
    )
    db = Database(f"sqlite:///{server.data_dir / 'masthead.db'}")
    await db.start()
    try:
        await asyncio.to_thread(server.start)
        at = (datetime.now(UTC) + timedelta(seconds=6)).isoformat()
        bodies = [{**x_post(account, f"burst {n}"), "scheduledTime": at} for n in range(BURST)]
        await create_posts(server, caller, bodies)
        while len(fake_x.tweets) < 2 * SENDING:
            await asyncio.sleep(0.01)
        server.kill()
        in_flight = await read_in_flight(db)
        fake_x.faults["timeline"].extend(["unavailable"] * BURST)  # reconcile cannot tell
        await asyncio.to_thread(server.start)
        outcomes = await wait_settled(db, timeout=120)
    finally:
        server.kill()
        await db.close()

    assert 0 < len(in_flight) <= SENDING, len(in_flight)
    unknown = {o.id for o in outcomes if o.outcome == "unknown"}
    assert unknown <= in_flight, (len(unknown), len(in_flight))
    assert {o.state for o in outcomes if o.id not in unknown} == {"published"}
    texts = Counter(tweet.text for tweet in fake_x.tweets.values())
    assert max(texts.values()) == 1  # never sent twice
    assert len(texts) >= len(outcomes) - len(unknown)
