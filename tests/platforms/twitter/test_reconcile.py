"""After a crash between the sending mark and the stored answer, the engine asks the
publisher to reconcile: X has no idempotency key, so the post is looked up among the
account's recent posts by its text and its thread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, PublishContext, SentItem
from masthead.platforms.twitter import TwitterPublisher
from tests.fakes.x import FakeX
from tests.support.harness import Harness
from tests.support.platforms import connected_account


@pytest.fixture
async def publisher(x_app: Harness) -> AsyncIterator[TwitterPublisher]:
    publisher = x_app.ctx.publishers["twitter"]
    assert isinstance(publisher, TwitterPublisher)
    yield publisher


async def _ctx(harness: Harness, fake: FakeX, *texts: str) -> PublishContext:
    caller = await harness.user()
    user = fake.add_user("ida")
    account = int(await connected_account("twitter", harness, caller, fake, user))
    return PublishContext(
        post_id="p",
        account=AccountInfo(account, "twitter", user.id, user.username),
        target={"targetType": "twitter"},
        items=tuple(ThreadItem(t) for t in texts),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
    )


async def test_reconcile_finds_a_post_that_went_out_before_the_crash(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    ctx = await _ctx(x_app, fake_x, "a & b <3")
    prepared = await publisher.prepare(ctx, 0)
    sent = await publisher.send(ctx, 0, prepared)

    found = await publisher.reconcile(ctx, 0, prepared)

    assert found == sent
    assert len(fake_x.calls("tweets")) == 1


async def test_reconcile_of_a_thread_item_finds_the_reply_in_its_thread(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    ctx = await _ctx(x_app, fake_x, "root", "the reply")
    prepared = await publisher.prepare(ctx, 0)
    root = await publisher.send(ctx, 0, prepared)
    thread_ctx = _with_previous(ctx, (root,))
    reply = await publisher.send(thread_ctx, 1, prepared)

    assert await publisher.reconcile(thread_ctx, 1, prepared) == reply


async def test_reconcile_of_a_thread_item_ignores_the_same_text_outside_the_thread(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    ctx = await _ctx(x_app, fake_x, "root", "same words")
    prepared = await publisher.prepare(ctx, 0)
    root = await publisher.send(ctx, 0, prepared)
    await publisher.send(_replace_items(ctx, "same words"), 0, prepared)  # a standalone post

    assert await publisher.reconcile(_with_previous(ctx, (root,)), 1, prepared) is None


async def test_reconcile_says_unknown_when_x_shows_no_such_post(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    ctx = await _ctx(x_app, fake_x, "never arrived")
    assert await publisher.reconcile(ctx, 0, await publisher.prepare(ctx, 0)) is None


def _replace_items(ctx: PublishContext, *texts: str) -> PublishContext:
    return PublishContext(
        ctx.post_id,
        ctx.account,
        ctx.target,
        tuple(ThreadItem(t) for t in texts),
        ctx.scheduled_at,
        ctx.signing_secret,
        ctx.previous,
        ctx.credentials,
    )


def _with_previous(ctx: PublishContext, previous: tuple[SentItem, ...]) -> PublishContext:
    return PublishContext(
        ctx.post_id,
        ctx.account,
        ctx.target,
        ctx.items,
        ctx.scheduled_at,
        ctx.signing_secret,
        previous,
        ctx.credentials,
    )
