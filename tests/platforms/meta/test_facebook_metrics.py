"""Facebook Pages metrics: one request per post with its counts and insights inline (a
reel's video insights), made with the Page's own token, against the fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    AccountInfo,
    MetricsReader,
    MetricsSnapshot,
    MetricsUnavailable,
    PostGone,
    Retryable,
)
from masthead.platforms.facebook import FacebookPublisher
from tests.fakes.meta import Comment, FakeMeta, Page
from tests.support.credentials import Credentials
from tests.support.metrics import measured, published


@pytest.fixture
async def facebook(fake_meta: FakeMeta) -> AsyncIterator[FacebookPublisher]:
    publisher = FacebookPublisher(api_url=fake_meta.url, app=None, throttle_wait=42.0)
    yield publisher
    await publisher.aclose()


def ctx_for(page: Page) -> AccountContext:
    info = AccountInfo(id=1, platform="facebook", external_id="1", username="Ada")
    store = Credentials({}, {("page", page.id): {"access_token": page.token}})
    return AccountContext(info, store)


async def test_a_feed_post_is_normalised_with_its_reactions(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    assert isinstance(facebook, MetricsReader)
    post = fake_meta.add_post(
        page,
        shares=3,
        post_media_view=1200,
        post_total_media_view_unique=800,
        post_clicks=41,
        post_reactions_by_type_total={"like": 13, "haha": 2},
    )
    fake_meta.comments += [Comment(fake_meta.next_id(), post.id, "nice") for _ in range(4)]
    result = await facebook.fetch_metrics(ctx_for(page), [published(post.id, pageId=page.id)])
    snapshot = result[f"p-{post.id}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {
        "viewsCount": "1200",
        "reachCount": "800",
        "clicksCount": "41",
        "likesCount": "15",
        "reactionsByType": {"like": "13", "haha": "2"},
        "commentsCount": "4",
        "sharesCount": "3",
    }
    assert snapshot.raw["post_reactions_by_type_total"] == {"like": 13, "haha": 2}
    assert snapshot.raw["shares"] == {"count": 3}


async def test_a_post_never_shared_and_without_clicks_leaves_them_absent(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    post = fake_meta.add_post(page, post_total_media_view_unique=5)
    result = await facebook.fetch_metrics(ctx_for(page), [published(post.id, pageId=page.id)])
    snapshot = result[f"p-{post.id}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {"reachCount": "5", "commentsCount": "0"}


async def test_a_reel_reports_plays(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    reel = fake_meta.add_reel(
        page,
        blue_reels_play_count=900,
        post_impressions_unique=700,
        post_video_likes_by_reaction_type={"REACTION_LIKE": 30, "REACTION_LOVE": 5},
        post_video_social_actions={"COMMENT": 6, "SHARE": 2},
    )
    post = published(reel.id, data={"kind": "reel"}, pageId=page.id)
    result = await facebook.fetch_metrics(ctx_for(page), [post])
    snapshot = result[post.post_id]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {
        "playsCount": "900",
        "reachCount": "700",
        "likesCount": "35",
        "reactionsByType": {"like": "30", "love": "5"},
        "commentsCount": "6",
        "sharesCount": "2",
    }


async def test_stories_are_not_measured_and_a_deleted_post_is_gone(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    kept = fake_meta.add_post(page, post_clicks=1)
    deleted = fake_meta.add_post(page, post_clicks=2)
    del fake_meta.posts[deleted.id]
    story = published("story-1", data={"kind": "photo_story"}, pageId=page.id)
    result = await facebook.fetch_metrics(
        ctx_for(page),
        [published(kept.id, pageId=page.id), published(deleted.id, pageId=page.id), story],
    )
    assert result[f"p-{deleted.id}"] == PostGone("Post no longer exists on facebook")
    assert result[story.post_id] == MetricsUnavailable(
        "Analytics are not available for facebook stories"
    )
    assert isinstance(result[f"p-{kept.id}"], MetricsSnapshot)
    assert len(fake_meta.calls("node")) == 2  # one request per post, none for the story


async def test_a_post_meta_refuses_ends_alone_and_the_others_are_read(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    first, refused, last = (fake_meta.add_post(page, post_clicks=n) for n in (1, 2, 3))
    fake_meta.fail_next("node", 100, after=1)
    result = await facebook.fetch_metrics(
        ctx_for(page), [published(p.id, pageId=page.id) for p in (first, refused, last)]
    )
    clicks = {post: metrics["clicksCount"] for post, metrics in measured(result).items()}
    assert clicks == {f"p-{first.id}": "1", f"p-{last.id}": "3"}
    gone = result[f"p-{refused.id}"]
    assert isinstance(gone, MetricsUnavailable)
    assert "Invalid parameter (code 100" in gone.reason


async def test_a_throttled_page_waits(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    post = fake_meta.add_post(page, post_clicks=1)
    fake_meta.fail_next("node", 32)
    with pytest.raises(Retryable) as raised:
        await facebook.fetch_metrics(ctx_for(page), [published(post.id, pageId=page.id)])
    assert raised.value.retry_after == 42.0


async def test_a_revoked_page_token_disconnects_the_account(
    facebook: FacebookPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    post = fake_meta.add_post(page, post_clicks=1)
    fake_meta.revoke(page.token)
    with pytest.raises(AccountDisconnected):
        await facebook.fetch_metrics(ctx_for(page), [published(post.id, pageId=page.id)])
