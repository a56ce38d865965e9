"""TikTok metrics: video/query by id (20 a request) against the fake, which checks the fields
and the id count the Display API documents; faults and the refresh after an invalid token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from masthead.platforms.base import (
    AccountDisconnected,
    MetricsReader,
    MetricsSnapshot,
    MetricsUnavailable,
    PostGone,
    Retryable,
)
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.tiktok import TikTokPublisher
from tests.fakes.tiktok import FakeTikTok, User
from tests.support.credentials import Credentials
from tests.support.metrics import account, published, signed_in


@pytest.fixture
async def tiktok(fake_tt: FakeTikTok) -> AsyncIterator[TikTokPublisher]:
    app = fake_tt.oauth_app()
    publisher = TikTokPublisher(api_url=fake_tt.url, app=app)
    yield publisher
    await publisher.aclose()


@pytest.fixture
def creator(fake_tt: FakeTikTok) -> User:
    return fake_tt.add_user("baker")


async def test_counts_are_normalised_and_kept_raw(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    assert isinstance(tiktok, MetricsReader)
    video = fake_tt.add_video(
        creator, view_count=18400, like_count=44, comment_count=0, share_count=3
    )
    result = await tiktok.fetch_metrics(
        signed_in("tiktok", fake_tt.issue_tokens(creator)), [published(video)]
    )
    assert result == {
        f"p-{video}": MetricsSnapshot(
            {"viewsCount": "18400", "likesCount": "44", "commentsCount": "0", "sharesCount": "3"},
            {"view_count": 18400, "like_count": 44, "comment_count": 0, "share_count": 3},
        )
    }


async def test_a_count_tiktok_leaves_out_is_absent(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    video = fake_tt.add_video(creator, view_count=7, like_count=1)
    result = await tiktok.fetch_metrics(
        signed_in("tiktok", fake_tt.issue_tokens(creator)), [published(video)]
    )
    snapshot = result[f"p-{video}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {"viewsCount": "7", "likesCount": "1"}


async def test_45_videos_take_3_requests_deleted_and_private_ones_apart(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    videos = [fake_tt.add_video(creator, view_count=n) for n in range(45)]
    del fake_tt.videos[videos[30]]
    private = published("publish-9", data={"publish_id": "publish-9"})
    result = await tiktok.fetch_metrics(
        signed_in("tiktok", fake_tt.issue_tokens(creator)),
        [published(v) for v in videos] + [private],
    )
    assert tiktok.metrics_batch == 20
    assert fake_tt.video_query_ids == [20, 20, 5]
    assert result[f"p-{videos[30]}"] == PostGone("Post no longer exists on tiktok")
    assert result[private.post_id] == MetricsUnavailable(
        "Analytics are not available for tiktok posts without a public video id"
    )
    assert result[f"p-{videos[44]}"] == MetricsSnapshot({"viewsCount": "44"}, {"view_count": 44})
    assert len(result) == 46


async def test_rate_limit_waits_as_tiktok_says(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    video = fake_tt.add_video(creator, view_count=1)
    fake_tt.fail_next("video_query", "rate_limit")
    with pytest.raises(Retryable) as raised:
        await tiktok.fetch_metrics(
            signed_in("tiktok", fake_tt.issue_tokens(creator)), [published(video)]
        )
    assert raised.value.retry_after == 1.0


async def test_an_expired_token_is_refreshed_once_and_the_new_refresh_token_kept(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    video = fake_tt.add_video(creator, view_count=3)
    first = credentials_from_token_response(fake_tt.issue_tokens(creator))
    ctx = account("tiktok", first)
    fake_tt.expire_access_tokens()
    result = await tiktok.fetch_metrics(ctx, [published(video)])
    assert isinstance(result[f"p-{video}"], MetricsSnapshot)
    assert fake_tt.calls == ["token", "video_query"]
    assert isinstance(ctx.credentials, Credentials)
    assert ctx.credentials.stored["refresh_token"] != first["refresh_token"]


async def test_a_revoked_grant_disconnects_the_account(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    video = fake_tt.add_video(creator, view_count=3)
    ctx = signed_in("tiktok", fake_tt.issue_tokens(creator))
    fake_tt.tokens.clear()
    fake_tt.refresh_tokens.clear()
    with pytest.raises(AccountDisconnected):
        await tiktok.fetch_metrics(ctx, [published(video)])


async def test_a_grant_without_video_list_asks_for_a_reconnect(
    tiktok: TikTokPublisher, fake_tt: FakeTikTok, creator: User
) -> None:
    video = fake_tt.add_video(creator, view_count=3)
    fake_tt.video_list_denied.add(creator.open_id)
    with pytest.raises(AccountDisconnected) as raised:
        await tiktok.fetch_metrics(
            signed_in("tiktok", fake_tt.issue_tokens(creator)), [published(video)]
        )
    assert "video.list" in raised.value.message
