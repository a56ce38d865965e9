"""YouTube faults: an upload broken half way resumes from the session's Range (each byte sent
once, the video whole), quotaExceeded waits for the Pacific quota day, a 5xx is retried, and
an answer lost after the video was made is settled by asking the upload session."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Row, select

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, PublishContext
from masthead.platforms.youtube import YouTubePublisher, until_quota_day
from masthead.store.models import Post
from tests.fakes.youtube import FakeYouTube
from tests.platforms.youtube.conftest import video, yt_post
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.media import StaticMedia
from tests.support.platforms import connected_account, publish

CHUNK = 256 * 1024


async def test_upload_broken_half_way_resumes_where_youtube_stopped(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Flaky Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    url, data = video(files, 3.0)
    fake_yt.fail_next("upload", "break_half")

    status = await publish(yt_app, caller, yt_post(account, url))

    assert status["status"] == "published", status
    [made] = fake_yt.videos_of(channel)
    [session] = fake_yt.sessions.values()
    assert made.data == data
    assert session.bytes_sent == len(data)  # every byte once: resumed, not restarted
    assert fake_yt.calls.count("insert") == 1


async def test_a_5xx_in_the_middle_of_a_chunked_upload_resumes_it(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Chunky Films")
    account = int(await connected_account("youtube", yt_app, caller, fake_yt, channel))
    data = os.urandom(3 * CHUNK + 1000)
    media = StaticMedia()
    media.add("https://m.test/v.mp4", data, "video/mp4", duration=3.0)
    publisher = YouTubePublisher(
        api_url=fake_yt.url,
        token_url=f"{fake_yt.url}/token",
        app=yt_app.settings.oauth_app("youtube"),
        chunk_size=CHUNK,
        resume_pause=0.01,
    )
    ctx = _context(yt_app, account, channel.id, media)
    try:
        prepared = await publisher.prepare(ctx, 0)
        fake_yt.fail_next("upload", "server_error", after=1)
        fake_yt.fail_next("upload", "break_half")
        sent = await publisher.send(ctx, 0, prepared)
    finally:
        await publisher.aclose()

    [made] = fake_yt.videos_of(channel)
    assert sent.remote_id == made.id and made.data == data
    assert fake_yt.sessions[next(iter(fake_yt.sessions))].bytes_sent == len(data)
    # chunk 1; chunk 2 refused (503); query; chunk 2 half taken; query; the last 1.5 chunks
    assert fake_yt.calls.count("upload") == 7


async def test_quota_exceeded_waits_for_the_pacific_quota_day_and_loses_nothing(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Busy Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    url, _ = video(files)
    fake_yt.fail_next("insert", "quota")

    response = await yt_app.create_post(caller, yt_post(account, url))
    post_id = response.json()["postSubmissionId"]
    row = await _wait_retry(yt_app, post_id)

    pacific = row.due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (pacific.hour, pacific.minute) == (0, 1)
    assert row.due_at - datetime.now(UTC) <= timedelta(days=1, minutes=2)
    assert "quota" in (row.error_message or "")
    assert (await yt_app.status(caller, post_id))["status"] != "failed"
    assert fake_yt.videos == {} and fake_yt.sessions == {}


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        (datetime(2026, 12, 2, 7, 59, tzinfo=UTC), 0.0167),  # 23:59 PST: a minute to go
        (datetime(2026, 7, 2, 7, 0, tzinfo=UTC), 24.0),  # 00:00 PDT: a whole day
    ],
)
def test_the_quota_day_ends_at_pacific_midnight_in_winter_and_summer(
    now: datetime, hours: float
) -> None:
    assert until_quota_day(now) == pytest.approx(hours * 3600 + 60, abs=1)


async def test_a_503_when_opening_the_session_is_retried_and_posts_once(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Retry Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    url, _ = video(files)
    fake_yt.fail_next("insert", "unavailable")

    status = await publish(yt_app, caller, yt_post(account, url))

    assert status["status"] == "published", status
    assert fake_yt.calls.count("insert") == 2
    assert len(fake_yt.videos_of(channel)) == 1


async def test_answer_lost_after_the_video_was_made_is_settled_by_the_session(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Lost Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    url, data = video(files)
    fake_yt.fail_next("upload", "drop_after_complete")

    status = await publish(yt_app, caller, yt_post(account, url))

    [made] = fake_yt.videos_of(channel)
    assert status["status"] == "published", status
    assert status["publicUrl"] == f"https://www.youtube.com/watch?v={made.id}"
    assert fake_yt.sessions[next(iter(fake_yt.sessions))].bytes_sent == len(data)


async def test_reconcile_finds_the_video_of_a_completed_session_or_finishes_the_upload(
    yt_app: Harness, fake_yt: FakeYouTube
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Crash Films")
    account = int(await connected_account("youtube", yt_app, caller, fake_yt, channel))
    data = os.urandom(2 * CHUNK + 5)
    media = StaticMedia()
    media.add("https://m.test/v.mp4", data, "video/mp4", duration=2.0)
    publisher = YouTubePublisher(
        api_url=fake_yt.url,
        token_url=f"{fake_yt.url}/token",
        app=yt_app.settings.oauth_app("youtube"),
        chunk_size=CHUNK,
    )
    ctx = _context(yt_app, account, channel.id, media)
    try:
        unfinished = await publisher.prepare(ctx, 0)  # the worker died before any byte
        finished = await publisher.prepare(ctx, 0)
        sent = await publisher.send(ctx, 0, finished)

        again = await publisher.reconcile(ctx, 0, finished)
        resumed = await publisher.reconcile(ctx, 0, unfinished)
    finally:
        await publisher.aclose()

    assert again is not None and again.remote_id == sent.remote_id
    assert resumed is not None and resumed.remote_id != sent.remote_id
    assert sorted(v.id for v in fake_yt.videos_of(channel)) == sorted(
        [sent.remote_id, resumed.remote_id]
    )
    assert all(s.bytes_sent == len(data) for s in fake_yt.sessions.values())


def _context(harness: Harness, account: int, channel_id: str, media: StaticMedia) -> PublishContext:
    return PublishContext(
        post_id="p1",
        account=AccountInfo(account, "youtube", channel_id, "films"),
        target={
            "targetType": "youtube",
            "title": "Direct",
            "privacyStatus": "public",
            "shouldNotifySubscribers": False,
        },
        items=(ThreadItem("", ("https://m.test/v.mp4",)),),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
        media=media,
    )


async def _wait_retry(harness: Harness, post_id: str) -> Row[tuple[datetime, str | None]]:
    """The post's row once the engine has put it back to wait (it has an error then)."""
    query = select(Post.due_at, Post.error_message).where(Post.id == post_id)
    for _ in range(500):
        row = await harness.db.read(lambda c: c.execute(query).one())
        if row.error_message:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError("the post was never put back to wait")
