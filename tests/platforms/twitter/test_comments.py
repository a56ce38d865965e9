"""X replies as comments against the fake X: read through search (flattened one level deep),
written as replies, every fault ending as the engine needs, a lost answer found again."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from masthead.platforms.twitter import SPEC, TwitterPublisher
from tests.fakes.x import REPLY_NOT_ALLOWED, SEARCH_FORBIDDEN, FakeX, User
from tests.support.comments import by_id, comment_limit
from tests.support.metrics import signed_in


@pytest.fixture
async def publisher(fake_x: FakeX) -> AsyncIterator[TwitterPublisher]:
    app = fake_x.oauth_app()
    publisher = TwitterPublisher(api_url=fake_x.url, app=app)
    yield publisher
    await publisher.aclose()


@pytest.fixture
def ada(fake_x: FakeX) -> User:
    return fake_x.add_user("ada")


@pytest.fixture
def post(fake_x: FakeX, ada: User) -> PublishedPost:
    """Ada's launch tweet, that the comments are under."""
    tweet = fake_x.post(ada, "Our launch")
    return PublishedPost("p1", tweet.id, None, tweet.created_at)


@pytest.fixture
def ctx(fake_x: FakeX, ada: User) -> AccountContext:
    """Ada's account as Masthead holds it."""
    return signed_in("twitter", fake_x.issue_tokens(ada), ada.id, ada.username)


def test_x_takes_comments_of_280_weighted_characters(publisher: TwitterPublisher) -> None:
    assert comment_limit(publisher, SPEC) == (280, Count.X_WEIGHTED)


async def test_replies_at_any_depth_are_read_under_their_top_level_reply(
    publisher: TwitterPublisher, fake_x: FakeX, ada: User, post: PublishedPost, ctx: AccountContext
) -> None:
    bob = fake_x.add_user("bob", "Bob B")
    first = fake_x.post(bob, "Love it & more", to=post.remote_id)
    answer = fake_x.post(ada, "Thanks!", to=first.id)
    deeper = fake_x.post(bob, "You're welcome", to=answer.id)
    fake_x.post(bob, "Another post entirely")
    found = by_id(await publisher.list_comments(ctx, post, None))
    assert set(found) == {first.id, answer.id, deeper.id}
    assert found[first.id].parent_platform_comment_id is None
    assert found[answer.id].parent_platform_comment_id == first.id
    assert found[deeper.id].parent_platform_comment_id == first.id
    assert found[first.id].text == "Love it & more"
    assert (found[first.id].author_id, found[first.id].author_username) == (bob.id, "bob")
    assert found[first.id].author_name == "Bob B"
    assert [found[i].is_author for i in (first.id, answer.id, deeper.id)] == [False, True, False]


async def test_a_long_conversation_is_read_page_by_page(
    publisher: TwitterPublisher, fake_x: FakeX, post: PublishedPost, ctx: AccountContext
) -> None:
    bob = fake_x.add_user("bob")
    for n in range(150):
        fake_x.post(bob, f"reply {n}", to=post.remote_id)
    found = await publisher.list_comments(ctx, post, None)
    assert len(by_id(found)) == 150
    assert len(fake_x.calls("search")) == 2


async def test_without_search_in_the_plan_capture_is_off_and_replies_still_post(
    publisher: TwitterPublisher, fake_x: FakeX, post: PublishedPost, ctx: AccountContext
) -> None:
    fake_x.search_enabled = False
    with pytest.raises(Permanent, match="plan with search") as refused:
        await publisher.list_comments(ctx, post, None)
    assert SEARCH_FORBIDDEN in refused.value.message
    reply_id = await publisher.send_comment(ctx, post, CommentDraft("Still here"))
    assert fake_x.tweets[reply_id].reply_to == post.remote_id


async def test_a_deleted_post_is_gone(
    publisher: TwitterPublisher, fake_x: FakeX, post: PublishedPost, ctx: AccountContext
) -> None:
    assert await publisher.list_comments(ctx, post, None) == []
    fake_x.delete_tweet(post.remote_id)
    assert isinstance(await publisher.list_comments(ctx, post, None), PostGone)


async def test_a_top_level_comment_and_a_reply_are_x_replies(
    publisher: TwitterPublisher, fake_x: FakeX, ada: User, post: PublishedPost, ctx: AccountContext
) -> None:
    bob = fake_x.add_user("bob")
    question = fake_x.post(bob, "When?", to=post.remote_id)
    top = await publisher.send_comment(ctx, post, CommentDraft("Thanks all"))
    answer = await publisher.send_comment(ctx, post, CommentDraft("Tomorrow", question.id))
    assert (fake_x.tweets[top].reply_to, fake_x.tweets[top].text) == (post.remote_id, "Thanks all")
    assert (fake_x.tweets[answer].reply_to, fake_x.tweets[answer].author_id) == (
        question.id,
        ada.id,
    )


async def test_x_refusing_the_reply_is_permanent_in_its_words(
    publisher: TwitterPublisher, fake_x: FakeX, post: PublishedPost, ctx: AccountContext
) -> None:
    fake_x.restrict_replies = True
    with pytest.raises(Permanent) as refused:
        await publisher.send_comment(ctx, post, CommentDraft("Hi"))
    assert refused.value.message == REPLY_NOT_ALLOWED


async def test_a_reply_to_a_deleted_post_is_permanent(
    publisher: TwitterPublisher, fake_x: FakeX, ada: User, post: PublishedPost, ctx: AccountContext
) -> None:
    fake_x.delete_tweet(post.remote_id)
    with pytest.raises(Permanent, match="does not exist"):
        await publisher.send_comment(ctx, post, CommentDraft("Hi"))
    assert fake_x.tweets_by(ada) == []


async def test_rate_limits_are_retryable_after_x_reset(
    publisher: TwitterPublisher, fake_x: FakeX, ada: User, post: PublishedPost, ctx: AccountContext
) -> None:
    fake_x.fail_next("search", "rate_limit")
    fake_x.fail_next("tweets", "rate_limit")
    with pytest.raises(Retryable) as read:
        await publisher.list_comments(ctx, post, None)
    with pytest.raises(Retryable) as write:
        await publisher.send_comment(ctx, post, CommentDraft("Hi"))
    assert read.value.retry_after is not None and write.value.retry_after is not None
    assert len(fake_x.tweets_by(ada)) == 1


async def test_a_revoked_token_disconnects_the_account(
    publisher: TwitterPublisher, fake_x: FakeX, post: PublishedPost, ctx: AccountContext
) -> None:
    fake_x.tokens.clear()
    fake_x.refresh_tokens.clear()
    with pytest.raises(AccountDisconnected):
        await publisher.list_comments(ctx, post, None)
    with pytest.raises(AccountDisconnected):
        await publisher.send_comment(ctx, post, CommentDraft("Hi"))


async def test_a_dropped_answer_is_settled_by_finding_the_reply_once(
    publisher: TwitterPublisher, fake_x: FakeX, ada: User, post: PublishedPost, ctx: AccountContext
) -> None:
    bob = fake_x.add_user("bob")
    question = fake_x.post(bob, "Link?", to=post.remote_id)
    draft = CommentDraft("Here: https://example.com/a?b=1&c=2", question.id)
    fake_x.fail_next("tweets", "drop_after")
    reply_id = await publisher.send_comment(ctx, post, draft)
    [reply] = [t for t in fake_x.tweets_by(ada) if t.reply_to == question.id]
    assert reply_id == reply.id
    assert len(fake_x.calls("tweets")) == 1
    assert await publisher.find_comment(ctx, post, draft) == reply.id


async def test_find_comment_answers_none_when_the_reply_is_absent(
    publisher: TwitterPublisher, fake_x: FakeX, ada: User, post: PublishedPost, ctx: AccountContext
) -> None:
    bob = fake_x.add_user("bob")
    question = fake_x.post(bob, "When?", to=post.remote_id)
    fake_x.post(ada, "Soon", to=post.remote_id)  # same text, another parent
    assert await publisher.find_comment(ctx, post, CommentDraft("Soon", question.id)) is None
    assert await publisher.find_comment(ctx, post, CommentDraft("Never said")) is None


async def test_a_500_after_acting_that_is_not_found_stays_unknown(
    publisher: TwitterPublisher, fake_x: FakeX, post: PublishedPost, ctx: AccountContext
) -> None:
    fake_x.fail_next("tweets", "server_error_after")
    fake_x.fail_next("timeline", "unavailable")
    with pytest.raises(OutcomeUnknown):
        await publisher.send_comment(ctx, post, CommentDraft("Hi"))
