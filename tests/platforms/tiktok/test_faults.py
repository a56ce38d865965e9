"""TikTok faults: what the creator may not post fails in clear words before anything is sent;
rate limits and internal errors wait and post once; FAILED answers carry TikTok's reason; a
lost answer after the last chunk is settled by the publish_id, never by posting again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from masthead.dispatch.credentials import AccountCredentials
from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import SMALL_CHUNKS, tt_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import connected_account, publish

PAST = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


async def _setup(
    harness: Harness, fake: FakeTikTok, files: FileServer, name: str, **user: Any
) -> tuple[Any, Any, str, str, bytes]:
    caller = await harness.user()
    tiktok_user = fake.add_user(name, **user)
    account = await connected_account("tiktok", harness, caller, fake, tiktok_user)
    data = samples.video(4.0, "640x480")
    return caller, tiktok_user, account, files.add(f"{name}.mp4", data), data


async def test_privacy_level_the_creator_does_not_allow_fails_before_any_upload(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(
        tt_app, fake_tt, files, "privy", privacy_options=["SELF_ONLY", "FOLLOWER_OF_CREATOR"]
    )

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "failed"
    assert status["errorMessage"] == (
        "TikTok does not let @privy post with privacy level PUBLIC_TO_EVERYONE; "
        "allowed: SELF_ONLY, FOLLOWER_OF_CREATOR"
    )
    assert fake_tt.calls == ["creator_info"]
    assert fake_tt.published(user) == []


async def test_video_longer_than_the_creator_may_post_fails_in_clear_words(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "brief", max_duration=3)

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "failed"
    assert status["errorMessage"] == (
        "The video is 4 s long; TikTok lets @brief post videos of at most 3 s"
    )
    assert "init" not in fake_tt.calls
    assert fake_tt.published(user) == []


async def test_rate_limit_on_init_waits_and_posts_once(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "busy")
    fake_tt.fail_next("init", "rate_limit")

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    assert fake_tt.calls.count("init") == 2
    assert len(fake_tt.published(user)) == 1


async def test_rate_limit_while_polling_status_is_waited_out_not_reposted(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "polled")
    fake_tt.fail_next("status", "rate_limit")
    fake_tt.fail_next("status", "internal")

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    assert fake_tt.calls.count("init") == 1
    assert len(fake_tt.published(user)) == 1


async def test_failed_publish_reports_tiktoks_reason(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "spammy")
    fake_tt.fail_reason = "spam_risk_too_many_posts"

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "failed"
    assert status["errorMessage"] == "TikTok did not publish the post: spam_risk_too_many_posts"
    assert fake_tt.calls.count("init") == 1
    assert fake_tt.published(user) == []


async def test_expired_token_is_refreshed_and_the_rotated_refresh_token_replaces_the_old(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "rotor")
    store = AccountCredentials(tt_app.db, tt_app.ctx.secrets, int(account))
    old = await store.load()
    assert await store.save({**old, "expires_at": PAST}, replaces=old)

    status = await publish(tt_app, caller, tt_post(account, [url]))

    new = await store.load()
    assert status["status"] == "published", status
    assert fake_tt.calls.count("token") == 1
    assert new["refresh_token"] != old["refresh_token"]
    assert new["refresh_token"] in fake_tt.refresh_tokens
    assert old["refresh_token"] not in fake_tt.refresh_tokens
    assert len(fake_tt.published(user)) == 1


async def test_a_401_refreshes_once_and_posts_once(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "stale")
    fake_tt.expire_access_tokens()

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    assert fake_tt.calls.count("token") == 1
    assert len(fake_tt.published(user)) == 1


async def test_refused_refresh_disconnects_the_account(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, _ = await _setup(tt_app, fake_tt, files, "revoked")
    fake_tt.refresh_tokens.clear()
    fake_tt.expire_access_tokens()

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "failed"
    assert "Refresh token is invalid or expired." in status["errorMessage"]
    assert fake_tt.published(user) == []


async def test_lost_answer_to_the_last_chunk_is_settled_by_the_publish_id(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, data = await _setup(tt_app, fake_tt, files, "dropped")
    fake_tt.fail_next("chunk", "drop_after", after=len(data) // SMALL_CHUNKS.maximum - 1)

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert post.bytes_sent == len(data) and fake_tt.calls.count("init") == 1


async def test_a_last_chunk_refused_with_500_is_sent_again_on_the_same_publish_id(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller, user, account, url, data = await _setup(tt_app, fake_tt, files, "again")
    fake_tt.fail_next("chunk", "internal", after=len(data) // SMALL_CHUNKS.maximum - 1)

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert post.data == data and fake_tt.calls.count("init") == 1


async def test_dropped_answer_to_a_photo_init_is_reported_unknown_not_reposted(
    tt_pull_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_pull_app.user()
    user = fake_tt.add_user("photog")
    account = await connected_account("tiktok", tt_pull_app, caller, fake_tt, user)
    fake_tt.fail_next("init", "drop_after")

    status = await publish(
        tt_pull_app, caller, tt_post(account, [files.add("p.jpg", samples.image("JPEG"))])
    )

    assert status["status"] == "failed"
    assert status["errorMessage"].startswith("Outcome unknown:")
    assert fake_tt.calls.count("init") == 1
    assert len(fake_tt.publishes) == 1  # TikTok has it once; Masthead did not send it again
