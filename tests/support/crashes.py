"""What the crash and restart tests share: a user with a webhook account (or with an account a
platform's publisher connects), random SIGKILLs of server processes while posts go out, the
stored outcome of every post, and the verdict that no post was lost and only deliveries cut by
a crash were repeated."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Connection

from masthead.platforms.base import Publisher
from masthead.platforms.webhook import REDELIVERY_HEADER
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store import posts
from masthead.store.database import Database
from masthead.store.models import Post, PostItem
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


async def seed_connected(
    server: ServerProcess, secret: str, publisher: Publisher, credentials: dict[str, Any]
) -> tuple[Caller, str]:
    """Migrate `server`'s database and give it a user with the account `publisher` connects
    from `credentials`, as `masthead accounts add` does; the publisher is closed after."""
    url = f"sqlite:///{server.data_dir / 'masthead.db'}"
    await migrate(url)
    db = Database(url)
    await db.start()
    try:
        caller = await seed_user(db, Secrets([secret]), "crash@example.com")
        account_id, _ = await connect_account(
            db, Secrets([secret]), publisher, user_id=caller.user_id, credentials=credentials
        )
    finally:
        await publisher.aclose()
        await db.close()
    return caller, str(account_id)


def crash_server(tmp_path: Path, secret: str, env: dict[str, str]) -> ServerProcess:
    """A `masthead serve` to kill: the API's rate limits off and short leases, so that the
    restarted server takes the killed one's work over quickly; `env` adds the platform's."""
    return ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": secret,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
            **env,
        },
    )


async def kill_once_sent(
    server: ServerProcess,
    caller: Caller,
    body: dict[str, Any],
    sent: Callable[[], object],
    *,
    within: float = 30.0,
) -> str:
    """Start `server`, create the post `body`, and SIGKILL the server as soon as `sent()` says
    the platform has acted on it, while the server still waits for the answer (or after
    `within` s); returns the post's id."""
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post("/v2/posts", json=body)
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + within
    while not sent() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    server.kill()
    return str(response.json()["postSubmissionId"])


async def restarted_state(
    server: ServerProcess, caller: Caller, post_id: str, *, within: float = 20.0
) -> dict[str, object]:
    """Start `server` again after a kill; the post's status once it settles (`final_state`)."""
    await asyncio.to_thread(server.start)
    return await final_state(server, caller, post_id, within=within)


async def final_state(
    server: ServerProcess, caller: Caller, post_id: str, *, within: float = 20.0
) -> dict[str, object]:
    """The post's status once published or failed (or whatever it is after `within` s)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        while True:
            body: dict[str, object] = (await client.get(f"/v2/posts/{post_id}")).json()
            if body.get("status") in SETTLED or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.05)


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


async def create_posts(
    server: ServerProcess, caller: Caller, bodies: list[dict[str, Any]]
) -> list[str]:
    """Through the API, a few requests at a time; returns the post ids, all answered 201."""
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=caller.headers, timeout=30
    ) as client:

        async def create(body: dict[str, Any]) -> str:
            async with gate:
                response = await client.post("/v2/posts", json=body)
            assert response.status_code == 201, response.text
            return str(response.json()["postSubmissionId"])

        return await asyncio.gather(*(create(body) for body in bodies))


async def read_outcomes(db: Database) -> list[Outcome]:
    def read(conn: Connection) -> list[Outcome]:
        query = select(
            Post.id, Post.state, Post.outcome, Post.error_message, Post.attempt, Post.lease_owner
        )
        return [Outcome(*row) for row in conn.execute(query)]

    return await db.read(read)


async def read_in_flight(db: Database) -> set[str]:
    """The posts with a request on its way: a sending mark and no answer stored. Read after a
    kill, these are exactly the posts whose outcome the crash left open."""

    def read(conn: Connection) -> set[str]:
        query = select(PostItem.post_id).where(PostItem.state == "sending")
        return set(conn.execute(query).scalars())

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


def assert_each_delivered(
    outcomes: Sequence[Outcome], deliveries: Sequence[Delivery], posts: int, repeats: int
) -> Counter[str]:
    """Every post is published and reached the receiver at least once (a webhook is delivered
    at least once: ARCHITECTURE.md invariant 2). A delivery is repeated only as a marked
    redelivery of one that was in flight at a crash, so at most `repeats` ids arrive twice.
    Returns the count of posts by state."""
    delivered = Counter(d.headers["x-masthead-delivery"] for d in deliveries)
    states = Counter(o.state for o in outcomes)
    assert len(outcomes) == posts
    assert set(states) == {"published"}, states  # nothing left behind, nothing unknown
    assert set(delivered) == {o.id for o in outcomes}
    first: set[str] = set()
    for delivery in deliveries:
        post_id = delivery.headers["x-masthead-delivery"]
        if post_id in first:
            assert delivery.headers.get(REDELIVERY_HEADER.lower()) == "1", delivery.headers
        first.add(post_id)
    twice = [post_id for post_id, count in delivered.items() if count > 1]
    assert len(twice) <= repeats, (len(twice), repeats)
    return states
