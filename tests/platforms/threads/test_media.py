"""Threads pulls media by URL: Masthead gives it the hosted copy at MASTHEAD_PUBLIC_URL, and the
fake downloads it over HTTP from the running server, as Meta would. A public URL the fake cannot
reach fails the post in words that name the setting."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.fakes.threads import FakeThreads
from tests.platforms.threads.conftest import threads_post, threads_settings
from tests.platforms.threads.test_publish import publish
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import running_app, served_app


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_image_is_fetched_by_threads_from_the_public_url(
    tmp_path: Path, fake_threads: FakeThreads, files: FileServer
) -> None:
    data = samples.image("PNG", (640, 480))
    source = files.add("photo.png", data)
    settings = threads_settings(tmp_path, fake_threads, fetch_allow=files.allow)
    async with served_app(settings) as app:
        status, user, _ = await publish(
            app, fake_threads, threads_post("", "a photo", media=(source,))
        )
        public_url = app.settings.public_url

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert post.media_type == "IMAGE"
    [fetch] = post.media
    assert fetch.url.startswith(f"{public_url}/"), fetch.url
    assert (fetch.status, fetch.content_type, fetch.sha256) == (200, "image/png", sha(data))
    [create] = fake_threads.calls("create")
    assert create.params["image_url"] == fetch.url
    assert create.params["text"] == "a photo"


async def test_webp_is_converted_to_jpeg_before_threads_fetches_it(
    tmp_path: Path, fake_threads: FakeThreads, files: FileServer
) -> None:
    source = files.add("photo.webp", samples.image("WEBP", (320, 240)))
    settings = threads_settings(tmp_path, fake_threads, fetch_allow=files.allow)
    async with served_app(settings) as app:
        status, user, _ = await publish(app, fake_threads, threads_post("", "", media=(source,)))

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert post.media[0].content_type == "image/jpeg"
    assert "text" not in fake_threads.calls("create")[0].params


async def test_video_waits_for_processing_then_is_published(
    tmp_path: Path, fake_threads: FakeThreads, files: FileServer
) -> None:
    data = samples.video(1.0)
    source = files.add("clip.mp4", data)
    fake_threads.processing_polls = 3
    settings = threads_settings(tmp_path, fake_threads, fetch_allow=files.allow)
    async with served_app(settings) as app:
        status, user, _ = await publish(
            app, fake_threads, threads_post("", "moving", media=(source,))
        )

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert post.media_type == "VIDEO"
    assert (post.media[0].content_type, post.media[0].sha256) == ("video/mp4", sha(data))
    assert len(fake_threads.calls("status")) >= 3
    assert fake_threads.calls("create")[0].params["media_type"] == "VIDEO"


async def test_thread_with_media_in_a_reply(
    tmp_path: Path, fake_threads: FakeThreads, files: FileServer
) -> None:
    source = files.add("second.jpg", samples.image("JPEG"))
    settings = threads_settings(tmp_path, fake_threads, fetch_allow=files.allow)
    body = threads_post("", "words first", "then a picture", thread_media=((source,),))
    async with served_app(settings) as app:
        status, user, _ = await publish(app, fake_threads, body)

    assert status["status"] == "published", status
    first, second = fake_threads.posts_by(user)
    assert (first.media_type, second.media_type) == ("TEXT_POST", "IMAGE")
    assert second.reply_to == first.id


async def test_a_public_url_threads_cannot_reach_fails_naming_the_setting(
    tmp_path: Path, fake_threads: FakeThreads, files: FileServer
) -> None:
    source = files.add("photo.jpg", samples.image("JPEG"))
    # running_app: MASTHEAD_PUBLIC_URL is http://masthead.test, which nothing serves.
    settings = threads_settings(tmp_path, fake_threads, fetch_allow=files.allow)
    async with running_app(settings) as app:
        status, user, _ = await publish(
            app, fake_threads, threads_post("", "lost", media=(source,))
        )

    assert status["status"] == "failed", status
    assert "Threads could not make the post (UNKNOWN)" in status["errorMessage"]
    assert "MASTHEAD_PUBLIC_URL must be reachable" in status["errorMessage"]
    assert "http://masthead.test/" in status["errorMessage"]
    assert fake_threads.posts_by(user) == []
    assert fake_threads.calls("publish") == []


async def test_a_video_threads_cannot_process_fails_in_threads_words(
    tmp_path: Path, fake_threads: FakeThreads, files: FileServer
) -> None:
    source = files.add("clip.mp4", samples.video(1.0))
    fake_threads.container_faults.append(("ERROR", "FAILED_PROCESSING_VIDEO"))
    settings = threads_settings(tmp_path, fake_threads, fetch_allow=files.allow)
    async with served_app(settings) as app:
        status, user, _ = await publish(app, fake_threads, threads_post("", "x", media=(source,)))

    assert status["status"] == "failed", status
    assert "FAILED_PROCESSING_VIDEO" in status["errorMessage"]
    assert fake_threads.posts_by(user) == []
