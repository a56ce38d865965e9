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


def windows_needed(count: int, limit: int) -> int:
    return math.ceil(count / limit)


def assert_paced(times: list[float], limit: int) -> None:
    """What the receiver can tell without knowing when each budget unit was spent (a delivery
    arrives a little later, more so on a loaded machine). Fixed windows let `limit` go out at
    the end of one window and `limit` more at the start of the next, but never `2 * limit + 1`
    within less than a window; and `n` deliveries cross at least `windows_needed - 1` window
    boundaries, so the first and the last are more than `windows_needed - 2` windows apart.
    Half a window of slack absorbs the delivery delay."""
    needed = windows_needed(len(times), limit)
    assert times[-1] - times[0] > (needed - 2) * WINDOW, "faster than the budget allows"
    spans = [times[i + 2 * limit] - times[i] for i in range(len(times) - 2 * limit)]
    assert min(spans) > WINDOW / 2, "more than the budget went out at once"


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
        statuses = [
            (await app.wait_status(caller, post_id, {"published", "failed"}))["status"]
            for post_id in ids
        ]

    busy_times = sorted(d.received_at for d in deliveries if d.path == "/busy")
    quiet_times = sorted(d.received_at for d in deliveries if d.path == "/quiet")
    assert statuses == ["published"] * 12  # waiting for a budget is not failing
    assert len(busy_times) == 9 and len(quiet_times) == 3
    # One budget shared by both accounts would serve the nine older busy posts first; per
    # account, the quiet posts go out in the first window (or the next, when a boundary falls
    # inside the first burst), long before the busy account's last three.
    assert max(quiet_times) < busy_times[6], "the quiet account waited behind the busy one"
    assert_paced(busy_times, 3)


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
    assert_paced(times, 5)
