"""X through the public API: posts and threads reach the fake X once, faults end as they must."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.fakes.x import DUPLICATE, REPLY_NOT_ALLOWED, FakeX, User
from tests.platforms.twitter.conftest import x_post
from tests.support.harness import Harness
from tests.support.platforms import connected_account


async def _publish(
    harness: Harness, fake: FakeX, *texts: str, timeout: float = 15.0
) -> tuple[dict[str, Any], User]:
    caller = await harness.user()
    user = fake.add_user("ada")
    account = await connected_account("twitter", harness, caller, fake, user)
    response = await harness.create_post(caller, x_post(account, *texts))
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    status = await harness.wait_status(caller, post_id, {"published", "failed"}, timeout)
    return status, user


async def test_text_post_is_published_once_with_its_x_url(x_app: Harness, fake_x: FakeX) -> None:
    status, user = await _publish(x_app, fake_x, "Hello from Masthead & friends")
    assert status["status"] == "published", status
    [tweet] = fake_x.tweets_by(user)
    assert tweet.text == "Hello from Masthead & friends"
    assert status["publicUrl"] == f"https://x.com/ada/status/{tweet.id}"


async def test_thread_of_three_replies_to_the_previous_post(x_app: Harness, fake_x: FakeX) -> None:
    status, user = await _publish(x_app, fake_x, "one", "two", "three")
    assert status["status"] == "published", status
    first, second, third = fake_x.tweets_by(user)
    assert [t.text for t in (first, second, third)] == ["one", "two", "three"]
    assert (first.reply_to, second.reply_to, third.reply_to) == (None, first.id, second.id)
    assert status["publicUrl"] == f"https://x.com/ada/status/{first.id}"


async def test_rate_limit_waits_for_x_reset_then_publishes_once(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.fail_next("tweets", "rate_limit")
    status, user = await _publish(x_app, fake_x, "patience")
    assert status["status"] == "published", status
    refused, accepted = fake_x.calls("tweets")
    assert accepted.at - refused.at >= fake_x.rate_limit_seconds - 1.0
    assert len(fake_x.tweets_by(user)) == 1


async def test_503_before_acting_is_retried_and_published_once(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.fail_next("tweets", "unavailable")
    status, user = await _publish(x_app, fake_x, "try again", timeout=20)
    assert status["status"] == "published", status
    assert len(fake_x.calls("tweets")) == 2
    assert len(fake_x.tweets_by(user)) == 1


async def test_dropped_connection_after_x_acted_is_reconciled_not_resent(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.fail_next("tweets", "drop_after")
    status, user = await _publish(x_app, fake_x, "did it go out?")
    assert status["status"] == "published", status
    [tweet] = fake_x.tweets_by(user)
    assert status["publicUrl"].endswith(f"/status/{tweet.id}")
    assert len(fake_x.calls("tweets")) == 1
    assert len(fake_x.calls("timeline")) == 1


async def test_500_after_x_acted_is_found_among_recent_posts(x_app: Harness, fake_x: FakeX) -> None:
    fake_x.fail_next("tweets", "server_error_after")
    status, user = await _publish(x_app, fake_x, "server hiccup")
    assert status["status"] == "published", status
    assert len(fake_x.tweets_by(user)) == 1
    assert len(fake_x.calls("tweets")) == 1


async def test_dropped_connection_that_cannot_be_checked_is_outcome_unknown_never_resent(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.fail_next("tweets", "drop_after")
    fake_x.fail_next("timeline", "unavailable")
    status, user = await _publish(x_app, fake_x, "unknown fate")
    assert status["status"] == "failed", status
    assert status["errorMessage"].startswith("Outcome unknown: "), status
    await asyncio.sleep(0.5)
    assert len(fake_x.calls("tweets")) == 1
    assert len(fake_x.tweets_by(user)) == 1


async def test_duplicate_content_fails_in_x_words_without_retrying(
    x_app: Harness, fake_x: FakeX
) -> None:
    status, user = await _publish(x_app, fake_x, "same words", "same words")
    assert status["status"] == "failed", status
    assert DUPLICATE in status["errorMessage"]
    assert "the first 1 were published: https://x.com/ada/status/" in status["errorMessage"]
    assert len(fake_x.calls("tweets")) == 2
    assert len(fake_x.tweets_by(user)) == 1


async def test_reply_restriction_fails_the_thread_naming_what_was_published(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.restrict_replies = True
    status, user = await _publish(x_app, fake_x, "root", "reply")
    assert status["status"] == "failed", status
    assert REPLY_NOT_ALLOWED in status["errorMessage"]
    [root] = fake_x.tweets_by(user)
    assert f"https://x.com/ada/status/{root.id}" in status["errorMessage"]
    assert len(fake_x.calls("tweets")) == 2


async def test_thread_item_refused_with_503_is_retried_without_reposting_earlier_items(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.fail_next("tweets", "unavailable", after=1)
    status, user = await _publish(x_app, fake_x, "first", "second", timeout=20)
    assert status["status"] == "published", status
    first, second = fake_x.tweets_by(user)
    assert second.reply_to == first.id
    assert [json.loads(c.body)["text"] for c in fake_x.calls("tweets")] == [
        "first",
        "second",
        "second",
    ]


async def test_no_calls_left_until_reset_makes_the_next_item_wait_instead_of_hitting_429(
    x_app: Harness, fake_x: FakeX
) -> None:
    fake_x.fail_next("tweets", "last_call")
    status, user = await _publish(x_app, fake_x, "first", "after the reset")
    assert status["status"] == "published", status
    first, second = fake_x.calls("tweets")
    assert second.at - first.at >= fake_x.rate_limit_seconds - 1.0
    assert len(fake_x.tweets_by(user)) == 2
