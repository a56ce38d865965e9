"""X media: the v2 chunked upload with the right category, processing polled until X says
succeeded, and a processing failure refused in X's terms with nothing posted.

These drive the publisher's prepare and send directly, against the fake X, with an in-memory
media source, to reach cases the pipeline never hands over (a GIF header with no image); the
same flow through the public API and the real pipeline is in test_x_media_api.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, Permanent, PublishContext
from masthead.platforms.twitter import TwitterPublisher
from tests.fakes.x import FakeX, User
from tests.support.harness import Harness
from tests.support.media import StaticMedia
from tests.support.platforms import connected_account

CHUNK = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 1000  # ~256 KB: four segments


@pytest.fixture
async def publisher(x_app: Harness) -> AsyncIterator[TwitterPublisher]:
    publisher = TwitterPublisher(
        api_url=x_app.settings.x_api_url,
        app=x_app.settings.oauth_app("x"),
        chunk_size=CHUNK,
    )
    yield publisher
    await publisher.aclose()


async def _context(
    harness: Harness, fake: FakeX, media: StaticMedia, *items: ThreadItem
) -> tuple[PublishContext, User]:
    caller = await harness.user()
    user = fake.add_user("lin")
    account = int(await connected_account("twitter", harness, caller, fake, user))
    ctx = PublishContext(
        post_id="p1",
        account=AccountInfo(account, "twitter", user.id, user.username),
        target={"targetType": "twitter"},
        items=items,
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
        media=media,
    )
    return ctx, user


async def test_images_are_uploaded_in_segments_and_attached(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    media = StaticMedia()
    media.add("https://m.test/a.png", PNG, "image/png", width=10, height=10)
    media.add("https://m.test/b.jpg", PNG[::-1], "image/jpeg", width=10, height=10)
    item = ThreadItem("two pictures", ("https://m.test/a.png", "https://m.test/b.jpg"))
    ctx, user = await _context(x_app, fake_x, media, item)

    prepared = await publisher.prepare(ctx, 0)
    sent = await publisher.send(ctx, 0, prepared)

    [tweet] = fake_x.tweets_by(user)
    assert sent.remote_id == tweet.id
    first, second = (fake_x.media[i] for i in tweet.media_ids)
    assert (first.category, first.media_type, first.data) == ("tweet_image", "image/png", PNG)
    assert (second.category, second.data) == ("tweet_image", PNG[::-1])
    inits = [json.loads(c.body) for c in fake_x.requests if c.path.endswith("/initialize")]
    assert inits[0] == {
        "media_type": "image/png",
        "total_bytes": len(PNG),
        "media_category": "tweet_image",
    }


async def test_video_is_polled_while_processing_and_posted_once_succeeded(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    media = StaticMedia()
    media.add("https://m.test/v.mp4", VIDEO, "video/mp4", width=640, height=360, duration=3.0)
    ctx, user = await _context(
        x_app, fake_x, media, ThreadItem("a clip", ("https://m.test/v.mp4",))
    )

    prepared = await publisher.prepare(ctx, 0)
    await publisher.send(ctx, 0, prepared)

    [tweet] = fake_x.tweets_by(user)
    [video] = (fake_x.media[i] for i in tweet.media_ids)
    assert (video.category, video.state, video.data) == ("tweet_video", "succeeded", VIDEO)
    assert len(video.segments) == 4
    assert len(fake_x.calls("media-status")) == 2  # in_progress, then succeeded


async def test_gif_is_uploaded_as_tweet_gif(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    fake_x.processing_polls = 0
    media = StaticMedia()
    media.add("https://m.test/g.gif", b"GIF89a" + bytes(500), "image/gif", width=1, height=1)
    ctx, user = await _context(x_app, fake_x, media, ThreadItem("loop", ("https://m.test/g.gif",)))

    await publisher.send(ctx, 0, await publisher.prepare(ctx, 0))

    [tweet] = fake_x.tweets_by(user)
    assert fake_x.media[tweet.media_ids[0]].category == "tweet_gif"


async def test_media_processing_failure_is_permanent_and_nothing_is_posted(
    x_app: Harness, fake_x: FakeX, publisher: TwitterPublisher
) -> None:
    fake_x.processing_result = "failed"
    media = StaticMedia()
    media.add("https://m.test/v.mp4", VIDEO, "video/mp4", duration=3.0)
    ctx, _ = await _context(x_app, fake_x, media, ThreadItem("broken", ("https://m.test/v.mp4",)))

    with pytest.raises(Permanent, match="could not process the media"):
        await publisher.prepare(ctx, 0)
    assert fake_x.calls("tweets") == []
