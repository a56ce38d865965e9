"""The engine's own resilience: the backoff between tries through an outage, and the
supervisor that restarts a loop that ended on a bug (the outage itself:
test_database_outage.py)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy.engine import Connection

from masthead.dispatch.resilience import FIRST_DELAY, MAX_DELAY, EngineState, backoff_delay
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
