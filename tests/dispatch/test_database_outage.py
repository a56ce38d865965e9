"""A database outage of 20 s while posts are due and arriving (issue #20, class 2): the API
answers 503 with `Retry-After` (never a 500) and stores nothing half-way, the engine backs off
and says so in `/readyz` and `/metrics`, and once the database is back it resumes by itself,
within 5 s, and every accepted post goes out.

Two real outages (tests/support/outages.py), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from masthead.store.database import Database
from tests.support.crashes import seed_webhook_account, wait_settled
from tests.support.harness import Caller, webhook_post
from tests.support.outages import Setup
from tests.support.outages import setup as setup  # the fixture, shared
from tests.support.receiver import Receiver
from tests.support.server import ServerProcess

SECRET = "outage-test-secret"
OUTAGE_SECONDS = 20.0
RESUME_SECONDS = 5.0
"""The issue's bound: from the database's return to the next delivery."""
DUE_DURING = 20
"""Posts scheduled to fall due while the database is out."""
ARRIVAL_SECONDS = 0.5
"""A new post is sent to the API this often during the outage."""


@asynccontextmanager
async def _server(tmp_path: Path, setup: Setup, receiver: Receiver) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_FETCH_ALLOW": receiver.allow,
            "MASTHEAD_API_RATE_LIMITS": "off",
            **setup.env,
        },
    )
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        server.kill()


async def _arrivals(
    client: httpx.AsyncClient, account: str, receiver: Receiver, until: float
) -> list[httpx.Response]:
    """A new immediate post every ARRIVAL_SECONDS until `until`, each answered in its time."""
    requests: list[asyncio.Task[httpx.Response]] = []
    while time.monotonic() < until:
        body = webhook_post(account, receiver.url, f"during the outage {len(requests)}")
        requests.append(asyncio.create_task(client.post("/v2/posts", json=body)))
        await asyncio.sleep(ARRIVAL_SECONDS)
    return list(await asyncio.gather(*requests))


async def _watch(client: httpx.AsyncClient, until: float) -> list[tuple[int, dict[str, object]]]:
    """`/readyz` once a second: (status, engine) pairs."""
    seen: list[tuple[int, dict[str, object]]] = []
    while time.monotonic() < until:
        ready = await client.get("/readyz")
        seen.append((ready.status_code, ready.json().get("engine", {})))
        await asyncio.sleep(1.0)
    return seen


async def test_a_database_outage_is_ridden_out_and_nothing_is_lost(
    tmp_path: Path, setup: Setup, receiver: Receiver
) -> None:
    caller: Caller
    caller, account = await seed_webhook_account(setup.url, SECRET, "outage@example.com")
    db = Database(setup.url)
    async with _server(tmp_path, setup, receiver) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=caller.headers, timeout=60
        ) as client:
            begin = datetime.now(UTC) + timedelta(seconds=3)
            due = [
                webhook_post(
                    account,
                    receiver.url,
                    f"due during the outage {n}",
                    scheduledTime=(begin + timedelta(seconds=1 + n * 0.5)).isoformat(),
                )
                for n in range(DUE_DURING)
            ]
            scheduled = [await client.post("/v2/posts", json=body) for body in due]
            assert [r.status_code for r in scheduled] == [201] * DUE_DURING
            await asyncio.sleep(max(0.0, (begin - datetime.now(UTC)).total_seconds()))

            end_outage = await setup.outage()
            ends = time.monotonic() + OUTAGE_SECONDS
            arrivals, readiness = await asyncio.gather(
                _arrivals(client, account, receiver, ends), _watch(client, ends)
            )
            delivered_before = len(receiver.deliveries)
            await end_outage()
            back = time.time()

            # Overdue posts wait: the first delivery after the return shows the engine resumed.
            await receiver.wait_for(delivered_before + 1, timeout=30)
            resumed_in = receiver.deliveries[delivered_before].received_at - back
            metrics = (await client.get("/metrics")).text

        await db.start()
        try:
            outcomes = await wait_settled(db, timeout=60)
        finally:
            await db.close()

    statuses = Counter(r.status_code for r in arrivals)
    assert set(statuses) <= {201, 503}, statuses  # never a 500
    assert statuses[503] > 0, statuses  # the outage was felt
    for refused in (r for r in arrivals if r.status_code == 503):
        assert refused.headers["retry-after"].isdigit(), refused.headers
        assert "database is unavailable" in refused.json()["message"]

    assert any(
        status == 503 and engine.get("state") == "backing-off" for status, engine in readiness
    ), readiness
    assert resumed_in < RESUME_SECONDS, resumed_in
    assert 'masthead_dispatch_state{masthead_dispatch_state="running"} 1.0' in metrics
    assert "masthead_dispatch_consecutive_failures 0.0" in metrics

    accepted = {
        r.json()["postSubmissionId"] for r in [*scheduled, *arrivals] if r.status_code == 201
    }
    # Exactly the accepted posts are stored (no half-written one), and every one went out.
    assert {o.id for o in outcomes} == accepted
    assert {o.state for o in outcomes} == {"published"}, Counter(o.state for o in outcomes)
    delivered = Counter(d.headers["x-masthead-delivery"] for d in receiver.deliveries)
    assert set(delivered) == accepted
    # A delivery may repeat only as a marked redelivery (an answer lost in a cut connection).
    for post_id, count in delivered.items():
        if count > 1:
            repeats = [
                d for d in receiver.deliveries if d.headers["x-masthead-delivery"] == post_id
            ]
            assert all("x-masthead-redelivery" in d.headers for d in repeats[1:]), repeats
