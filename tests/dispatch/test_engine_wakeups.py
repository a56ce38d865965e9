"""When the engine wakes for posts announced while it is awake (dispatch/engine.Dispatcher.wake):
claiming or reading its next wake-up, between two sleeps."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from masthead.store import posts, queue
from masthead.timeutil import utcnow
from tests.support.harness import Harness, webhook_post
from tests.support.receiver import Receiver


def count_claims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    claims: list[int] = []
    real = queue.claim

    def counted(*args: Any, **kwargs: Any) -> list[queue.ClaimedPost]:
        claims.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(queue, "claim", counted)
    return claims


async def test_posts_for_later_announced_while_it_is_awake_do_not_keep_it_claiming(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under steady API traffic every group commit announced posts while the engine was
    awake, and each announcement sent it round claiming and reading once more."""
    dispatcher = harness.ctx.dispatcher
    assert dispatcher is not None
    await asyncio.sleep(0.3)  # its first round since start-up done: asleep
    claims = count_claims(monkeypatch)
    real = queue.next_wakeup
    reads: list[int] = []

    def read_while_posts_arrive(conn: Connection) -> datetime | None:
        reads.append(1)
        if len(reads) <= 5:
            dispatcher.wake(utcnow() + timedelta(days=30))  # a post stored meanwhile
        return real(conn)

    monkeypatch.setattr(queue, "next_wakeup", read_while_posts_arrive)
    dispatcher.wake()
    await asyncio.sleep(0.5)
    assert (len(claims), len(reads)) == (1, 1)


async def test_a_post_announced_while_it_is_awake_ends_its_next_sleep_in_time(
    harness: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post committed just after the engine's read of its next wake-up began is known only
    by its announcement: the sleep that follows ends at its due time, not 30 s later."""
    dispatcher = harness.ctx.dispatcher
    assert dispatcher is not None
    caller = await harness.user()
    account = await harness.account(caller)
    due = utcnow() + timedelta(seconds=1)
    body = webhook_post(account, receiver.url)
    post = posts.NewPost(
        id=posts.new_post_id(),
        user_id=caller.user_id,
        account_id=int(account),
        platform="webhook",
        subaccount_id=None,
        draft=body["post"],
        scheduled_at=due,
    )
    real = queue.next_wakeup
    reads: list[int] = []

    def read_that_missed_it(conn: Connection) -> datetime | None:
        reads.append(1)
        if len(reads) == 1:
            dispatcher.wake(due)
            return None
        return real(conn)

    monkeypatch.setattr(queue, "next_wakeup", read_that_missed_it)
    await harness.db.write(lambda conn: posts.insert_post(conn, post, utcnow()))
    dispatcher.wake()
    status = await harness.wait_status(caller, post.id, {"published", "failed"}, timeout=8.0)
    assert status["status"] == "published", status
