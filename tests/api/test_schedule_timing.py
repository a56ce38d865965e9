"""Section 5 against the real dispatcher: a moved post does not fire at its old time, a
cancelled one never fires, an edited one sends its new draft."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import orjson

from tests.api.conftest import created_id, hook_post
from tests.support.harness import Harness
from tests.support.receiver import Receiver


def whole_seconds_ahead(seconds: int) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds + 1)).replace(microsecond=0)


async def sleep_until(when: datetime) -> None:
    await asyncio.sleep(max(0.0, when.timestamp() - time.time()))


async def test_a_rescheduled_post_does_not_fire_at_its_old_time(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    old = whole_seconds_ahead(2)
    post_id = await created_id(
        harness, caller, hook_post(account, url=receiver.url, scheduledTime=old.isoformat())
    )
    new = old + timedelta(seconds=2)
    response = await harness.client.patch(
        f"/v2/schedules/{post_id}",
        json={"patch": {"scheduledTime": new.isoformat()}},
        headers=caller.headers,
    )
    assert response.status_code == 204

    await sleep_until(old + timedelta(seconds=0.5))
    assert receiver.deliveries == []
    assert (await harness.status(caller, post_id))["status"] == "scheduled"

    deliveries = await receiver.wait_for(1, timeout=5)
    assert len(deliveries) == 1
    lag = deliveries[0].received_at - new.timestamp()
    assert 0 <= lag < 1.0, f"delivered {lag:+.3f}s from its new time"
    status = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "published"
    await asyncio.sleep(0.3)
    assert len(receiver.deliveries) == 1


async def test_a_deleted_schedule_never_fires(harness: Harness, receiver: Receiver) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    when = whole_seconds_ahead(2)
    post_id = await created_id(
        harness, caller, hook_post(account, url=receiver.url, scheduledTime=when.isoformat())
    )
    response = await harness.client.delete(f"/v2/schedules/{post_id}", headers=caller.headers)
    assert response.status_code == 204

    await sleep_until(when + timedelta(seconds=1.5))
    assert receiver.deliveries == []
    gone = await harness.client.get(f"/v2/posts/{post_id}", headers=caller.headers)
    assert gone.status_code == 404


async def test_an_edited_draft_is_what_gets_sent(harness: Harness, receiver: Receiver) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    when = whole_seconds_ahead(1)
    post_id = await created_id(
        harness,
        caller,
        hook_post(account, url=receiver.url, text="before", scheduledTime=when.isoformat()),
    )
    draft = hook_post(account, url=receiver.url, text="after")["post"]
    response = await harness.client.patch(
        f"/v2/schedules/{post_id}", json={"patch": {"draft": draft}}, headers=caller.headers
    )
    assert response.status_code == 204
    deliveries = await receiver.wait_for(1, timeout=5)
    assert len(deliveries) == 1
    assert orjson.loads(deliveries[0].body)["text"] == "after"
    assert deliveries[0].received_at >= when.timestamp()
