"""Event webhooks end to end: a state change, its outbox row, the signed POST to a loopback
receiver, retries, order per post, isolation between users, the SSRF guard at delivery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from masthead.dispatch.deliveries import EVENT_HEADER, EVENT_ID_HEADER
from masthead.platforms.webhook import SIGNATURE_HEADER
from tests.support.harness import Caller, Harness, webhook_post
from tests.support.receiver import Delivery, Receiver, verify


async def subscribe(
    harness: Harness, caller: Caller, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await harness.client.post(
        "/v2/webhooks", json={"url": url, "events": events or ["*"]}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def payload(delivery: Delivery) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(delivery.body)
    return body


def check_signed(delivery: Delivery, secret: str) -> dict[str, Any]:
    body = payload(delivery)
    assert verify(secret, delivery.headers[SIGNATURE_HEADER.lower()], delivery.body)
    assert delivery.headers[EVENT_HEADER.lower()] == body["type"]
    assert delivery.headers[EVENT_ID_HEADER.lower()] == body["id"]
    return body


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
