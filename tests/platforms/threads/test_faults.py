"""Every fault the fake Threads injects ends as it must: what is retried, what waits, what
fails in Meta's words, what becomes outcome-unknown, and that nothing is published twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from masthead.store.models import Account
from tests.fakes.threads import FakeThreads
from tests.platforms.threads.conftest import RATE_LIMIT_WAIT, threads_post
from tests.platforms.threads.test_publish import publish
from tests.support.harness import Harness


async def test_rate_limit_code_waits_then_publishes_once(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("create", "rate_limit")
    status, user, _ = await publish(app, fake_threads, threads_post("", "patience"))

    assert status["status"] == "published", status
    refused, accepted = fake_threads.calls("create")
    assert accepted.at - refused.at >= RATE_LIMIT_WAIT - 0.2
    assert len(fake_threads.posts_by(user)) == 1


async def test_429_on_publish_waits_then_publishes_once(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("publish", "throttled")
    status, user, _ = await publish(app, fake_threads, threads_post("", "busy"))

    assert status["status"] == "published", status
    refused, accepted = fake_threads.calls("publish")
    assert accepted.at - refused.at >= RATE_LIMIT_WAIT - 0.2
    assert len(fake_threads.posts_by(user)) == 1


async def test_a_rate_limit_holds_back_the_account_calls_until_the_wait_is_over(
    app: Harness, fake_threads: FakeThreads
) -> None:
    """The next item of the thread is not sent into the limit Meta just announced."""
    fake_threads.fail_next("create", "rate_limit", after=1)
    status, user, _ = await publish(app, fake_threads, threads_post("", "first", "second"))

    assert status["status"] == "published", status
    creates = fake_threads.calls("create")
    assert len(creates) == 3  # first, refused second, second after the wait
    assert creates[2].at - creates[1].at >= RATE_LIMIT_WAIT - 0.2
    assert [p.text for p in fake_threads.posts_by(user)] == ["first", "second"]


async def test_5xx_before_acting_is_retried_and_published_once(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("create", "unavailable")
    fake_threads.fail_next("status", "unavailable")
    status, user, _ = await publish(app, fake_threads, threads_post("", "try again"))

    assert status["status"] == "published", status
    assert len(fake_threads.posts_by(user)) == 1


async def test_5xx_to_threads_publish_asks_the_container_and_publishes_it_once(
    app: Harness, fake_threads: FakeThreads
) -> None:
    """A 500 to threads_publish may or may not have acted: the container's status says it did
    not, so the same container is published (one post, one container)."""
    fake_threads.fail_next("publish", "unavailable")
    status, user, _ = await publish(app, fake_threads, threads_post("", "hiccup"))

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert len(fake_threads.containers) == 1
    assert [c.params["creation_id"] for c in fake_threads.calls("publish")] == [
        post.container_id
    ] * 2
    assert status["publicUrl"] == post.permalink


async def test_500_after_threads_publish_acted_is_found_not_reposted(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("publish", "server_error_after")
    status, user, _ = await publish(app, fake_threads, threads_post("", "did it go?"))

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert status["publicUrl"] == post.permalink
    assert len(fake_threads.calls("publish")) == 1


async def test_dropped_connection_after_publish_is_found_by_container_status(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("publish", "drop_after")
    status, user, _ = await publish(app, fake_threads, threads_post("", "lost answer"))

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert status["publicUrl"] == post.permalink
    assert len(fake_threads.calls("publish")) == 1
    assert [c.params["fields"] for c in fake_threads.calls("list")] == [
        "id,permalink,text,timestamp,media_type"
    ]


async def test_dropped_connection_after_a_reply_is_found_among_the_replies(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("publish", "drop_after", after=1)
    status, user, _ = await publish(app, fake_threads, threads_post("", "root", "reply", "end"))

    assert status["status"] == "published", status
    root, reply, end = fake_threads.posts_by(user)
    assert (reply.reply_to, end.reply_to) == (root.id, reply.id)
    assert len(fake_threads.calls("publish")) == 3
    assert fake_threads.calls("list")[0].path.endswith("/replies")


async def test_a_drop_that_threads_cannot_explain_is_outcome_unknown_never_resent(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("publish", "drop_after")
    fake_threads.fail_next("list", "unavailable")
    status, user, _ = await publish(app, fake_threads, threads_post("", "unknown fate"))

    assert status["status"] == "failed", status
    assert status["errorMessage"].startswith("Outcome unknown: "), status
    assert "was published, but the post could not be found" in status["errorMessage"]
    await asyncio.sleep(0.5)
    assert len(fake_threads.calls("publish")) == 1
    assert len(fake_threads.posts_by(user)) == 1


async def test_expired_token_fails_the_post_and_disconnects_the_account(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("create", "expired_token")
    status, user, _ = await publish(app, fake_threads, threads_post("", "too late"))

    assert status["status"] == "failed", status
    assert "Error validating access token: Session has expired" in status["errorMessage"]
    assert "[Threads error 190/463]" in status["errorMessage"]
    [account] = await app.db.read(lambda c: c.execute(select(Account)).all())
    assert account.status == "disconnected"
    assert fake_threads.posts_by(user) == []


async def test_a_refusal_for_good_fails_in_meta_words_without_retrying(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("create", "permission")
    status, _, _ = await publish(app, fake_threads, threads_post("", "not allowed"))

    assert status["status"] == "failed", status
    assert status["errorMessage"] == (
        "(#10) Application does not have permission for this action [Threads error 10]"
    )
    assert len(fake_threads.calls("create")) == 1


async def test_an_expired_container_is_made_again_and_published_once(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.container_faults.append(("EXPIRED", None))
    status, user, _ = await publish(app, fake_threads, threads_post("", "second container"))

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    first, second = fake_threads.containers.values()
    assert (first.status, second.status) == ("EXPIRED", "PUBLISHED")
    assert post.container_id == second.id


async def test_a_thread_failing_half_way_names_what_was_published(
    app: Harness, fake_threads: FakeThreads
) -> None:
    fake_threads.fail_next("create", "permission", after=1)
    status, user, _ = await publish(app, fake_threads, threads_post("", "one", "two", "three"))

    assert status["status"] == "failed", status
    [first] = fake_threads.posts_by(user)
    assert status["errorMessage"].endswith(
        f"(thread item 2; the first 1 were published: {first.permalink})"
    )


async def test_a_thread_retried_after_a_failure_does_not_repost_its_first_items(
    app: Harness, fake_threads: FakeThreads
) -> None:
    """Item 2 meets a 5xx before acting: the retry resumes at item 2."""
    fake_threads.fail_next("create", "unavailable", after=1)
    status, user, _ = await publish(app, fake_threads, threads_post("", "one", "two", "three"))

    assert status["status"] == "published", status
    assert [p.text for p in fake_threads.posts_by(user)] == ["one", "two", "three"]
    assert len(fake_threads.calls("publish")) == 3
