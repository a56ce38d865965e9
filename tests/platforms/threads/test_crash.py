"""Invariant 2 for Threads across a real crash: `masthead serve` dies after threads_publish
left and before Threads' answer came back; the next start asks the stored container's status
and finds the post, instead of publishing again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from masthead.platforms.threads import ThreadsPublisher
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow
from tests.fakes.threads import FakeThreads
from tests.platforms.threads.conftest import threads_post
from tests.support.harness import Caller, migrate, seed_user
from tests.support.server import ServerProcess

SECRET = "threads-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_threads: FakeThreads) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
            "MASTHEAD_THREADS_API_URL": fake_threads.url,
            "MASTHEAD_THREADS_CLIENT_ID": fake_threads.client_id,
            "MASTHEAD_THREADS_CLIENT_SECRET": fake_threads.client_secret,
            "MASTHEAD_THREADS_POLL_SECONDS": "0.05",
        },
    )
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakeThreads) -> tuple[Caller, str]:
    url = f"sqlite:///{server.data_dir / 'masthead.db'}"
    await migrate(url)
    db = Database(url)
    await db.start()
    publisher = ThreadsPublisher(api_url=fake.url, app=None)
    try:
        caller = await seed_user(db, Secrets([SECRET]), "crash@example.com")
        token = fake.issue_token(fake.add_user("kay"))
        credentials = {
            "access_token": token["access_token"],
            "expires_at": iso(utcnow() + timedelta(seconds=token["expires_in"])),
            "issued_at": iso(utcnow()),
        }
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


async def test_a_crash_after_threads_publish_left_is_reconciled_not_republished(
    server: ServerProcess, fake_threads: FakeThreads
) -> None:
    caller, account = await _seed(server, fake_threads)
    fake_threads.fail_next("publish", "slow_after")
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post("/v2/posts", json=threads_post(account, "before the crash"))
    post_id = response.json()["postSubmissionId"]
    while not fake_threads.posts:  # Threads has it; the server still waits for the answer
        await asyncio.sleep(0.01)
    server.kill()
    status_calls = len(fake_threads.calls("status"))
    await asyncio.to_thread(server.start)

    body = await _final(server, caller, post_id)

    [post] = fake_threads.posts.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == post.permalink
    assert len(fake_threads.calls("publish")) == 1
    assert len(fake_threads.containers) == 1
    assert len(fake_threads.calls("status")) == status_calls + 1  # the reconcile's question
