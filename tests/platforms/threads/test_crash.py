"""Invariant 2 for Threads across a real crash: `masthead serve` dies after threads_publish
left and before Threads' answer came back; the next start asks the stored container's status
and finds the post, instead of publishing again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from masthead.platforms.threads import ThreadsPublisher
from masthead.timeutil import iso, utcnow
from tests.fakes.threads import FakeThreads
from tests.platforms.threads.conftest import threads_post
from tests.support.crashes import crash_server, kill_once_sent, restarted_state, seed_connected
from tests.support.harness import Caller
from tests.support.server import ServerProcess

SECRET = "threads-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_threads: FakeThreads) -> Iterator[ServerProcess]:
    process = crash_server(
        tmp_path,
        SECRET,
        {
            "MASTHEAD_THREADS_API_URL": fake_threads.url,
            "MASTHEAD_THREADS_CLIENT_ID": fake_threads.client_id,
            "MASTHEAD_THREADS_CLIENT_SECRET": fake_threads.client_secret,
            "MASTHEAD_THREADS_POLL_SECONDS": "0.05",
        },
    )
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakeThreads) -> tuple[Caller, str]:
    publisher = ThreadsPublisher(api_url=fake.url, app=None)
    token = fake.issue_token(fake.add_user("kay"))
    credentials = {
        "access_token": token["access_token"],
        "expires_at": iso(utcnow() + timedelta(seconds=token["expires_in"])),
        "issued_at": iso(utcnow()),
    }
    return await seed_connected(server, SECRET, publisher, credentials)


async def test_a_crash_after_threads_publish_left_is_reconciled_not_republished(
    server: ServerProcess, fake_threads: FakeThreads
) -> None:
    caller, account = await _seed(server, fake_threads)
    fake_threads.fail_next("publish", "slow_after")
    post = threads_post(account, "before the crash")
    post_id = await kill_once_sent(server, caller, post, lambda: fake_threads.posts)
    status_calls = len(fake_threads.calls("status"))

    body = await restarted_state(server, caller, post_id)

    [post] = fake_threads.posts.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == post.permalink
    assert len(fake_threads.calls("publish")) == 1
    assert len(fake_threads.containers) == 1
    assert len(fake_threads.calls("status")) == status_calls + 1  # the reconcile's question
