"""TikTok reconcile after a crash between the sending mark and the answer: with a stored
publish_id the upload is finished on that publish_id (never a second init) and the verdict
awaited; a pulled post has no publish_id before its answer, so it cannot be told."""

from __future__ import annotations

import os

import pytest

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, OutcomeUnknown, PublishContext
from masthead.platforms.tiktok import TikTokPublisher
from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import SMALL_CHUNKS, connect_tt
from tests.support.harness import Harness
from tests.support.media import StaticMedia

TARGET = {
    "targetType": "tiktok",
    "privacyLevel": "PUBLIC_TO_EVERYONE",
    "disabledComments": False,
    "disabledDuet": False,
    "disabledStitch": False,
    "isBrandedContent": False,
    "isYourBrand": False,
    "isAiGenerated": False,
}


async def test_status_unreadable_after_the_last_chunk_is_unknown_never_a_retry(
    tt_app: Harness, fake_tt: FakeTikTok
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("revoked")
    account = int(await connect_tt(tt_app, caller, fake_tt, user))
    ctx, publisher, _ = _direct(tt_app, fake_tt, account, user.open_id, user.username)
    try:
        prepared = await publisher.prepare(ctx, 0)
        fake_tt.tokens.clear()  # the user revokes the app while the last chunk is on its way
        fake_tt.refresh_tokens.clear()
        with pytest.raises(OutcomeUnknown, match="status could not be read"):
            await publisher.send(ctx, 0, prepared)
    finally:
        await publisher.aclose()

    [publish] = fake_tt.publishes.values()
    assert publish.bytes_sent == publish.source["video_size"]
    assert fake_tt.calls.count("init") == 1


async def test_reconcile_finishes_an_upload_the_crash_cut_short_on_the_same_publish_id(
    tt_app: Harness, fake_tt: FakeTikTok
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("mended")
    account = int(await connect_tt(tt_app, caller, fake_tt, user))
    ctx, publisher, data = _direct(tt_app, fake_tt, account, user.open_id, user.username)
    try:
        prepared = await publisher.prepare(ctx, 0)  # all but the last chunk; then the crash
        sent = await publisher.reconcile(ctx, 0, prepared)
        again = await publisher.reconcile(ctx, 0, prepared)
        pulled = await publisher.reconcile(ctx, 0, {"kind": "photo", "username": "mended"})
    finally:
        await publisher.aclose()

    [post] = fake_tt.published(user)
    assert sent is not None and again is not None and sent.remote_id == again.remote_id
    assert sent.public_url == f"https://www.tiktok.com/@mended/video/{post.post_id}"
    assert post.data == data and post.bytes_sent == len(data)
    assert fake_tt.calls.count("init") == 1
    assert pulled is None


VIDEO_URL = "https://m.test/v.mp4"


def _direct(
    harness: Harness, fake: FakeTikTok, account: int, open_id: str, username: str
) -> tuple[PublishContext, TikTokPublisher, bytes]:
    """A context over a video of 5 chunks and a bit, held in memory; a publisher with the
    small chunks; the video's bytes."""
    data = os.urandom(5 * SMALL_CHUNKS.maximum + 100)
    media = StaticMedia()
    media.add(VIDEO_URL, data, "video/mp4", duration=5.0)
    ctx = PublishContext(
        post_id="p1",
        account=AccountInfo(account, "tiktok", open_id, username),
        target=TARGET,
        items=(ThreadItem("direct", (VIDEO_URL,)),),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
        media=media,
    )
    publisher = TikTokPublisher(
        api_url=fake.url,
        app=harness.settings.oauth_app("tiktok"),
        chunks=SMALL_CHUNKS,
        poll_interval=0.01,
    )
    return ctx, publisher, data
