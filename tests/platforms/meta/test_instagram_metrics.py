"""Instagram metrics: the media's product type, then the insights that type has, against the
fake Graph API, which checks each metric against Meta's enum and the product type."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    MetricsReader,
    MetricsSnapshot,
    MetricsUnavailable,
    PostGone,
    Retryable,
)
from masthead.platforms.instagram import InstagramPublisher
from tests.fakes.meta import FakeMeta, Page
from tests.platforms.meta.conftest import ig_of
from tests.support.metrics import account, measured, published


@pytest.fixture
async def instagram(fake_meta: FakeMeta) -> AsyncIterator[InstagramPublisher]:
    publisher = InstagramPublisher(api_url=fake_meta.url, app=None, throttle_wait=42.0)
    yield publisher
    await publisher.aclose()


def ctx_for(page: Page) -> AccountContext:
    return account("instagram", {}, external_id=ig_of(page).id, access_token=page.token)


async def test_a_reel_is_normalised_with_its_watch_times(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    assert isinstance(instagram, MetricsReader)
    reel = fake_meta.add_media(
        ig_of(page),
        "REELS",
        views=18400,
        reach=9000,
        likes=44,
        comments=0,
        shares=3,
        saved=7,
        total_interactions=54,
        ig_reels_avg_watch_time=5120,
        ig_reels_video_view_total_time=94208000,
    )
    result = await instagram.fetch_metrics(ctx_for(page), [published(reel.id)])
    snapshot = result[f"p-{reel.id}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {
        "viewsCount": "18400",
        "reachCount": "9000",
        "likesCount": "44",
        "commentsCount": "0",
        "sharesCount": "3",
        "savesCount": "7",
        "interactionsSum": "54",
        "watchTimeMsAvg": "5120",
        "viewTimeMsSum": "94208000",
    }
    assert snapshot.raw["media_product_type"] == "REELS"
    assert snapshot.raw["ig_reels_avg_watch_time"] == 5120


async def test_a_feed_post_has_profile_visits_and_follows_and_a_missing_metric_is_absent(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    image = fake_meta.add_media(
        ig_of(page), "IMAGE", reach=120, likes=9, profile_visits=4, follows=1
    )
    result = await instagram.fetch_metrics(ctx_for(page), [published(image.id)])
    assert result[f"p-{image.id}"] == MetricsSnapshot(
        {"reachCount": "120", "likesCount": "9", "profileVisitsCount": "4", "followsCount": "1"},
        {"media_product_type": "FEED", "reach": 120, "likes": 9, "profile_visits": 4, "follows": 1},
    )


async def test_a_story_asks_only_story_metrics(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    story = fake_meta.add_media(ig_of(page), "STORIES", views=300, reach=250, shares=2)
    result = await instagram.fetch_metrics(ctx_for(page), [published(story.id)])
    snapshot = result[f"p-{story.id}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {"viewsCount": "300", "reachCount": "250", "sharesCount": "2"}


async def test_one_post_two_requests_and_a_deleted_media_is_gone(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    kept = fake_meta.add_media(ig_of(page), "IMAGE", likes=1)
    deleted = fake_meta.add_media(ig_of(page), "IMAGE", likes=2)
    del fake_meta.ig_media[deleted.id]
    result = await instagram.fetch_metrics(
        ctx_for(page), [published(kept.id), published(deleted.id)]
    )
    assert result[f"p-{deleted.id}"] == PostGone("Post no longer exists on instagram")
    assert isinstance(result[f"p-{kept.id}"], MetricsSnapshot)
    assert len(fake_meta.calls("insights")) == 1
    assert len(fake_meta.calls("node")) == 2


async def test_a_throttled_account_waits(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    media = fake_meta.add_media(ig_of(page), "IMAGE", likes=1)
    fake_meta.fail_next("insights", 4)
    with pytest.raises(Retryable) as raised:
        await instagram.fetch_metrics(ctx_for(page), [published(media.id)])
    assert raised.value.retry_after == 42.0  # Meta said nothing: the configured wait


async def test_a_throttle_waits_as_long_as_meta_estimates(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    media = fake_meta.add_media(ig_of(page), "IMAGE", likes=1)
    fake_meta.regain_minutes = 7
    fake_meta.fail_next("insights", 17)
    with pytest.raises(Retryable) as raised:
        await instagram.fetch_metrics(ctx_for(page), [published(media.id)])
    assert raised.value.retry_after == 420.0


async def test_a_revoked_token_disconnects_the_account(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    media = fake_meta.add_media(ig_of(page), "IMAGE", likes=1)
    fake_meta.revoke(page.token)
    with pytest.raises(AccountDisconnected):
        await instagram.fetch_metrics(ctx_for(page), [published(media.id)])


async def test_a_post_meta_refuses_ends_alone_and_the_others_are_read(
    instagram: InstagramPublisher, fake_meta: FakeMeta, page: Page
) -> None:
    first, refused, last = (fake_meta.add_media(ig_of(page), "IMAGE", likes=n) for n in (1, 2, 3))
    fake_meta.fail_next("insights", 100, after=1)  # e.g. a metric this media does not serve
    result = await instagram.fetch_metrics(
        ctx_for(page), [published(first.id), published(refused.id), published(last.id)]
    )
    assert measured(result) == {
        f"p-{first.id}": {"likesCount": "1"},
        f"p-{last.id}": {"likesCount": "3"},
    }
    gone = result[f"p-{refused.id}"]
    assert isinstance(gone, MetricsUnavailable)
    assert "Invalid parameter (code 100" in gone.reason
