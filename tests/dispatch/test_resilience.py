"""The engine's own resilience: the backoff between tries through an outage, and the
supervisor that restarts a loop that ended on a bug (the outage itself:
test_database_outage.py)."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from masthead.dispatch.resilience import (
    FIRST_DELAY,
    MAX_DELAY,
    EngineHealth,
    EngineState,
    backoff_delay,
)
from masthead.store import queue
from tests.support.harness import Harness, webhook_post
from tests.support.receiver import Receiver


def test_the_backoff_doubles_from_the_first_delay_up_to_the_cap_with_jitter() -> None:
    for failures in range(1, 30):
        ceiling = min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - 1))
        delays = [backoff_delay(failures) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), failures
        assert len(set(delays)) > 1  # jittered: many waiters do not retry in step
    assert max(backoff_delay(50) for _ in range(200)) <= MAX_DELAY


@pytest.fixture
def locked_error(tmp_path: Path) -> Exception:
    """A real "database is locked": SQLite's answer to a write while another holds the lock."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (id INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.01})
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    except Exception as exc:
        return exc
    finally:
        holder.close()
        engine.dispose()
    raise AssertionError("the write went through a held lock")


async def test_an_outage_is_retried_until_it_ends_and_logged_once(
    locked_error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    health = EngineHealth()
    health.started()
    states: list[EngineState] = []
    calls = 0

    async def write() -> str:
        nonlocal calls
        calls += 1
        states.append(health.state)
        if calls <= 4:
            raise locked_error
        return "written"

    with caplog.at_level(logging.WARNING, logger="masthead.dispatch.resilience"):
        assert await health.persist(write) == "written"

    assert calls == 5
    assert states == [EngineState.RUNNING] + [EngineState.BACKING_OFF] * 4
    assert health.state == EngineState.RUNNING and health.failures == 0
    [down, back] = [r.getMessage() for r in caplog.records]  # once each, not per try
    assert down.startswith("database unavailable (") and "database is locked" in down
    assert back.startswith("database available again after") and "(4 failed calls)" in back


async def test_a_bug_is_not_retried_and_a_stopped_engine_retries_nothing(
    locked_error: Exception,
) -> None:
    health = EngineHealth()
    health.started()

    async def bug() -> None:
        raise ValueError("not an outage")

    with pytest.raises(ValueError):
        await health.persist(bug)
    health.stopped()

    async def locked() -> None:
        raise locked_error

    with pytest.raises(type(locked_error)):
        await health.persist(locked)
    assert health.state == EngineState.STOPPED


async def test_a_read_does_not_end_an_outage_while_writes_still_fail() -> None:
    writes_failing = True
    health = EngineHealth(lambda: writes_failing)
    health.started()
    assert health.state == EngineState.BACKING_OFF  # the writer's last commit failed

    async def read() -> int:
        return 1

    health.failures = 2
    await health.persist(read, write=False)
    assert health.failures == 2
    writes_failing = False
    await health.persist(read, write=False)
    assert health.failures == 0 and health.state == EngineState.RUNNING


async def test_a_loop_that_crashes_on_a_bug_is_restarted_and_dispatch_goes_on(
    harness: Harness,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatcher = harness.ctx.dispatcher
    assert dispatcher is not None
    caller = await harness.user()
    account = await harness.account(caller)
    real = queue.next_wakeup
    crashes: list[int] = []

    def next_wakeup_with_a_bug(conn: Connection) -> datetime | None:
        if not crashes:
            crashes.append(1)
            raise RuntimeError("a bug in the dispatch loop")
        return real(conn)

    monkeypatch.setattr(queue, "next_wakeup", next_wakeup_with_a_bug)
    with caplog.at_level(logging.ERROR, logger="masthead.dispatch.engine"):
        dispatcher.wake()  # the loop reads its next wake-up, meets the bug, and is restarted
        response = await harness.create_post(caller, webhook_post(account, receiver.url))
        post_id = response.json()["postSubmissionId"]
        status = await harness.wait_status(caller, post_id, {"published", "failed"})

    assert crashes == [1]
    assert "dispatch loop crashed; restarting it" in caplog.text
    assert status["status"] == "published", status
    assert len(await receiver.wait_for(1)) == 1
    assert dispatcher.state == EngineState.RUNNING
