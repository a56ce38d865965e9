"""Threads through the public API: text posts and threads reach the fake Threads once, through
a container that was FINISHED before it was published."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.threads import FakeThreads, User
from tests.platforms.threads.conftest import connect_threads, threads_post
from tests.support.harness import Harness


async def publish(
    harness: Harness, fake: FakeThreads, body: dict[str, Any], timeout: float = 15.0
) -> tuple[dict[str, Any], User, str]:
    """Connect a Threads user `ada`, post `body` (its accountId filled in), wait for the end."""
    caller = await harness.user()
    user = fake.add_user("ada")
    account = await connect_threads(harness, caller, fake, user)
    body["post"]["accountId"] = account
    response = await harness.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    status = await harness.wait_status(caller, post_id, {"published", "failed"}, timeout)
    return status, user, post_id


async def test_text_post_is_published_once_with_its_permalink(
    app: Harness, fake_threads: FakeThreads
) -> None:
    status, user, _ = await publish(app, fake_threads, threads_post("", "Hello from Masthead"))

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert post.text == "Hello from Masthead"
    assert post.media_type == "TEXT_POST"
    assert status["publicUrl"] == post.permalink
    assert post.permalink.startswith("https://www.threads.com/@ada/post/")
    operations = [r.operation for r in fake_threads.requests if r.operation != "me"]
    assert operations == ["create", "status", "publish", "media"]
    [create] = fake_threads.calls("create")
    assert create.params == {"media_type": "TEXT", "text": "Hello from Masthead"}
    assert fake_threads.calls("publish")[0].params == {"creation_id": post.container_id}


@pytest.mark.parametrize("text", ["a" * 496 + "😀", "e\u0301" * 500])
async def test_text_at_threads_limit_as_threads_counts_it_is_published(
    app: Harness, fake_threads: FakeThreads, text: str
) -> None:
    """500 with the emoji counted as its 4 UTF-8 bytes, or 500 graphemes of 2 code points:
    accepted at request time and by Threads (the fake counts as Threads documents)."""
    status, user, _ = await publish(app, fake_threads, threads_post("", text))

    assert status["status"] == "published", status
    assert [p.text for p in fake_threads.posts_by(user)] == [text]
    assert fake_threads.invalid == []


async def test_reply_control_from_the_target_goes_on_every_container(
    app: Harness, fake_threads: FakeThreads
) -> None:
    body = threads_post("", "who may answer", "the rest", replyControl="mentioned_only")
    status, user, _ = await publish(app, fake_threads, body)

    assert status["status"] == "published", status
    assert [p.reply_control for p in fake_threads.posts_by(user)] == ["mentioned_only"] * 2


async def test_thread_of_three_replies_to_the_previous_published_post(
    app: Harness, fake_threads: FakeThreads
) -> None:
    status, user, _ = await publish(app, fake_threads, threads_post("", "one", "two", "three"))

    assert status["status"] == "published", status
    first, second, third = fake_threads.posts_by(user)
    assert [p.text for p in (first, second, third)] == ["one", "two", "three"]
    assert (first.reply_to, second.reply_to, third.reply_to) == (None, first.id, second.id)
    assert fake_threads.thread_of(first.id) == [first, second, third]
    assert status["publicUrl"] == first.permalink
    creates = fake_threads.calls("create")
    assert [c.params.get("reply_to_id") for c in creates] == [None, first.id, second.id]


async def test_emoji_and_non_latin_text_arrive_unchanged(
    app: Harness, fake_threads: FakeThreads
) -> None:
    text = "Grüße 👩🏽‍💻 日本語 — café\u0301"
    status, user, _ = await publish(app, fake_threads, threads_post("", text))

    assert status["status"] == "published", status
    assert fake_threads.posts_by(user)[0].text == text
