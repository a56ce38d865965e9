"""Meta's failures through the public API: what is retried, what fails in words a person
understands, what disconnects the account, and lost answers settled without a second post."""

from __future__ import annotations

from pathlib import Path

from masthead.config import Settings
from masthead.store import accounts
from tests.fakes.meta import FakeMeta
from tests.platforms.meta.conftest import Business, connect, facebook_post, instagram_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.platforms import publish


async def _status_of(harness: Harness, account_id: str) -> str:
    row = await harness.db.read(lambda c: accounts.account_by_id(c, int(account_id)))
    assert row is not None
    return row.status


async def test_revoked_page_token_disconnects_the_account_with_a_clear_message(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    fake_meta.revoke(business.page.token)
    body = facebook_post(business.facebook, business.page, "Hello")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "failed"
    assert "connect the account again" in status["errorMessage"]
    assert "code 190" in status["errorMessage"]
    assert await _status_of(meta_app, business.facebook) == "disconnected"
    assert fake_meta.posts_of(business.page) == []


async def test_code_190_on_instagram_disconnects_it(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.fail_next("quota", 190)
    url = files.add("a.jpg", samples.image())
    status = await publish(
        meta_app, business.caller, instagram_post(business.instagram, "x", [url])
    )
    assert status["status"] == "failed"
    assert "Meta no longer accepts this account's access token" in status["errorMessage"]
    assert await _status_of(meta_app, business.instagram) == "disconnected"


async def test_rate_limit_code_4_on_publish_waits_and_publishes_once(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.fail_next("publish", 4)
    url = files.add("a.jpg", samples.image())
    status = await publish(
        meta_app, business.caller, instagram_post(business.instagram, "x", [url])
    )
    assert status["status"] == "published", status
    assert len(fake_meta.calls("publish")) == 2
    assert len(fake_meta.media_of(business.page.ig)) == 1  # type: ignore[arg-type]


async def test_server_error_before_publishing_is_retried(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.fail_next("status", "server_error")
    url = files.add("a.jpg", samples.image())
    body = instagram_post(business.instagram, "x", [url])
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    assert len(fake_meta.media_of(business.page.ig)) == 1  # type: ignore[arg-type]


async def test_dropped_connection_after_media_publish_is_reconciled_not_republished(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.fail_next("publish", "drop_after")
    url = files.add("a.jpg", samples.image())
    status = await publish(
        meta_app, business.caller, instagram_post(business.instagram, "x", [url])
    )
    assert status["status"] == "published", status
    [media] = fake_meta.media_of(business.page.ig)  # type: ignore[arg-type]
    assert status["publicUrl"] == media.permalink
    assert len(fake_meta.calls("publish")) == 1


async def test_dropped_feed_post_is_found_not_reposted(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    fake_meta.fail_next("feed", "drop_after")
    status = await publish(
        meta_app, business.caller, facebook_post(business.facebook, business.page, "Once")
    )
    assert status["status"] == "published", status
    [post] = fake_meta.posts_of(business.page)
    assert status["publicUrl"] == f"https://www.facebook.com/{post.id}"


async def test_dropped_reel_finish_is_settled_by_its_upload_session(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.fail_next("reels", "drop_after", after=1)  # the start, then the finish
    url = files.add("clip.mp4", samples.video(seconds=4))
    body = facebook_post(business.facebook, business.page, "Reel", [url], mediaType="reel")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [video] = fake_meta.videos.values()
    assert status["publicUrl"] == f"https://www.facebook.com/reel/{video.id}"
    assert len([p for p in fake_meta.posts_of(business.page) if p.kind == "reel"]) == 1


async def test_duplicate_post_fails_in_metas_words_with_its_trace_id(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    fake_meta.fail_next("feed", 506)
    body = facebook_post(business.facebook, business.page, "Again")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "failed"
    message = status["errorMessage"]
    assert message.startswith("Meta refused a duplicate of a recent post: Duplicate status")
    assert "code 506" in message and "fbtrace_id Ftrace506" in message
    assert len(fake_meta.calls("feed")) == 1


async def test_policy_block_368_is_not_retried(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    fake_meta.fail_next("feed", 368)
    body = facebook_post(business.facebook, business.page, "Blocked")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "failed"
    assert "temporarily blocked" in status["errorMessage"]
    assert len(fake_meta.calls("feed")) == 1


async def test_a_public_url_meta_cannot_reach_fails_the_post(
    tmp_path: Path, meta_settings: Settings, fake_meta: FakeMeta, files: FileServer
) -> None:
    """Meta fetches media from MASTHEAD_PUBLIC_URL: one it cannot reach fails, in words."""
    wrong = meta_settings.model_copy(update={"public_url": "http://127.0.0.1:9"})
    async with running_app(wrong) as app:
        caller = await app.user()
        user = fake_meta.add_user("Bea")
        page = fake_meta.add_page(user, "Bea's", instagram="beas")
        instagram = await connect(app, caller, "instagram", fake_meta.user_token(user))
        url = files.add("a.jpg", samples.image())
        status = await publish(app, caller, instagram_post(instagram, "x", [url]))
    assert status["status"] == "failed"
    assert "Media download has failed" in status["errorMessage"]
    assert all(u.startswith("http://127.0.0.1:9/") for u in fake_meta.fetched)
    assert fake_meta.media_of(page.ig) == []  # type: ignore[arg-type]
