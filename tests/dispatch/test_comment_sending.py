"""The outbound comment loop: posted once, a lost answer settled by looking, never sent
twice; transient errors retried, permanent ones failed with the platform's words."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from masthead.dispatch import engine
from masthead.domain.comments import CommentRefused, ErrorCode
from masthead.platforms.base import CommentDraft, OutcomeUnknown, Permanent, Retryable
from masthead.services import webhooks
from masthead.store import comments as comment_store
from masthead.store import events
from masthead.store.models import Comment
from masthead.timeutil import utcnow
from tests.conftest import make_settings
from tests.support.comments import ScriptedComments, remote, seed_post
from tests.support.harness import Caller, Harness, running_app
from tests.support.receiver import Receiver


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(engine, "RETRY_DELAYS", (0.2, 0.2, 0.2, 0.2, 0.2, 0.2))
    yield


@pytest.fixture
def platform() -> ScriptedComments:
    return ScriptedComments()


@pytest.fixture
async def worker(
    tmp_path: Path, database_url: str, platform: ScriptedComments
) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path, database_url=database_url, api_rate_limits="off", dispatch_max_attempts=3
    )
    async with running_app(settings) as running:
        running.ctx.publishers["instagram"] = platform
        yield running


async def published(harness: Harness) -> tuple[Caller, str, str]:
    caller = await harness.user()
    account = await harness.account(caller, "instagram")
    return caller, account, await seed_post(harness.db, caller, account, "instagram")


async def comment(harness: Harness, caller: Caller, post: str, text: str = "Thanks!") -> str:
    response = await harness.client.post(
        "/v2/comments",
        content=orjson.dumps({"postId": post, "text": text}),
        headers={**caller.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    comment_id: str = response.json()["id"]
    return comment_id


async def settled(harness: Harness, caller: Caller, comment_id: str) -> dict[str, Any]:
    for _ in range(500):
        response = await harness.client.get(f"/v2/comments/{comment_id}", headers=caller.headers)
        body: dict[str, Any] = response.json()
        if body["status"] in ("posted", "failed"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"comment still {body['status']}")


async def test_a_queued_comment_is_posted_with_the_platform_id(
    worker: Harness, platform: ScriptedComments
) -> None:
    caller, _, post = await published(worker)
    body = await settled(worker, caller, await comment(worker, caller, post))
    assert (body["status"], body["platformCommentId"], body["errorCode"]) == ("posted", "c1", None)
    assert platform.sends == 1


async def test_a_reply_whose_answer_was_dropped_is_posted_exactly_once(
    worker: Harness, platform: ScriptedComments
) -> None:
    platform.script.append(("arrived", OutcomeUnknown("Meta did not answer within 60 s")))
    caller, _, post = await published(worker)
    body = await settled(worker, caller, await comment(worker, caller, post))
    assert (body["status"], body["platformCommentId"]) == ("posted", "c1")
    assert platform.sends == 1 and platform.finds == 1
    assert len(platform.posted) == 1


async def test_a_dropped_answer_that_cannot_be_found_is_outcome_unknown_not_resent(
    worker: Harness, platform: ScriptedComments
) -> None:
    platform.script.append(OutcomeUnknown("connection reset after sending"))
    caller, _, post = await published(worker)
    body = await settled(worker, caller, await comment(worker, caller, post))
    assert body["status"] == "failed" and body["errorCode"] == ErrorCode.UNKNOWN
    assert body["errorMessage"].startswith("Outcome unknown:")
    assert platform.sends == 1


async def test_transient_errors_are_retried_and_permanent_ones_keep_the_platform_words(
    worker: Harness, platform: ScriptedComments
) -> None:
    caller, _, post = await published(worker)
    platform.script += [Retryable("Meta: too many calls", retry_after=0.1), None]
    retried = await settled(worker, caller, await comment(worker, caller, post, "one"))
    assert retried["status"] == "posted" and platform.sends == 2
    platform.script.append(Permanent("(#100) The comment contains a blocked word"))
    refused = await settled(worker, caller, await comment(worker, caller, post, "two"))
    assert (refused["errorCode"], refused["errorMessage"]) == (
        ErrorCode.REFUSED,
        "(#100) The comment contains a blocked word",
    )
    platform.script.append(CommentRefused("Comments are turned off", ErrorCode.TURNED_OFF))
    off = await settled(worker, caller, await comment(worker, caller, post, "three"))
    assert off["errorCode"] == ErrorCode.TURNED_OFF


async def test_a_rate_limit_still_hit_after_the_attempts_fails_with_20304(
    worker: Harness, platform: ScriptedComments
) -> None:
    caller, _, post = await published(worker)
    platform.script += [Retryable("Meta: too many calls", retry_after=0.05)] * 3
    body = await settled(worker, caller, await comment(worker, caller, post))
    assert body["errorCode"] == ErrorCode.RATE_LIMITED and platform.sends == 3


async def test_a_crash_between_the_mark_and_the_answer_is_settled_by_looking(
    worker: Harness, platform: ScriptedComments
) -> None:
    """A row as a killed worker leaves it: marked, leased to a dead owner, no platform id."""
    caller, account, post = await published(worker)
    platform.posted.append(("c9", CommentDraft("Sent before the crash")))
    comment_id = str(uuid.uuid4())
    past = utcnow() - timedelta(minutes=5)

    def leave(conn: Connection) -> None:
        conn.execute(
            insert(Comment).values(
                id=comment_id,
                user_id=caller.user_id,
                account_id=int(account),
                post_id=post,
                platform="instagram",
                is_author=True,
                first_comment=False,
                text="Sent before the crash",
                status="processing",
                due_at=past,
                attempt=1,
                lease_owner="dead-worker",
                lease_until=past,
                sending_at=past,
                created_at=past,
                updated_at=past,
            )
        )
        events.announce(conn)

    await worker.db.write(leave)
    body = await settled(worker, caller, comment_id)
    assert (body["status"], body["platformCommentId"]) == ("posted", "c9")
    assert platform.sends == 0


async def test_comment_events_go_out_through_the_outbox(
    tmp_path: Path, platform: ScriptedComments, receiver: Receiver
) -> None:
    settings = make_settings(tmp_path, api_rate_limits="off", fetch_allow=receiver.allow)
    async with running_app(settings) as harness:
        harness.ctx.publishers["instagram"] = platform
        caller, account, post = await published(harness)
        ctx = harness.ctx
        await webhooks.create(
            ctx.db,
            ctx.secrets,
            ctx.settings.fetch_allow,
            caller.user_id,
            url=receiver.events_url,
            events=["comment.received", "comment.posted", "comment.failed"],
        )
        where = comment_store.Captured(caller.user_id, int(account), post, "instagram")
        for _ in range(2):  # seen twice (webhook, then poll): one row, one event
            await harness.db.write(
                lambda c: comment_store.capture(c, where, [remote("181")], utcnow())
            )
        posted = await settled(harness, caller, await comment(harness, caller, post, "Thanks!"))
        platform.script.append(Permanent("Refused"))
        failed = await settled(harness, caller, await comment(harness, caller, post, "No"))
        deliveries = await receiver.wait_for_events(3)
        await asyncio.sleep(0.3)  # nothing more arrives
        bodies = [orjson.loads(d.body) for d in receiver.events()]
    by_type = {b["type"]: b["data"] for b in bodies}
    assert len(bodies) == len(deliveries) == 3
    assert sorted(by_type) == ["comment.failed", "comment.posted", "comment.received"]
    assert by_type["comment.received"]["platformCommentId"] == "181"
    assert by_type["comment.posted"] == posted
    assert by_type["comment.failed"] == failed
