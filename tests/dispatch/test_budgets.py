"""Platform budgets in dispatch: a burst waits instead of failing, one busy account does not
starve the others, and two worker processes on PostgreSQL share one budget."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import httpx
import pytest

from masthead.security import Secrets
from masthead.store.database import Database
from tests.conftest import make_settings
from tests.support.harness import migrate, running_app, seed_account, seed_user, webhook_post
from tests.support.receiver import Receiver
from tests.support.server import ServerProcess

WINDOW = 2


def windows(times: list[float]) -> list[int]:
    return [math.floor(t / WINDOW) for t in times]


def most_in_one_window(times: list[float], slack: float = 0.05) -> int:
    """Deliveries arrive a little after the budget was spent: a delivery within `slack` after
    a window boundary is counted in the window before it."""
    counts: dict[int, int] = {}
    for t in times:
        window = math.floor((t - slack) / WINDOW)
        counts[window] = counts.get(window, 0) + 1
    return max(counts.values())


async def test_a_busy_account_does_not_starve_another(tmp_path: Path, receiver: Receiver) -> None:
    settings = make_settings(
        tmp_path,
        fetch_allow=receiver.allow,
        api_rate_limits="off",
        rate_budgets=f"webhook.account=3/{WINDOW}s",
    )
    base = receiver.url.rsplit("/", 1)[0]
    async with running_app(settings) as app:
        caller = await app.user()
        busy, quiet = await app.account(caller), await app.account(caller, username="quiet")
        ids = []
        for _ in range(9):
            response = await app.create_post(caller, webhook_post(busy, f"{base}/busy"))
            ids.append(response.json()["postSubmissionId"])
        for _ in range(3):
            response = await app.create_post(caller, webhook_post(quiet, f"{base}/quiet"))
            ids.append(response.json()["postSubmissionId"])
        deliveries = await receiver.wait_for(12, timeout=4 * WINDOW + 5)
        statuses = [(await app.status(caller, post_id))["status"] for post_id in ids]

    busy_times = sorted(d.received_at for d in deliveries if d.path == "/busy")
    quiet_times = sorted(d.received_at for d in deliveries if d.path == "/quiet")
    assert statuses == ["published"] * 12  # waiting for a budget is not failing
    assert len(busy_times) == 9 and len(quiet_times) == 3
    assert max(quiet_times) < busy_times[3], "the quiet account waited behind the busy one"
    assert most_in_one_window(busy_times) <= 3
    assert len(set(windows(busy_times))) >= 3


@pytest.mark.postgres
async def test_two_workers_on_postgresql_share_one_budget(
    tmp_path: Path, receiver: Receiver, fresh_pg_url: str
) -> None:
    secret = "budget-secret"
    await migrate(fresh_pg_url)
    db = Database(fresh_pg_url)
    await db.start()
    caller = await seed_user(db, Secrets([secret]), "budget@example.com")
    account = await seed_account(db, caller, "webhook")
    await db.close()
    env = {
        "MASTHEAD_SECRET_KEY": secret,
        "MASTHEAD_DATABASE_URL": fresh_pg_url,
        "MASTHEAD_FETCH_ALLOW": receiver.allow,
        "MASTHEAD_API_RATE_LIMITS": "off",
        "MASTHEAD_RATE_BUDGETS": f"webhook.app=5/{WINDOW}s",
        "MASTHEAD_DISPATCH_CONCURRENCY": "4",
    }
    api = ServerProcess(tmp_path / "api", env, ("serve", "--no-worker"))
    workers = [ServerProcess(tmp_path / f"w{n}", env, ("worker",)) for n in range(2)]
    for process in (api, *workers):
        process.data_dir.mkdir()
    try:
        for worker in workers:
            worker.start()
        await asyncio.to_thread(api.start)
        async with httpx.AsyncClient(base_url=api.base_url, headers=caller.headers) as client:
            for _ in range(20):
                response = await client.post("/v2/posts", json=webhook_post(account, receiver.url))
                assert response.status_code == 201, response.text
        deliveries = await receiver.wait_for(20, timeout=6 * WINDOW + 10)
    finally:
        for process in (api, *workers):
            process.kill()

    times = sorted(d.received_at for d in deliveries)
    assert len(times) == 20
    assert most_in_one_window(times) <= 5
    assert len(set(windows(times))) >= 4
