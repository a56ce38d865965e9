"""PostgreSQL mode with the API and the worker in separate processes: NOTIFY wake-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from masthead.security import Secrets
from masthead.store.database import Database
from tests.support.harness import Caller, migrate, seed_account, seed_user, webhook_post
from tests.support.receiver import Receiver
from tests.support.server import ServerProcess

pytestmark = pytest.mark.postgres
SECRET = "pg-process-secret"


@pytest.fixture
def processes(
    tmp_path: Path, receiver: Receiver, fresh_pg_url: str
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {
        "MASTHEAD_SECRET_KEY": SECRET,
        "MASTHEAD_DATABASE_URL": fresh_pg_url,
        "MASTHEAD_FETCH_ALLOW": receiver.allow,
        "MASTHEAD_API_RATE_LIMITS": "off",
    }
    api = ServerProcess(tmp_path / "api", env, ("serve", "--no-worker"))
    worker = ServerProcess(tmp_path / "worker", env, ("worker",))
    for process in (api, worker):
        process.data_dir.mkdir()
    yield api, worker
    api.kill()
    worker.kill()


async def test_an_immediate_post_on_an_api_only_process_is_sent_by_a_separate_worker(
    processes: tuple[ServerProcess, ServerProcess], receiver: Receiver, fresh_pg_url: str
) -> None:
    api, worker = processes
    await migrate(fresh_pg_url)
    db = Database(fresh_pg_url)
    await db.start()
    caller: Caller = await seed_user(db, Secrets([SECRET]), "pg@example.com")
    account = await seed_account(db, caller, "webhook")
    await db.close()
    await asyncio.to_thread(worker.start)
    await asyncio.to_thread(api.start)
    await asyncio.sleep(1.0)  # let the worker reach its idle sleep, so only NOTIFY can wake it

    async with httpx.AsyncClient(base_url=api.base_url, headers=caller.headers) as client:
        sent_at = time.time()
        response = await client.post("/v2/posts", json=webhook_post(account, receiver.url))
        assert response.status_code == 201, response.text
        deliveries = await receiver.wait_for(1, timeout=10)
        assert len(deliveries) == 1
        assert deliveries[0].received_at - sent_at < 2.0, "woken by NOTIFY, not by polling"
        post_id = response.json()["postSubmissionId"]
        for _ in range(100):
            status = (await client.get(f"/v2/posts/{post_id}")).json()
            if status["status"] == "published":
                break
            await asyncio.sleep(0.05)
        assert status["status"] == "published"
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
