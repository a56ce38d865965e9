"""Invariant 2 for X across a real crash: `masthead serve` dies after POST /2/tweets left and
before X's answer came back; the next start finds the post on X instead of posting again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.twitter import TwitterPublisher
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store.database import Database
from tests.fakes.x import FakeX
from tests.platforms.conftest import x_post
from tests.support.harness import Caller, migrate, seed_user
from tests.support.server import ServerProcess

SECRET = "x-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_x: FakeX) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
            "MASTHEAD_X_API_URL": fake_x.url,
            "MASTHEAD_X_CLIENT_ID": fake_x.client_id,
            "MASTHEAD_X_CLIENT_SECRET": fake_x.client_secret,
        },
    )
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakeX) -> tuple[Caller, str]:
    url = f"sqlite:///{server.data_dir / 'masthead.db'}"
    await migrate(url)
    db = Database(url)
    await db.start()
    publisher = TwitterPublisher(api_url=fake.url, app=None)
    try:
        caller = await seed_user(db, Secrets([SECRET]), "crash@example.com")
        credentials = credentials_from_token_response(fake.issue_tokens(fake.add_user("kay")))
        account_id, _ = await connect_account(
            db, Secrets([SECRET]), publisher, user_id=caller.user_id, credentials=credentials
        )
    finally:
        await publisher.aclose()
        await db.close()
    return caller, str(account_id)


async def _final(server: ServerProcess, caller: Caller, post_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        while True:
            body: dict[str, object] = (await client.get(f"/v2/posts/{post_id}")).json()
            if body.get("status") in ("published", "failed") or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.05)


async def test_a_crash_after_the_post_left_is_reconciled_with_x_not_reposted(
    server: ServerProcess, fake_x: FakeX
) -> None:
    caller, account = await _seed(server, fake_x)
    fake_x.fail_next("tweets", "slow_after")
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post("/v2/posts", json=x_post(account, "before the crash"))
    post_id = response.json()["postSubmissionId"]
    while not fake_x.tweets:  # X has it; the server is still waiting for the answer
        await asyncio.sleep(0.01)
    server.kill()
    await asyncio.to_thread(server.start)

    body = await _final(server, caller, post_id)

    [tweet] = fake_x.tweets.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == f"https://x.com/kay/status/{tweet.id}"
    assert len(fake_x.calls("tweets")) == 1
    assert len(fake_x.calls("timeline")) == 1
