"""X media through the public API: files fetched by the media pipeline, uploaded to X in
segments, attached to the post; what the pipeline learnt picks X's media category."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from masthead.config import Settings
from tests.fakes.x import FakeX
from tests.platforms.twitter.conftest import x_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.platforms import connected_account


@pytest.fixture
async def app(x_settings: Settings, files: FileServer) -> AsyncIterator[Harness]:
    settings = x_settings.model_copy(update={"fetch_allow": frozenset({("127.0.0.1", files.port)})})
    async with running_app(settings) as running:
        yield running


async def _publish(app: Harness, fake: FakeX, media: list[str]) -> tuple[dict[str, object], str]:
    caller = await app.user()
    user = fake.add_user("ada")
    account = await connected_account("twitter", app, caller, fake, user)
    response = await app.create_post(caller, x_post(account, "with media", media=tuple(media)))
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await app.wait_status(caller, post_id, {"published", "failed"}, 20), user.id


async def test_images_from_urls_are_uploaded_once_and_attached(
    app: Harness, fake_x: FakeX, files: FileServer
) -> None:
    png, jpeg = samples.image("PNG", size=(40, 30)), samples.image("JPEG", size=(30, 40))
    urls = [files.add("a.png", png), files.add("b.jpg", jpeg)]

    status, _ = await _publish(app, fake_x, urls)

    assert status["status"] == "published", status
    [tweet] = fake_x.tweets.values()
    uploaded = [fake_x.media[media_id] for media_id in tweet.media_ids]
    assert [(m.category, m.media_type, m.data) for m in uploaded] == [
        ("tweet_image", "image/png", png),
        ("tweet_image", "image/jpeg", jpeg),
    ]
    assert files.requests.count("/file/a.png") == 1  # fetched once: at accept, not again


async def test_video_from_a_url_is_uploaded_as_tweet_video(
    app: Harness, fake_x: FakeX, files: FileServer
) -> None:
    clip = samples.video(2.0)

    status, _ = await _publish(app, fake_x, [files.add("clip.mp4", clip)])

    assert status["status"] == "published", status
    [tweet] = fake_x.tweets.values()
    [video] = (fake_x.media[media_id] for media_id in tweet.media_ids)
    assert (video.category, video.media_type, video.data) == ("tweet_video", "video/mp4", clip)


async def test_a_file_x_cannot_take_fails_the_post_before_anything_is_sent(
    app: Harness, fake_x: FakeX, files: FileServer
) -> None:
    status, _ = await _publish(app, fake_x, [files.add("page.jpg", b"<html>nope</html>")])

    assert status["status"] == "failed"
    assert str(status["errorMessage"]).startswith(
        "post.content.mediaUrls[0]: Invalid File Format: the file is text/html"
    )
    assert fake_x.tweets == {}
    assert fake_x.media == {}
