"""Event webhooks in tests: subscribe through the API, read and check what arrived."""

from __future__ import annotations

from typing import Any

import orjson

from masthead.dispatch.deliveries import EVENT_HEADER, EVENT_ID_HEADER
from masthead.platforms.webhook import SIGNATURE_HEADER
from tests.support.harness import Caller, Harness
from tests.support.receiver import Delivery, verify


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
