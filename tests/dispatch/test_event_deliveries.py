"""Event webhooks end to end: a state change, its outbox row, the signed POST to a loopback
receiver, retries, order per post, isolation between users, the SSRF guard at delivery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.store import accounts
from masthead.timeutil import utcnow
from tests.conftest import make_settings
from tests.support.events import check_signed, payload, subscribe
from tests.support.harness import Caller, Harness, running_app, webhook_post
from tests.support.receiver import Fault, Receiver


async def test_a_published_post_is_delivered_signed_with_its_status(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    hook = await subscribe(harness, caller, receiver.events_url, ["post.published"])
    body = webhook_post(account, receiver.url, "One")
    post_id = (await harness.create_post(caller, body)).json()["postSubmissionId"]

    [delivery] = await receiver.wait_for_events(1)
    event = check_signed(delivery, hook["secret"])
    assert event["type"] == "post.published"
    assert event["id"].startswith("evt_")
    status = await harness.status(caller, post_id)
    assert {k: v for k, v in event["data"].items() if k != "items"} == status
    assert event["data"]["items"] == [{"publicUrl": receiver.url}]
    assert datetime.fromisoformat(event["createdAt"]) <= datetime.now(UTC)


@pytest.fixture
def settings(tmp_path: Path, receiver: Receiver) -> Settings:
    """Retries a few hundredths of a second apart, and a webhook target that gives up
    waiting after a second and has one attempt (so that a held answer, which would otherwise
    be delivered again, is an unknown outcome)."""
    return make_settings(
        tmp_path,
        fetch_allow=receiver.allow,
        api_rate_limits="off",
        webhook_timeout_seconds=1.0,
        dispatch_max_attempts=1,
        event_retry_base_seconds=0.05,
    )


async def test_every_event_type_reaches_the_receiver_signed(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    hook = await subscribe(harness, caller, receiver.events_url)
    later = (utcnow() + timedelta(hours=1)).isoformat()
    scheduled = await harness.create_post(
        caller, webhook_post(account, receiver.url, scheduledTime=later)
    )
    scheduled_id = scheduled.json()["postSubmissionId"]
    cancel = await harness.client.delete(f"/v2/schedules/{scheduled_id}", headers=caller.headers)
    assert cancel.status_code == 204, cancel.text
    receiver.script.append(Fault(status=400, path="/hook"))
    failed = await harness.create_post(caller, webhook_post(account, receiver.url, "refused"))
    await receiver.wait_for_events(3)
    receiver.script.append(Fault(delay=1.5, path="/hook"))  # held past the 1 s timeout
    unknown = await harness.create_post(caller, webhook_post(account, receiver.url, "held"))
    await receiver.wait_for_events(4)
    published = await harness.create_post(caller, webhook_post(account, receiver.url, "fine"))
    await receiver.wait_for_events(5)

    def disconnect(conn: Any) -> None:
        accounts.disconnect(conn, int(account), "Token revoked by the user", utcnow())

    await harness.db.write(disconnect)
    await connected_again(harness, caller, account)

    events = [check_signed(d, hook["secret"]) for d in await receiver.wait_for_events(7)]
    by_type = {e["type"]: e for e in events}
    assert [e["type"] for e in events] == [
        "post.scheduled",
        "post.cancelled",
        "post.failed",
        "post.outcome_unknown",
        "post.published",
        "account.disconnected",
        "account.connected",
    ]
    assert len({e["id"] for e in events}) == 7
    assert by_type["post.scheduled"]["data"]["postSubmissionId"] == scheduled_id
    assert by_type["post.scheduled"]["data"]["status"] == "scheduled"
    assert by_type["post.cancelled"]["data"]["status"] == "cancelled"
    failure = by_type["post.failed"]["data"]
    assert failure["postSubmissionId"] == failed.json()["postSubmissionId"]
    assert "400" in failure["errorMessage"]
    doubt = by_type["post.outcome_unknown"]["data"]
    assert doubt["postSubmissionId"] == unknown.json()["postSubmissionId"]
    assert doubt["outcome"] == "unknown"
    done = by_type["post.published"]["data"]
    assert done["postSubmissionId"] == published.json()["postSubmissionId"]
    assert done["publicUrl"] == receiver.url
    listed = (await harness.client.get("/v2/users/me/accounts", headers=caller.headers)).json()
    assert by_type["account.disconnected"]["data"] == {
        **listed["items"][0],
        "reason": "Token revoked by the user",
    }
    assert by_type["account.connected"]["data"] == listed["items"][0]


async def connected_again(harness: Harness, caller: Caller, account: str) -> None:
    """The reconnect path every door shares (store.accounts.save_connected)."""

    def reconnect(conn: Any) -> None:
        accounts.save_connected(
            conn,
            user_id=caller.user_id,
            platform="webhook",
            external_id=f"webhook-{caller.email}",
            username="webhook",
            fullname="Webhook",
            profile_image_url=None,
            credentials=None,
            subaccounts=[],
            now=utcnow(),
        )

    await harness.db.write(reconnect)


async def test_a_receiver_failing_five_times_gets_the_same_event_once_more(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.script.extend(Fault(status=500, path="/events") for _ in range(5))
    caller = await harness.user()
    account = await harness.account(caller)
    hook = await subscribe(harness, caller, receiver.events_url, ["post.published"])
    await harness.create_post(caller, webhook_post(account, receiver.url))

    attempts = await receiver.wait_for_events(6, timeout=20)
    await asyncio.sleep(0.3)  # nothing more may come
    assert len(receiver.events()) == 6
    ids = {check_signed(d, hook["secret"])["id"] for d in attempts}
    assert len(ids) == 1
    log = await harness.client.get(f"/v2/webhooks/{hook['id']}/deliveries", headers=caller.headers)
    [entry] = log.json()["items"]
    assert (entry["status"], entry["attempts"], entry["responseStatus"]) == ("delivered", 6, 200)
    assert entry["eventId"] in ids


async def test_events_for_one_post_arrive_in_order_while_the_first_is_retried(
    harness: Harness, receiver: Receiver, tmp_path: Path
) -> None:
    # post.scheduled fails five times (backoff 0.8-1.6 s in all) while the post itself goes
    # out after 0.3 s: post.published must wait until post.scheduled got through.
    receiver.script.extend(Fault(status=503, path="/events") for _ in range(5))
    caller = await harness.user()
    account = await harness.account(caller)
    await subscribe(harness, caller, receiver.events_url)
    soon = (utcnow() + timedelta(seconds=0.3)).isoformat()
    await harness.create_post(caller, webhook_post(account, receiver.url, scheduledTime=soon))

    events = [payload(d)["type"] for d in await receiver.wait_for_events(7, timeout=20)]
    assert events == ["post.scheduled"] * 6 + ["post.published"]


async def test_a_user_never_receives_another_users_events(
    harness: Harness, receiver: Receiver
) -> None:
    ada = await harness.user("ada@example.com")
    bob = await harness.user("bob@example.com")
    ada_account = await harness.account(ada)
    bob_account = await harness.account(bob)
    await subscribe(harness, ada, receiver.events_url)
    await subscribe(harness, bob, receiver.events_url.replace("/events", "/bob"))
    for n in range(3):
        await harness.create_post(ada, webhook_post(ada_account, receiver.url, f"ada {n}"))
    bob_post = await harness.create_post(bob, webhook_post(bob_account, receiver.url, "bob"))

    await receiver.wait_for_events(3)
    deadline = asyncio.get_running_loop().time() + 10
    while not [d for d in receiver.deliveries if d.path == "/bob"]:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    to_bob = [payload(d) for d in receiver.deliveries if d.path == "/bob"]
    assert [e["data"]["postSubmissionId"] for e in to_bob] == [bob_post.json()["postSubmissionId"]]
    to_ada = {payload(d)["data"]["postSubmissionId"] for d in receiver.events()}
    assert bob_post.json()["postSubmissionId"] not in to_ada
    assert len(to_ada) == 3


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    harness: Harness, receiver: Receiver, dns: dict[str, list[str]]
) -> None:
    dns["hooks.example.com"] = ["127.0.0.1"]  # passes at creation, which resolves nothing
    caller = await harness.user()
    account = await harness.account(caller)
    hook = await subscribe(
        harness, caller, f"http://hooks.example.com:{receiver.port}/events", ["post.published"]
    )
    await harness.create_post(caller, webhook_post(account, receiver.url))
    await receiver.wait_for(1)  # the post itself went to its own, allowed, target

    path = f"/v2/webhooks/{hook['id']}/deliveries"
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        items = (await harness.client.get(path, headers=caller.headers)).json()["items"]
        if items and items[0]["attempts"] >= 1 and items[0]["lastAttemptAt"]:
            break
        assert asyncio.get_running_loop().time() < deadline, items
        await asyncio.sleep(0.02)
    assert items[0]["status"] == "pending"  # retried: DNS may change, the user may fix it
    assert items[0]["responseStatus"] is None
    assert "refused" in items[0]["responseExcerpt"]
    assert "127.0.0.1" in items[0]["responseExcerpt"]
    assert receiver.events() == []


async def test_failing_for_the_whole_window_switches_off_and_tells_another_subscription(
    tmp_path: Path, receiver: Receiver
) -> None:
    settings = make_settings(
        tmp_path,
        fetch_allow=receiver.allow,
        api_rate_limits="off",
        event_retry_base_seconds=0.05,
        event_retry_hours=1.5 / 3600,  # a window of 1.5 s
    )
    receiver.script.extend(Fault(status=500, path="/events") for _ in range(1000))
    async with running_app(settings) as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        failing = await subscribe(harness, caller, receiver.events_url, ["post.published"])
        other = await subscribe(
            harness, caller, receiver.events_url.replace("/events", "/ops"), ["webhook.disabled"]
        )
        await harness.create_post(caller, webhook_post(account, receiver.url))

        deadline = asyncio.get_running_loop().time() + 15
        while not [d for d in receiver.deliveries if d.path == "/ops"]:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        [notice] = [d for d in receiver.deliveries if d.path == "/ops"]
        event = check_signed(notice, other["secret"])
        assert event["type"] == "webhook.disabled"
        assert event["data"]["id"] == failing["id"]
        shown = await harness.client.get(f"/v2/webhooks/{failing['id']}", headers=caller.headers)
        assert shown.json()["enabled"] is False
        assert "failed" in shown.json()["disabledReason"]
        log = await harness.client.get(
            f"/v2/webhooks/{failing['id']}/deliveries", headers=caller.headers
        )
        [entry] = log.json()["items"]
        assert entry["status"] == "failed"
        assert entry["attempts"] > 1
        assert entry["responseStatus"] == 500
