"""The comment poller: what it stores, when it looks next, and when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from masthead.dispatch.comment_polls import CommentPoller
from masthead.platforms.base import PostGone, Retryable
from masthead.store import comments as store
from masthead.store.models import Account, Comment, CommentPoll
from masthead.timeutil import utcnow
from tests.conftest import make_settings
from tests.support.comments import ScriptedComments, remote, seed_post
from tests.support.harness import Caller, Harness, running_app


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_app(make_settings(tmp_path), run_worker=False) as running:
        yield running


async def polled_post(app: Harness, email: str = "ada@example.com") -> tuple[Caller, str, str]:
    caller = await app.user(email)
    account = await app.account(caller, "instagram")
    post = await seed_post(app.db, caller, account, "instagram")
    now = utcnow()
    await app.db.write(lambda c: store.after_publish(c, [post], now - timedelta(hours=2)))
    return caller, account, post


async def next_poll(app: Harness, post: str) -> object:
    return await app.db.read(
        lambda c: c.execute(
            select(CommentPoll.next_poll_at).where(CommentPoll.post_id == post)
        ).scalar()
    )


def poller(app: Harness, platform: ScriptedComments) -> CommentPoller:
    ctx = app.ctx
    return CommentPoller(ctx.db, {"instagram": platform}, ctx.settings, ctx.secrets)


async def test_comments_are_stored_and_the_next_poll_follows_the_schedule(app: Harness) -> None:
    caller, _, post = await polled_post(app)
    platform = ScriptedComments()
    platform.listed = [remote("181"), remote("182", parent="181")]
    before = utcnow()
    assert await poller(app, platform).poll_due() == 1
    listed = await app.client.get(f"/v2/comments?postId={post}", headers=caller.headers)
    assert len(listed.json()["items"]) == 2
    when = await next_poll(app, post)
    assert isinstance(when, type(before)) and when >= before + timedelta(minutes=10)
    assert await poller(app, platform).poll_due() == 0, "not due again before its interval"


async def test_a_post_gone_stops_polling_and_a_rate_limit_waits(app: Harness) -> None:
    _, _, post = await polled_post(app)
    platform = ScriptedComments()
    platform.listed = PostGone("deleted")
    assert await poller(app, platform).poll_due() == 1
    assert await next_poll(app, post) is None

    _, _, other = await polled_post(app, "bob@example.com")

    class Limited(ScriptedComments):
        async def list_comments(self, *args: object) -> object:  # type: ignore[override]
            raise Retryable("slow down", retry_after=60)

    before = utcnow()
    assert await poller(app, Limited()).poll_due() == 1
    when = await next_poll(app, other)
    assert isinstance(when, type(before))
    assert before + timedelta(seconds=59) <= when <= before + timedelta(minutes=10)


async def test_a_disconnected_account_keeps_its_schedule_without_calls(app: Harness) -> None:
    _, account, post = await polled_post(app)
    await app.db.write(
        lambda c: c.execute(
            update(Account).where(Account.id == int(account)).values(status="disconnected")
        )
    )
    platform = ScriptedComments()
    platform.listed = [remote("181")]
    assert await poller(app, platform).poll_due() == 1
    assert await next_poll(app, post) is not None
    stored = await app.db.read(lambda c: c.execute(select(func.count()).select_from(Comment)))
    assert stored.scalar() == 0, "nothing read for a disconnected account"
