"""YouTube comments against the fake YouTube: comment threads read with all their replies,
top-level comments and replies written, every fault ending as the engine needs, a lost answer
found again by `find_comment`."""

from __future__ import annotations

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
from masthead.platforms.youtube import SPEC, YouTubePublisher
from masthead.timeutil import utcnow
from tests.fakes.youtube import FULL_SCOPE, UPLOAD_SCOPE, Channel, FakeYouTube, Video
from tests.support.comments import by_id, comment_limit
from tests.support.metrics import signed_in


def account(fake: FakeYouTube, channel: Channel, **scopes: tuple[str, ...]) -> AccountContext:
    return signed_in("youtube", fake.issue_tokens(channel, **scopes), channel.id, channel.handle)


@pytest.fixture
def mine(fake_yt: FakeYouTube) -> Channel:
    return fake_yt.add_channel("Ada")


@pytest.fixture
def video(fake_yt: FakeYouTube, mine: Channel) -> Video:
    """Ada's video, that the comments are under."""
    return fake_yt.add_video(mine)


def published(video: Video) -> PublishedPost:
    return PublishedPost("p1", video.id, None, utcnow())


def test_youtube_takes_comments_of_10000_characters(youtube: YouTubePublisher) -> None:
    assert comment_limit(youtube, SPEC) == (10_000, Count.CODE_POINTS)


async def test_threads_are_read_with_every_reply_and_who_wrote_them(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    viewer = fake_yt.add_channel("Bob")
    question = fake_yt.comment(video, viewer, "Where is this? <3")
    answers = [fake_yt.comment(video, mine, f"Answer {n}", parent=question.id) for n in range(7)]
    other = fake_yt.comment(fake_yt.add_video(mine), viewer, "elsewhere")
    found = by_id(await youtube.list_comments(account(fake_yt, mine), published(video), None))
    assert set(found) == {question.id, *(a.id for a in answers)}
    assert other.id not in found
    top = found[question.id]
    assert (top.parent_platform_comment_id, top.text, top.is_author) == (
        None,
        "Where is this? <3",
        False,
    )
    assert (top.author_id, top.author_name) == (viewer.id, "Bob")
    assert all(found[a.id].parent_platform_comment_id == question.id for a in answers)
    assert all(found[a.id].is_author for a in answers)
    assert "comments.list" in fake_yt.calls  # past the 5 replies a thread carries


async def test_many_threads_are_read_page_by_page(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    viewer = fake_yt.add_channel("Bob")
    for n in range(120):
        fake_yt.comment(video, viewer, f"comment {n}")
    found = await youtube.list_comments(account(fake_yt, mine), published(video), None)
    assert len(by_id(found)) == 120
    assert fake_yt.calls.count("commentThreads.list") == 2


async def test_a_deleted_video_is_gone(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    del fake_yt.videos[video.id]
    found = await youtube.list_comments(account(fake_yt, mine), published(video), None)
    assert isinstance(found, PostGone)


async def test_a_top_level_comment_and_a_reply(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    viewer = fake_yt.add_channel("Bob")
    ctx, post = account(fake_yt, mine), published(video)
    question = fake_yt.comment(video, viewer, "When?")
    top = await youtube.send_comment(ctx, post, CommentDraft("Pinned: links below"))
    reply = await youtube.send_comment(ctx, post, CommentDraft("Tomorrow", question.id))
    made, answer = fake_yt.comments[top], fake_yt.comments[reply]
    assert (made.video_id, made.parent_id, made.author_channel_id) == (video.id, None, mine.id)
    assert (answer.parent_id, answer.text) == (question.id, "Tomorrow")


async def test_comments_turned_off_are_named(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    fake_yt.comments_off.add(video.id)
    ctx, post = account(fake_yt, mine), published(video)
    with pytest.raises(Permanent, match="Comments are turned off on this YouTube video"):
        await youtube.send_comment(ctx, post, CommentDraft("Hi"))
    with pytest.raises(Permanent, match="Comments are turned off"):
        await youtube.list_comments(ctx, post, None)
    assert fake_yt.comments == {}


async def test_a_comment_on_a_deleted_video_is_permanent(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    del fake_yt.videos[video.id]
    with pytest.raises(Permanent, match="could not be found"):
        await youtube.send_comment(account(fake_yt, mine), published(video), CommentDraft("Hi"))


async def test_quota_and_outages_are_retryable(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    ctx, post = account(fake_yt, mine), published(video)
    fake_yt.fail_next("commentThreads.list", "quota")
    fake_yt.fail_next("commentThreads.insert", "unavailable")
    with pytest.raises(Retryable, match="quota") as read:
        await youtube.list_comments(ctx, post, None)
    assert read.value.retry_after is not None
    with pytest.raises(Retryable):
        await youtube.send_comment(ctx, post, CommentDraft("Hi"))
    assert fake_yt.comments == {}


async def test_a_revoked_token_disconnects_and_a_missing_scope_asks_to_reconnect(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    old = account(fake_yt, mine, scopes=(UPLOAD_SCOPE, FULL_SCOPE))
    with pytest.raises(Permanent, match="reconnect it"):
        await youtube.list_comments(old, published(video), None)
    revoked = account(fake_yt, mine)
    fake_yt.tokens.clear()
    fake_yt.refresh_tokens.clear()
    with pytest.raises(AccountDisconnected):
        await youtube.send_comment(revoked, published(video), CommentDraft("Hi"))


@pytest.mark.parametrize("operation", ["commentThreads.insert", "comments.insert"])
async def test_a_dropped_answer_is_found_once(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video, operation: str
) -> None:
    viewer = fake_yt.add_channel("Bob")
    ctx, post = account(fake_yt, mine), published(video)
    question = fake_yt.comment(video, viewer, "When?")
    parent = question.id if operation == "comments.insert" else None
    draft = CommentDraft("Soon, with details", parent)
    fake_yt.fail_next(operation, "drop_after")
    with pytest.raises(OutcomeUnknown):
        await youtube.send_comment(ctx, post, draft)
    [made] = [c for c in fake_yt.comments.values() if c.author_channel_id == mine.id]
    assert await youtube.find_comment(ctx, post, draft) == made.id
    assert fake_yt.calls.count(operation) == 1


async def test_find_comment_answers_none_when_absent(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, mine: Channel, video: Video
) -> None:
    viewer = fake_yt.add_channel("Bob")
    ctx, post = account(fake_yt, mine), published(video)
    question = fake_yt.comment(video, viewer, "Soon?")
    fake_yt.comment(video, mine, "Soon")  # the same text, top-level, not the reply
    fake_yt.comment(video, viewer, "Soon", parent=question.id)  # the same text, not ours
    assert await youtube.find_comment(ctx, post, CommentDraft("Soon", question.id)) is None
    assert await youtube.find_comment(ctx, post, CommentDraft("Never said")) is None
