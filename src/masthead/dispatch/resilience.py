"""How the dispatch engine rides out a database outage: it waits (capped exponential backoff
with jitter) and tries again, logs the outage once rather than once per row, and says what it
is doing through `/readyz` and `/metrics`.

Work in flight is never dropped meanwhile: a claim, a mark or an outcome that could not be
written is retried as it stands, and a post whose sending mark is not written is not sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from masthead.metrics import DISPATCH_FAILURES, DISPATCH_LAST_CLAIM, DISPATCH_STATE
from masthead.store.outages import is_unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY = 0.1
MAX_DELAY = 2.0
"""The longest wait between two tries: the engine notices the database is back within about
this long (the fault test asks for 5 s)."""


class EngineState(StrEnum):
    RUNNING = "running"
    BACKING_OFF = "backing-off"
    STOPPED = "stopped"


def backoff_delay(failures: int, *, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> float:
    """The wait after `failures` consecutive failures: doubling from `first`, capped at `cap`,
    with full jitter over its upper half so that many waiters do not retry in step."""
    ceiling = min(cap, first * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)


class EngineHealth:
    """The engine's view of its database, shared by all its loops and batchers."""

    def __init__(
        self, writes_failing: Callable[[], bool] = lambda: False, *, gauges: bool = True
    ) -> None:
        self._writes_failing = writes_failing
        self._gauges = gauges
        """Whether this is the post engine, whose state `/metrics` shows (the event delivery
        loop rides out outages the same way, without claiming those gauges)."""
        """The database's writer says its last commit failed: a call of the engine may be
        waiting on it (SQLite's busy timeout) before it fails too."""
        self.failures = 0
        """Consecutive failed database calls (0 while the database answers)."""
        self.last_claim_at: datetime | None = None
        self._outage_since: float | None = None
        self._stopped = True
        self._publish()

    @property
    def state(self) -> EngineState:
        if self._stopped:
            return EngineState.STOPPED
        failing = self.failures or self._writes_failing()
        return EngineState.BACKING_OFF if failing else EngineState.RUNNING

    def started(self) -> None:
        self._stopped = False
        self._publish()

    def stopped(self) -> None:
        """From now on a failed call is not retried: the process is shutting down, and what
        was not written is found by the next worker when its lease ends."""
        self._stopped = True
        self._publish()

    def claimed(self, at: datetime) -> None:
        self.last_claim_at = at
        if self._gauges:
            DISPATCH_LAST_CLAIM.set(at.timestamp())

    def succeeded(self) -> None:
        if self.failures:
            lasted = time.monotonic() - (self._outage_since or time.monotonic())
            log.warning(
                "database available again after %.1fs (%d failed calls); dispatch resumes",
                lasted,
                self.failures,
            )
            self.failures = 0
            self._outage_since = None
            self._publish()

    async def failed(self, error: Exception) -> None:
        """Count an outage error and wait before the next try (which the caller makes)."""
        if self.failures == 0:
            self._outage_since = time.monotonic()
            log.warning("database unavailable (%s); dispatch backs off and retries", error)
        self.failures += 1
        self._publish()
        await asyncio.sleep(backoff_delay(self.failures))

    async def persist(self, call: Callable[[], Awaitable[T]], *, write: bool = True) -> T:
        """`call()` until it gets through the outage, if any. Errors that are not an outage
        (bugs), and any error once the engine is stopping, are raised to the caller. A read
        that succeeds ends an outage only if writes are not failing: on SQLite, reads go on
        while writes are locked."""
        while True:
            try:
                result = await call()
            except Exception as exc:
                if self._stopped or not is_unavailable(exc):
                    raise
                await self.failed(exc)
                continue
            if write or not self._writes_failing():
                self.succeeded()
            return result

    def _publish(self) -> None:
        if not self._gauges:
            return
        DISPATCH_STATE.state(self.state)
        DISPATCH_FAILURES.set(self.failures)
