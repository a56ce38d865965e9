"""Invariant 2 for LinkedIn across a real crash: `masthead serve` dies after POST /rest/posts
left and before LinkedIn's answer came back; the next start finds the post instead of
posting again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from masthead.platforms.linkedin import LinkedInPublisher
from masthead.platforms.oauth import credentials_from_token_response
from tests.fakes.linkedin import FakeLinkedIn
from tests.platforms.linkedin.conftest import linkedin_post
from tests.support.crashes import final_state, seed_connected
from tests.support.harness import Caller
from tests.support.server import ServerProcess

SECRET = "linkedin-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_linkedin: FakeLinkedIn) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
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
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post("/v2/posts", json=linkedin_post(account, "before (the) crash"))
    post_id = response.json()["postSubmissionId"]
    while not fake_linkedin.posts:  # LinkedIn has it; the server still waits for the answer
        await asyncio.sleep(0.01)
    server.kill()
    await asyncio.to_thread(server.start)

    body = await final_state(server, caller, post_id)

    [post] = fake_linkedin.posts.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == f"https://www.linkedin.com/feed/update/{post.urn}"
    assert post.author == f"urn:li:person:{member_id}"
    assert len(fake_linkedin.calls("posts")) == 1
    assert len(fake_linkedin.calls("posts-find")) == 1
