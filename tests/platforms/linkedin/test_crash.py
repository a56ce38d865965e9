"""Invariant 2 for LinkedIn across a real crash: `masthead serve` dies after POST /rest/posts
left and before LinkedIn's answer came back; the next start finds the post instead of
posting again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from masthead.platforms.linkedin import LinkedInPublisher
from masthead.platforms.oauth import credentials_from_token_response
from tests.fakes.linkedin import FakeLinkedIn
from tests.platforms.linkedin.conftest import linkedin_post
from tests.support.crashes import crash_server, kill_once_sent, restarted_state, seed_connected
from tests.support.harness import Caller
from tests.support.server import ServerProcess

SECRET = "linkedin-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_linkedin: FakeLinkedIn) -> Iterator[ServerProcess]:
    process = crash_server(
        tmp_path,
        SECRET,
        {
            "MASTHEAD_LINKEDIN_API_URL": fake_linkedin.url,
            "MASTHEAD_LINKEDIN_TOKEN_URL": fake_linkedin.token_url,
            "MASTHEAD_LINKEDIN_CLIENT_ID": fake_linkedin.client_id,
            "MASTHEAD_LINKEDIN_CLIENT_SECRET": fake_linkedin.client_secret,
        },
    )
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakeLinkedIn) -> tuple[Caller, str, str]:
    publisher = LinkedInPublisher(
        api_url=fake.url, version="202511", app=None, token_url=fake.token_url
    )
    member = fake.add_member("Kay")
    credentials = credentials_from_token_response(fake.issue_tokens(member))
    caller, account_id = await seed_connected(server, SECRET, publisher, credentials)
    return caller, account_id, member.id


async def test_a_crash_after_the_post_left_is_reconciled_with_linkedin_not_reposted(
    server: ServerProcess, fake_linkedin: FakeLinkedIn
) -> None:
    caller, account, member_id = await _seed(server, fake_linkedin)
    fake_linkedin.fail_next("posts", "slow_after")
    post = linkedin_post(account, "before (the) crash")
    post_id = await kill_once_sent(server, caller, post, lambda: fake_linkedin.posts)

    body = await restarted_state(server, caller, post_id)

    [post] = fake_linkedin.posts.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == f"https://www.linkedin.com/feed/update/{post.urn}"
    assert post.author == f"urn:li:person:{member_id}"
    assert len(fake_linkedin.calls("posts")) == 1
    assert len(fake_linkedin.calls("posts-find")) == 1
