"""YouTube metrics: videos.list?part=statistics against the fake, which checks every request
against the discovery document; 50 ids a request, faults and the refresh after a 401."""

from __future__ import annotations

import pytest

from masthead.platforms.base import (
    AccountDisconnected,
    MetricsReader,
    MetricsSnapshot,
    PostGone,
    Retryable,
)
from masthead.platforms.youtube import YouTubePublisher
from tests.fakes.youtube import Channel, FakeYouTube
from tests.support.credentials import Credentials
from tests.support.metrics import published, signed_in


@pytest.fixture
def channel(fake_yt: FakeYouTube) -> Channel:
    return fake_yt.add_channel("Metrics")


async def test_statistics_are_normalised_and_kept_raw(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    assert isinstance(youtube, MetricsReader)
    video = fake_yt.add_video(
        channel, viewCount="18400", likeCount="44", commentCount="0", favoriteCount="0"
    )
    result = await youtube.fetch_metrics(
        signed_in("youtube", fake_yt.issue_tokens(channel)), [published(video.id)]
    )
    assert result == {
        f"p-{video.id}": MetricsSnapshot(
            {"viewsCount": "18400", "likesCount": "44", "commentsCount": "0"},
            {"viewCount": "18400", "likeCount": "44", "commentCount": "0", "favoriteCount": "0"},
        )
    }


async def test_a_hidden_like_count_is_absent_not_zero(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    video = fake_yt.add_video(channel, viewCount="7", commentCount="1")
    result = await youtube.fetch_metrics(
        signed_in("youtube", fake_yt.issue_tokens(channel)), [published(video.id)]
    )
    snapshot = result[f"p-{video.id}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {"viewsCount": "7", "commentsCount": "1"}


async def test_120_videos_take_3_requests_and_a_deleted_one_is_gone(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    videos = [fake_yt.add_video(channel, viewCount=str(n)) for n in range(120)]
    del fake_yt.videos[videos[77].id]
    result = await youtube.fetch_metrics(
        signed_in("youtube", fake_yt.issue_tokens(channel)), [published(v.id) for v in videos]
    )
    assert youtube.metrics_batch == 50
    assert fake_yt.videos_list_ids == [50, 50, 20]
    assert result[f"p-{videos[77].id}"] == PostGone("Post no longer exists on youtube")
    assert result[f"p-{videos[119].id}"] == MetricsSnapshot(
        {"viewsCount": "119"}, {"viewCount": "119"}
    )
    assert len(result) == 120


async def test_rate_limit_waits_as_youtube_says(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    video = fake_yt.add_video(channel, viewCount="1")
    fake_yt.fail_next("videos", "rate_limit")
    with pytest.raises(Retryable) as raised:
        await youtube.fetch_metrics(
            signed_in("youtube", fake_yt.issue_tokens(channel)), [published(video.id)]
        )
    assert raised.value.retry_after == 17.0


async def test_quota_waits_for_the_quota_day(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    video = fake_yt.add_video(channel, viewCount="1")
    fake_yt.fail_next("videos", "quota")
    with pytest.raises(Retryable) as raised:
        await youtube.fetch_metrics(
            signed_in("youtube", fake_yt.issue_tokens(channel)), [published(video.id)]
        )
    assert raised.value.retry_after is not None and raised.value.retry_after > 60


async def test_an_expired_token_is_refreshed_once(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    video = fake_yt.add_video(channel, viewCount="3")
    ctx = signed_in("youtube", fake_yt.issue_tokens(channel))
    fake_yt.expire_access_tokens()
    result = await youtube.fetch_metrics(ctx, [published(video.id)])
    assert isinstance(result[f"p-{video.id}"], MetricsSnapshot)
    assert fake_yt.calls == ["token", "videos.list"]  # the refused call is not recorded
    assert isinstance(ctx.credentials, Credentials)
    assert ctx.credentials.stored["access_token"] in fake_yt.tokens


async def test_a_revoked_grant_disconnects_the_account(
    youtube: YouTubePublisher, fake_yt: FakeYouTube, channel: Channel
) -> None:
    video = fake_yt.add_video(channel, viewCount="3")
    ctx = signed_in("youtube", fake_yt.issue_tokens(channel))
    fake_yt.tokens.clear()
    fake_yt.refresh_tokens.clear()
    with pytest.raises(AccountDisconnected):
        await youtube.fetch_metrics(ctx, [published(video.id)])
    assert fake_yt.calls == ["token"]  # one refresh, refused; no second try
