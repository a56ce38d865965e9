"""Threads replies as comments against the fake Threads: read through the conversation edge
(flattened one level deep), written as reply containers then threads_publish, every fault
ending as the engine needs, a lost answer found again by `find_comment`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from masthead.domain.rules import Count
from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    CommentDraft,
    OutcomeUnknown,
    Permanent,
    PostGone,
    PublishedPost,
    Retryable,
)
from masthead.platforms.threads import SPEC, ThreadsPublisher
from masthead.timeutil import iso, utcnow
from tests.fakes.threads import FakeThreads, Post, User
from tests.support.comments import by_id, comment_limit
from tests.support.metrics import account


@pytest.fixture
async def threads(fake_threads: FakeThreads) -> AsyncIterator[ThreadsPublisher]:
    publisher = ThreadsPublisher(
        api_url=fake_threads.url, app=None, poll_seconds=0.05, processing_limit=5.0
    )
    yield publisher
    await publisher.aclose()


@pytest.fixture
def ada(fake_threads: FakeThreads) -> User:
    return fake_threads.add_user("ada")


@pytest.fixture
def root(fake_threads: FakeThreads, ada: User) -> Post:
    """Ada's launch post, that the comments are under."""
    return fake_threads.post(ada, "Our launch")


@pytest.fixture
def ctx(fake_threads: FakeThreads, ada: User) -> AccountContext:
    """Ada's account as Masthead holds it (Threads' long-lived token, no refresh token)."""
    body = fake_threads.issue_token(ada)
    credentials = {
        "access_token": body["access_token"],
        "expires_at": iso(utcnow() + timedelta(seconds=body["expires_in"])),
        "issued_at": iso(utcnow()),
    }
    return account("threads", credentials, ada.id, ada.username, **credentials)


def published(post: Post) -> PublishedPost:
    return PublishedPost("p1", post.id, post.permalink, post.timestamp)


def test_threads_counts_comments_as_posts(threads: ThreadsPublisher) -> None:
    assert comment_limit(threads, SPEC) == (500, Count.EMOJI_AS_BYTES)


async def test_replies_at_any_depth_are_read_under_their_top_level_reply(
    threads: ThreadsPublisher, fake_threads: FakeThreads, ada: User, root: Post, ctx: AccountContext
) -> None:
    bob = fake_threads.add_user("bob")
    first = fake_threads.post(bob, "Congrats", reply_to=root.id)
    answer = fake_threads.post(ada, "Thanks", reply_to=first.id)
    deeper = fake_threads.post(bob, "Any time", reply_to=answer.id)
    fake_threads.post(bob, "Unrelated")
    found = by_id(await threads.list_comments(ctx, published(root), None))
    assert set(found) == {first.id, answer.id, deeper.id}
    assert found[first.id].parent_platform_comment_id is None
    assert found[answer.id].parent_platform_comment_id == first.id
    assert found[deeper.id].parent_platform_comment_id == first.id
    assert [found[p.id].is_author for p in (first, answer, deeper)] == [False, True, False]
    assert (found[first.id].author_username, found[first.id].text) == ("bob", "Congrats")


async def test_a_long_conversation_is_read_page_by_page(
    threads: ThreadsPublisher, fake_threads: FakeThreads, root: Post, ctx: AccountContext
) -> None:
    bob = fake_threads.add_user("bob")
    for n in range(130):
        fake_threads.post(bob, f"reply {n}", reply_to=root.id)
    found = await threads.list_comments(ctx, published(root), None)
    assert len(by_id(found)) == 130
    assert len(fake_threads.calls("conversation")) == 2


async def test_a_deleted_post_is_gone(
    threads: ThreadsPublisher, fake_threads: FakeThreads, root: Post, ctx: AccountContext
) -> None:
    del fake_threads.posts[root.id]
    assert isinstance(await threads.list_comments(ctx, published(root), None), PostGone)
    with pytest.raises(Permanent, match="is not a Threads post"):
        await threads.send_comment(ctx, published(root), CommentDraft("Hello?"))


async def test_a_top_level_comment_and_a_reply_are_published_replies(
    threads: ThreadsPublisher, fake_threads: FakeThreads, ada: User, root: Post, ctx: AccountContext
) -> None:
    bob = fake_threads.add_user("bob")
    question = fake_threads.post(bob, "When?", reply_to=root.id)
    top = await threads.send_comment(ctx, published(root), CommentDraft("Thanks all 🎉"))
    answer = await threads.send_comment(ctx, published(root), CommentDraft("Soon", question.id))
    made, reply = fake_threads.posts[top], fake_threads.posts[answer]
    assert (made.reply_to, made.text, made.user_id) == (root.id, "Thanks all 🎉", ada.id)
    assert (reply.reply_to, reply.root) == (question.id, root.id)


async def test_rate_limits_are_retryable(
    threads: ThreadsPublisher, fake_threads: FakeThreads, ada: User, root: Post, ctx: AccountContext
) -> None:
    fake_threads.fail_next("conversation", "throttled")
    with pytest.raises(Retryable):
        await threads.list_comments(ctx, published(root), None)
    other = ThreadsPublisher(api_url=fake_threads.url, app=None, poll_seconds=0.05)
    fake_threads.fail_next("publish", "rate_limit")
    try:
        with pytest.raises(Retryable):
            await other.send_comment(ctx, published(root), CommentDraft("Hi"))
    finally:
        await other.aclose()
    assert fake_threads.posts_by(ada) == [root]


async def test_a_revoked_token_disconnects_the_account(
    threads: ThreadsPublisher, fake_threads: FakeThreads, root: Post, ctx: AccountContext
) -> None:
    fake_threads.expire_tokens()
    with pytest.raises(AccountDisconnected):
        await threads.list_comments(ctx, published(root), None)
    with pytest.raises(AccountDisconnected):
        await threads.send_comment(ctx, published(root), CommentDraft("Hi"))


async def test_a_dropped_answer_is_settled_by_finding_the_reply_once(
    threads: ThreadsPublisher, fake_threads: FakeThreads, ada: User, root: Post, ctx: AccountContext
) -> None:
    bob = fake_threads.add_user("bob")
    question = fake_threads.post(bob, "When?", reply_to=root.id)
    draft = CommentDraft("Tomorrow", question.id)
    fake_threads.fail_next("publish", "drop_after")
    sent = await threads.send_comment(ctx, published(root), draft)
    [reply] = [p for p in fake_threads.posts_by(ada) if p.reply_to == question.id]
    assert sent == reply.id
    assert len(fake_threads.calls("publish")) == 1
    assert await threads.find_comment(ctx, published(root), draft) == reply.id


async def test_an_unclear_answer_that_cannot_be_checked_stays_unknown(
    threads: ThreadsPublisher, fake_threads: FakeThreads, root: Post, ctx: AccountContext
) -> None:
    fake_threads.fail_next("publish", "server_error_after")
    fake_threads.fail_next("list", "unavailable")
    with pytest.raises(OutcomeUnknown):
        await threads.send_comment(ctx, published(root), CommentDraft("Hi"))


async def test_find_comment_answers_none_when_absent(
    threads: ThreadsPublisher, fake_threads: FakeThreads, ada: User, root: Post, ctx: AccountContext
) -> None:
    bob = fake_threads.add_user("bob")
    question = fake_threads.post(bob, "Soon?", reply_to=root.id)
    fake_threads.post(ada, "Soon", reply_to=root.id)  # the same text, another parent
    assert (
        await threads.find_comment(ctx, published(root), CommentDraft("Soon", question.id)) is None
    )
    assert await threads.find_comment(ctx, published(root), CommentDraft("Never said")) is None
