"""TikTok reconcile after a crash between the sending mark and the answer: with a stored
publish_id the upload is finished on that publish_id (never a second init) and the verdict
awaited; a pulled post has no publish_id before its answer, so it cannot be told."""

from __future__ import annotations

import pytest

from masthead.platforms.base import OutcomeUnknown
from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import direct
from tests.support.harness import Harness
from tests.support.platforms import connected_account


async def test_status_unreadable_after_the_last_chunk_is_unknown_never_a_retry(
    tt_app: Harness, fake_tt: FakeTikTok
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("revoked")
    account = int(await connected_account("tiktok", tt_app, caller, fake_tt, user))
    ctx, publisher, _ = direct(tt_app, fake_tt, account, user.open_id, user.username)
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
    account = int(await connected_account("tiktok", tt_app, caller, fake_tt, user))
    ctx, publisher, data = direct(tt_app, fake_tt, account, user.open_id, user.username)
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
