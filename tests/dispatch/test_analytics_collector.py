"""The metrics collector against a scripted reader (the `MetricsReader` seam), on both
engines: batching per account, snapshots, retries within the window, a platform's wait shared
through the budget blocks, a revoked token, a deleted post, a post missing from the answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from masthead.config import Settings
from masthead.dispatch.analytics import Collector, account_key, reads_key
from masthead.domain.analytics import RECONNECT
from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    MetricsResult,
    MetricsSnapshot,
    PostGone,
    PublishedPost,
    Publisher,
    Retryable,
    SentItem,
)
from masthead.security import Secrets
from masthead.store import accounts, analytics
from masthead.store import budgets as budget_store
from masthead.store.database import Database
from masthead.timeutil import utcnow
from tests.support.analytics import publish
from tests.support.harness import Caller, migrate, seed_account, seed_user

H = timedelta(hours=1)
SCHEDULES = {"webhook": (H, 24 * H)}


@dataclass
class Scripted(Publisher):
    """Answers each request with `script`'s next entry: an exception, or per-post results
    (default: a snapshot with the remote id's likes)."""

    platform = "webhook"
    metrics_batch: int = 2
    script: list[BaseException | dict[str, MetricsResult]] = field(default_factory=list)
    seen: list[list[str]] = field(default_factory=list)

    async def send(self, ctx: object, position: int, prepared: object) -> SentItem:
        raise AssertionError("not publishing here")

    async def fetch_metrics(
        self, ctx: AccountContext, posts: Sequence[PublishedPost]
    ) -> Mapping[str, MetricsResult]:
        self.seen.append([p.remote_id for p in posts])
        step = self.script.pop(0) if self.script else {}
        if isinstance(step, BaseException):
            raise step
        return {
            p.post_id: step.get(
                p.remote_id, MetricsSnapshot({"likesCount": p.remote_id}, {"likes": p.remote_id})
            )
            for p in posts
            if step.get(p.remote_id, True) is not None
        }


@dataclass
class World:
    db: Database
    caller: Caller
    account: str
    reader: Scripted
    start: datetime
    clock: list[datetime]

    def collector(self, tmp_path: Path) -> Collector:
        settings = Settings(data_dir=tmp_path)
        return Collector(
            self.db,
            {"webhook": self.reader},
            settings,
            Secrets(["k"]),
            clock=lambda: self.clock[0],
        )

    async def states(self, ids: list[str]) -> dict[str, analytics.CollectionState]:
        return await self.db.read(lambda c: analytics.collection_state(c, ids))


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    await migrate(database_url)
    db = Database(database_url)
    await db.start()
    caller = await seed_user(db, Secrets(["k"]), "collector@example.com")
    account = await seed_account(db, caller, "webhook")
    now = utcnow()
    yield World(db, caller, account, Scripted(), now, [now + 2 * H])
    await db.close()


async def _posts(world: World, remote_ids: list[str]) -> list[str]:
    return await publish(
        world.db, world.caller, world.account, "webhook", remote_ids, world.start, SCHEDULES
    )


async def test_due_checks_are_read_in_batches_per_account(world: World, tmp_path: Path) -> None:
    ids = await _posts(world, ["1", "2", "3", "4", "5"])
    collector = world.collector(tmp_path)
    assert await collector.run_once() == 5
    assert collector.requests == 3
    assert sorted(len(batch) for batch in world.reader.seen) == [1, 2, 2]
    assert await collector.run_once() == 0
    history = await world.db.read(lambda c: analytics.history(c, ids))
    assert [history[i][0].metrics for i in ids] == [{"likesCount": r} for r in "12345"]
    states = await world.states(ids)
    assert all(s.last_error is None and s.next_fetch_at is not None for s in states.values())


async def test_a_platform_wait_is_shared_and_the_check_retried_in_its_window(
    world: World, tmp_path: Path
) -> None:
    [post_id] = await _posts(world, ["1"])
    world.reader.script = [Retryable("Too Many Requests", retry_after=120)]
    collector = world.collector(tmp_path)
    await collector.run_once()
    key = reads_key("webhook", int(world.account))
    blocked = await world.db.read(lambda c: budget_store.blocked_until(c, [key]))
    assert blocked is not None and blocked > time.time() + 100
    publishing = account_key("webhook", int(world.account))
    assert await world.db.read(lambda c: budget_store.blocked_until(c, [publishing])) is None
    state = (await world.states([post_id]))[post_id]
    assert state.last_error == "Too Many Requests"
    assert state.next_fetch_at == world.clock[0] + timedelta(seconds=120)
    world.clock[0] += timedelta(seconds=121)
    await collector.run_once()  # still blocked for every worker: no request
    assert collector.requests == 1
    world.clock[0] += 6 * H  # past the retry window: recorded, next checkpoint goes ahead
    await world.db.write(lambda c: budget_store.forget_before(c, time.time() + 10**6, 0))
    world.reader.script = [Retryable("Service Unavailable")]
    await collector.run_once()
    state = (await world.states([post_id]))[post_id]
    assert state.last_error == "Service Unavailable"
    assert state.next_fetch_at is not None and state.next_fetch_at > world.start + 24 * H


async def test_a_revoked_token_stops_the_accounts_checks_until_reconnected(
    world: World, tmp_path: Path
) -> None:
    ids = await _posts(world, ["1", "2", "3"])
    world.reader.script = [AccountDisconnected("Token revoked")]
    collector = world.collector(tmp_path)
    await collector.run_once()
    assert collector.requests == 1
    account = await world.db.read(lambda c: accounts.account_by_id(c, int(world.account)))
    assert account is not None and account.status == "disconnected"
    states = await world.states(ids)
    assert {(s.last_error, s.next_fetch_at) for s in states.values()} == {(RECONNECT, None)}
    world.clock[0] += 48 * H
    assert await collector.run_once() == 0


async def test_a_deleted_post_ends_and_a_missing_answer_is_retried(
    world: World, tmp_path: Path
) -> None:
    gone, missing, fine = await _posts(world, ["1", "2", "3"])
    world.reader.metrics_batch = 3
    world.reader.script = [{"1": PostGone("404"), "2": None}]  # type: ignore[dict-item]
    collector = world.collector(tmp_path)
    await collector.run_once()
    states = await world.states([gone, missing, fine])
    assert (states[gone].last_error, states[gone].next_fetch_at) == (
        "Post no longer exists on webhook",
        None,
    )
    assert states[missing].last_error == "webhook did not answer for this post"
    assert states[missing].next_fetch_at == world.clock[0] + timedelta(seconds=30)
    assert states[fine].last_error is None


async def test_a_wait_publishing_was_told_holds_reads_back(world: World, tmp_path: Path) -> None:
    [post_id] = await _posts(world, ["1"])
    until = time.time() + 300
    key = account_key("webhook", int(world.account))
    await world.db.write(lambda c: budget_store.block(c, key, until))
    collector = world.collector(tmp_path)
    await collector.run_once()
    assert collector.requests == 0
    state = (await world.states([post_id]))[post_id]
    assert state.next_fetch_at is not None
    assert state.next_fetch_at >= world.clock[0] + timedelta(seconds=290)


async def test_a_refresh_is_read_at_once_outside_the_schedule(world: World, tmp_path: Path) -> None:
    [post_id] = await _posts(world, ["9"])
    world.clock[0] = world.start + timedelta(minutes=5)  # no checkpoint due yet
    await world.db.write(
        lambda c: analytics.request_refresh(
            c,
            post_id=post_id,
            account_id=int(world.account),
            platform="webhook",
            now=world.clock[0],
        )
    )
    collector = world.collector(tmp_path)
    assert await collector.run_once() == 1
    history = await world.db.read(lambda c: analytics.history(c, [post_id]))
    assert [s.metrics for s in history[post_id]] == [{"likesCount": "9"}]
    assert await collector.run_once() == 0
