"""The whole path with the webhook target: API → store → dispatch → signed POST → status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy.engine import Connection

from masthead.platforms.webhook import REDELIVERY_HEADER, SIGNATURE_HEADER
from masthead.store import accounts
from tests.conftest import make_settings
from tests.support.harness import Harness, running_app, webhook_post
from tests.support.receiver import Fault, Receiver, verify


async def test_immediate_webhook_post_is_delivered_once_signed_and_published(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    response = await harness.create_post(caller, webhook_post(account, receiver.url, "Hi there"))
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]

    status = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "published", status
    assert status["publicUrl"] == receiver.url
    deliveries = await receiver.wait_for(1)
    assert len(deliveries) == 1
    delivery = deliveries[0]
    payload = orjson.loads(delivery.body)
    assert payload["postSubmissionId"] == post_id
    assert payload["text"] == "Hi there"
    assert payload["accountId"] == account
    me = (await harness.client.get("/v2/users/me", headers=caller.headers)).json()
    assert verify(
        me["webhookSigningSecret"], delivery.headers[SIGNATURE_HEADER.lower()], delivery.body
    )


async def test_scheduled_webhook_post_fires_at_its_second_not_before(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    body = webhook_post(account, receiver.url, scheduledTime=at.isoformat())
    response = await harness.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    assert (await harness.status(caller, post_id))["status"] == "scheduled"

    deliveries = await receiver.wait_for(1, timeout=10)
    assert len(deliveries) == 1
    lag = deliveries[0].received_at - at.timestamp()
    assert 0 <= lag < 1.0, f"delivered {lag:+.3f}s from its time"
    payload = orjson.loads(deliveries[0].body)
    assert payload["scheduledTime"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    published_at = datetime.fromisoformat(payload["publishedAt"])
    assert payload["publishedAt"].endswith("Z") and published_at >= at
    status = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "published"


async def test_receiver_503_is_retried_and_then_published(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.script.append(Fault(status=503, headers={"Retry-After": "1"}))
    caller = await harness.user()
    account = await harness.account(caller)
    response = await harness.create_post(caller, webhook_post(account, receiver.url))
    post_id = response.json()["postSubmissionId"]
    status = await harness.wait_status(caller, post_id, {"published", "failed"}, timeout=10)
    assert status["status"] == "published", status
    assert len(receiver.deliveries) == 2


async def test_receiver_404_fails_permanently_with_its_answer(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.script.append(Fault(status=404))
    caller = await harness.user()
    account = await harness.account(caller)
    response = await harness.create_post(caller, webhook_post(account, receiver.url))
    post_id = response.json()["postSubmissionId"]
    status = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "failed"
    assert "404" in status["errorMessage"]
    await asyncio.sleep(0.2)
    assert len(receiver.deliveries) == 1


async def test_a_delivery_whose_answer_never_comes_is_delivered_again_with_the_same_id(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The receiver takes the request but answers after the timeout: the post is not left
    "outcome unknown" but delivered again, marked as a redelivery, and published."""
    receiver.script.append(Fault(delay=3.0))
    settings = make_settings(
        tmp_path, fetch_allow=receiver.allow, api_rate_limits="off", webhook_timeout_seconds=0.5
    )
    async with running_app(settings) as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        response = await harness.create_post(caller, webhook_post(account, receiver.url))
        post_id = response.json()["postSubmissionId"]
        status = await harness.wait_status(caller, post_id, {"published", "failed"}, timeout=30)

    assert status["status"] == "published", status
    first, again = receiver.deliveries[:2]
    assert orjson.loads(first.body)["postSubmissionId"] == post_id
    assert orjson.loads(again.body)["postSubmissionId"] == post_id
    assert REDELIVERY_HEADER.lower() not in first.headers
    assert again.headers[REDELIVERY_HEADER.lower()] == "1"


@pytest.mark.postgres
async def test_a_burst_for_one_account_reads_and_decrypts_the_account_once(
    tmp_path: Path, receiver: Receiver, fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL a read yields to the loop, so every post of a claim asks for the account
    # before the first answer is cached: the engine must share that one read.
    settings = make_settings(
        tmp_path, fetch_allow=receiver.allow, api_rate_limits="off", database_url=fresh_pg_url
    )
    async with running_app(settings) as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        at = datetime.now(UTC) + timedelta(seconds=3)
        body = webhook_post(account, receiver.url, scheduledTime=at.isoformat())
        ids = [
            (await harness.create_post(caller, body)).json()["postSubmissionId"] for _ in range(20)
        ]
        reads: list[int] = []
        real = accounts.account_by_id

        def counted(conn: Connection, account_id: int) -> accounts.AccountRow | None:
            reads.append(account_id)
            return real(conn, account_id)

        monkeypatch.setattr(accounts, "account_by_id", counted)
        for post_id in ids:
            status = await harness.wait_status(caller, post_id, {"published", "failed"})
            assert status["status"] == "published", status

    assert len(await receiver.wait_for(20)) == 20
    assert len(reads) <= 1
