"""What the crash and restart tests share: a user with a webhook account, random SIGKILLs of
server processes while posts go out, the stored outcome of every post, and the verdict that no
post was lost or delivered twice."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection

from masthead.domain.states import OUTCOME_UNKNOWN_PREFIX
from masthead.security import Secrets
from masthead.store import posts
from masthead.store.database import Database
from masthead.store.models import Post
from masthead.timeutil import utcnow
from tests.support.harness import Caller, migrate, seed_account, seed_user
from tests.support.receiver import Delivery, Receiver
from tests.support.server import ServerProcess

SETTLED = ("published", "failed")


async def seed_webhook_account(url: str, secret: str, email: str) -> tuple[Caller, str]:
    """Migrate the database at `url` and give it a user with one webhook account."""
    await migrate(url)
    db = Database(url)
    await db.start()
    try:
        caller = await seed_user(db, Secrets([secret]), email)
        account = await seed_account(db, caller, "webhook")
    finally:
        await db.close()
    return caller, account


async def insert_webhook_posts(
    db: Database, caller: Caller, account: str, hook: str, count: int
) -> None:
    """`count` immediate webhook posts stored at once, as if accepted just before a burst."""
    draft = {
        "accountId": account,
        "content": {"text": "hello", "mediaUrls": [], "platform": "other"},
        "target": {"targetType": "webhook", "url": hook},
    }

    def insert(conn: Connection) -> None:
        now = utcnow()
        for _ in range(count):
            post = posts.NewPost(
                id=str(uuid.uuid4()),
                user_id=caller.user_id,
                account_id=int(account),
                platform="webhook",
                subaccount_id=None,
                draft=draft,
                scheduled_at=None,
            )
            posts.insert_post(conn, post, now)

    await db.write(insert)


def start_workers(root: Path, env: dict[str, str], count: int = 2) -> list[ServerProcess]:
    """`count` `masthead worker` processes, each with its own data dir under `root`."""
    workers = [ServerProcess(root / f"w{n}", env, ("worker",)) for n in range(count)]
    for worker in workers:
        worker.data_dir.mkdir()
        worker.start()
    return workers


class Outcome(NamedTuple):
    id: str
    state: str
    outcome: str | None
    error: str | None
    attempt: int
    lease_owner: str | None


async def read_outcomes(db: Database) -> list[Outcome]:
    def read(conn: Connection) -> list[Outcome]:
        query = select(
            Post.id, Post.state, Post.outcome, Post.error_message, Post.attempt, Post.lease_owner
        )
        return [Outcome(*row) for row in conn.execute(query)]

    return await db.read(read)


async def wait_settled(db: Database, timeout: float) -> list[Outcome]:
    """Every post's outcome once all are published or failed, or as they stand at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        outcomes = await read_outcomes(db)
        if all(o.state in SETTLED for o in outcomes) or time.monotonic() > deadline:
            return outcomes
        await asyncio.sleep(0.2)


async def kill_while_publishing(
    rng: random.Random,
    servers: Sequence[ServerProcess],
    receiver: Receiver,
    kills: int,
    timeout: float = 120.0,
) -> int:
    """SIGKILL one of `servers` at random moments and start it again at once, `kills` times
    or until `timeout`; returns the kills done. Each kill waits until 100 more posts have gone
    out since the last, so that it lands while posts are in flight."""
    deadline = time.monotonic() + timeout
    seen = 0
    done = 0
    while done < kills and time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        if len(receiver.deliveries) - seen < 100:
            continue
        seen = len(receiver.deliveries)
        victim = rng.choice(servers)
        victim.kill()  # SIGKILL: no hand-back, no clean-up
        done += 1
        await asyncio.to_thread(victim.start)
    return done


def assert_none_lost_none_twice(
    outcomes: Sequence[Outcome], deliveries: Sequence[Delivery], posts: int
) -> Counter[str]:
    """Every post is published and was delivered exactly once, or failed as outcome unknown
    with a reason (only a crash between sending and storing the answer may leave doubt), and
    no delivery id reached the receiver twice. Returns the count of posts by state."""
    delivered = Counter(d.headers["x-masthead-delivery"] for d in deliveries)
    states = Counter(o.state for o in outcomes)
    assert len(outcomes) == posts
    assert set(states) <= set(SETTLED), states  # nothing left behind
    assert [post for post, count in delivered.items() if count > 1] == []  # none twice
    assert set(delivered) <= {o.id for o in outcomes}
    for o in outcomes:
        if o.state == "published":
            assert delivered[o.id] == 1, o
        else:
            assert o.outcome == "unknown", o
            assert o.error and o.error.startswith(OUTCOME_UNKNOWN_PREFIX), o
    return states
