"""Invariants 1 and 2 across real process restarts and crashes of `masthead serve`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from masthead.platforms.webhook import REDELIVERY_HEADER
from tests.support.crashes import seed_webhook_account
from tests.support.harness import Caller, webhook_post
from tests.support.receiver import Fault, Receiver
from tests.support.server import ServerProcess

SECRET = "restart-test-secret"


@pytest.fixture
def server(tmp_path: Path, receiver: Receiver) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_FETCH_ALLOW": receiver.allow,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
        },
    )
    yield process
    process.kill()


async def seed(server: ServerProcess) -> tuple[Caller, str]:
    url = f"sqlite:///{server.data_dir / 'masthead.db'}"
    return await seed_webhook_account(url, SECRET, "restart@example.com")


async def wait_final(
    server: ServerProcess, caller: Caller, post_id: str, timeout: float = 15.0
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        while True:
            body: dict[str, object] = (await client.get(f"/v2/posts/{post_id}")).json()
            if body.get("status") in ("published", "failed") or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.05)


async def test_scheduled_post_is_sent_once_after_a_crash_and_restart(
    server: ServerProcess, receiver: Receiver
) -> None:
    caller, account = await seed(server)
    await asyncio.to_thread(server.start)
    at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post(
            "/v2/posts", json=webhook_post(account, receiver.url, scheduledTime=at.isoformat())
        )
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    server.kill()  # a crash right after the 201: the post must survive it
    await asyncio.to_thread(server.start)
    ready_at = time.time()

    deliveries = await receiver.wait_for(1, timeout=15)
    assert len(deliveries) == 1
    assert deliveries[0].received_at >= at.timestamp()
    # On time: counted from the due time, or from readiness if the restart took longer (a
    # loaded machine). The bound is loose against scheduling noise but well under the
    # engine's 30 s idle sleep, which is what a missed wake-up would cost.
    assert deliveries[0].received_at - max(at.timestamp(), ready_at) < 5.0
    assert (await wait_final(server, caller, post_id))["status"] == "published"
    await asyncio.sleep(0.5)
    assert len(receiver.deliveries) == 1


async def test_a_post_due_while_the_server_was_down_goes_out_once_on_start(
    server: ServerProcess, receiver: Receiver
) -> None:
    caller, account = await seed(server)
    await asyncio.to_thread(server.start)
    at = datetime.now(UTC) + timedelta(seconds=2)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post(
            "/v2/posts", json=webhook_post(account, receiver.url, scheduledTime=at.isoformat())
        )
    post_id = response.json()["postSubmissionId"]
    await asyncio.to_thread(server.terminate)
    await asyncio.sleep(max(0.0, at.timestamp() - time.time()) + 0.5)
    assert receiver.deliveries == []
    await asyncio.to_thread(server.start)
    assert len(await receiver.wait_for(1)) == 1
    assert (await wait_final(server, caller, post_id))["status"] == "published"


async def crash_mid_delivery(
    server: ServerProcess, receiver: Receiver, *then: Fault
) -> tuple[Caller, str]:
    """An immediate post whose delivery reaches the receiver, then the server is killed before
    the answer (which comes 3 s late) and started again; `then`: the receiver's next answers."""
    receiver.script.extend([Fault(status=200, delay=3.0), *then])
    caller, account = await seed(server)
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post("/v2/posts", json=webhook_post(account, receiver.url))
    assert len(await receiver.wait_for(1)) == 1
    server.kill()  # mid-request: the receiver has it, the server never saw the answer
    await asyncio.to_thread(server.start)
    return caller, str(response.json()["postSubmissionId"])


async def test_a_crash_after_sending_redelivers_the_webhook_with_the_same_id(
    server: ServerProcess, receiver: Receiver
) -> None:
    caller, post_id = await crash_mid_delivery(server, receiver)

    body = await wait_final(server, caller, post_id, timeout=20)
    assert body["status"] == "published", body
    await asyncio.sleep(0.5)
    first, again = receiver.deliveries  # at least once: the receiver de-duplicates by id
    assert REDELIVERY_HEADER.lower() not in first.headers
    assert again.headers[REDELIVERY_HEADER.lower()] == "1"
    for delivery in (first, again):
        assert delivery.headers["x-masthead-delivery"] == post_id
        assert orjson.loads(delivery.body)["postSubmissionId"] == post_id


async def test_a_redelivery_the_receiver_refuses_for_now_is_retried_as_a_redelivery(
    server: ServerProcess, receiver: Receiver
) -> None:
    caller, post_id = await crash_mid_delivery(
        server,
        receiver,
        Fault(status=503, headers={"Retry-After": "1"}),  # redelivery: not now
    )

    body = await wait_final(server, caller, post_id, timeout=30)
    assert body["status"] == "published", body
    first, refused, accepted = receiver.deliveries
    assert REDELIVERY_HEADER.lower() not in first.headers
    # Still a redelivery after the 503: its sending mark stayed, its outcome still open.
    for delivery in (refused, accepted):
        assert delivery.headers[REDELIVERY_HEADER.lower()] == "1"
        assert delivery.headers["x-masthead-delivery"] == post_id
    assert accepted.received_at - refused.received_at >= 1.0  # the receiver's Retry-After
