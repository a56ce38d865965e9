"""LinkedIn faults through the public API: each ends as it must, and nothing is posted twice."""

from __future__ import annotations

from pathlib import Path

from masthead.store import accounts
from tests.fakes.linkedin import FakeLinkedIn
from tests.platforms.linkedin.conftest import linkedin_post, linkedin_settings
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.platforms import connected_account, publish


async def test_a_duplicate_is_reported_as_such_and_not_posted_again(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Dup")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    first = await publish(linkedin_app, caller, linkedin_post(account, "same words"))

    second = await publish(linkedin_app, caller, linkedin_post(account, "same words"))

    assert first["status"] == "published", first
    assert second["status"] == "failed", second
    assert "duplicate" in second["errorMessage"].lower()
    assert len(fake_linkedin.posts_by(f"urn:li:person:{member.id}")) == 1
    assert len(fake_linkedin.calls("posts")) == 2


async def test_a_retired_api_version_fails_naming_the_setting_to_change(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Old")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    fake_linkedin.active_versions = {"209912"}

    status = await publish(linkedin_app, caller, linkedin_post(account, "too old"))

    assert status["status"] == "failed", status
    assert "MASTHEAD_LINKEDIN_VERSION" in status["errorMessage"]
    assert "is not active" in status["errorMessage"]
    assert fake_linkedin.posts == {}


async def test_a_429_waits_for_retry_after_then_posts_once(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Patient")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    fake_linkedin.fail_next("posts", "rate_limit")

    status = await publish(linkedin_app, caller, linkedin_post(account, "patience"))

    assert status["status"] == "published", status
    refused, accepted = fake_linkedin.calls("posts")
    assert accepted.at - refused.at >= fake_linkedin.rate_limit_seconds - 0.5
    assert len(fake_linkedin.posts_by(f"urn:li:person:{member.id}")) == 1


async def test_a_503_before_acting_is_retried_and_posts_once(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Again")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    fake_linkedin.fail_next("posts", "unavailable")

    status = await publish(linkedin_app, caller, linkedin_post(account, "try again"))

    assert status["status"] == "published", status
    assert len(fake_linkedin.calls("posts")) == 2
    assert len(fake_linkedin.posts_by(f"urn:li:person:{member.id}")) == 1


async def test_a_dropped_connection_after_linkedin_acted_is_reconciled_not_resent(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Dropped")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    fake_linkedin.fail_next("posts", "drop_after")

    status = await publish(linkedin_app, caller, linkedin_post(account, "did it (go) out?"))

    assert status["status"] == "published", status
    [post] = fake_linkedin.posts_by(f"urn:li:person:{member.id}")
    assert status["publicUrl"].endswith(post.urn)
    assert len(fake_linkedin.calls("posts")) == 1
    assert len(fake_linkedin.calls("posts-find")) == 1


async def test_a_500_after_linkedin_acted_is_found_not_resent(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Hiccup")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    fake_linkedin.fail_next("posts", "server_error_after")

    status = await publish(linkedin_app, caller, linkedin_post(account, "server hiccup"))

    assert status["status"] == "published", status
    assert len(fake_linkedin.posts_by(f"urn:li:person:{member.id}")) == 1
    assert len(fake_linkedin.calls("posts")) == 1


async def test_an_expired_token_is_refreshed_and_the_post_goes_out(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Refresh")
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)
    fake_linkedin.expire_access_tokens()

    status = await publish(linkedin_app, caller, linkedin_post(account, "fresh token"))

    assert status["status"] == "published", status
    assert len(fake_linkedin.calls("token")) == 1
    assert len(fake_linkedin.posts_by(f"urn:li:person:{member.id}")) == 1


async def test_an_expired_token_without_refresh_token_disconnects_the_account(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("NoRefresh")
    account = await connected_account(
        "linkedin", linkedin_app, caller, fake_linkedin, member, refresh_token=None
    )
    fake_linkedin.expire_access_tokens()

    status = await publish(linkedin_app, caller, linkedin_post(account, "lost"))

    assert status["status"] == "failed", status
    assert "reconnect" in status["errorMessage"].lower() or "token" in status["errorMessage"]
    stored = await linkedin_app.db.read(lambda c: accounts.account_by_id(c, int(account)))
    assert stored is not None and stored.status != "connected"
    assert fake_linkedin.posts == {}


async def test_a_video_linkedin_cannot_process_fails_with_its_reason_and_posts_nothing(
    tmp_path: Path, fake_linkedin: FakeLinkedIn, files: FileServer
) -> None:
    fake_linkedin.processing_result = "PROCESSING_FAILED"
    url = files.add("bad.mp4", samples.video(3.5))
    settings = linkedin_settings(tmp_path, fake_linkedin, fetch_allow=files.allow)
    async with running_app(settings) as app:
        caller = await app.user()
        member = fake_linkedin.add_member("Video")
        account = await connected_account("linkedin", app, caller, fake_linkedin, member)

        status = await publish(app, caller, linkedin_post(account, "clip", media=(url,)))

    assert status["status"] == "failed", status
    assert "Video is corrupted" in status["errorMessage"]
    assert fake_linkedin.posts == {}
