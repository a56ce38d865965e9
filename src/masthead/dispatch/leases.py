"""What every worker loop over leased rows does the same way (comments, comment polls,
analytics checks, event deliveries), apart from what it does with a row: its id, the claim
of a batch through a database outage, and letting its rows in flight finish on stop. The
post engine (engine.py) keeps its own: its claim also reads the budgets in the same call."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection

from masthead.dispatch.resilience import EngineHealth
from masthead.store.database import Database

Row = TypeVar("Row")


def worker_id(kind: str) -> str:
    """Unique per loop and process: the owner of the leases it takes."""
    return f"{socket.gethostname()}-{os.getpid()}-{kind}-{uuid.uuid4().hex[:8]}"


class Claim(Protocol[Row]):
    """A store's claim: lease up to `limit` due rows to `owner` (store/leases.py)."""

    def __call__(
        self,
        conn: Connection,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        skip_locked: bool,
    ) -> list[Row]: ...


class LeasedRows(Generic[Row]):
    """The part of a loop over one kind of leased rows that is not about the rows (kept
    apart from what the loop does with each): who holds the leases, how long, the claim of a
    batch through a database outage, its wake-ups and its stop."""

    def __init__(
        self,
        db: Database,
        claim: Claim[Row],
        *,
        kind: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._claim_rows = claim
        self._lease = lease
        self._clock = clock
        self.worker_id = worker_id(kind)
        self.health = EngineHealth(lambda: db.writer.unavailable, gauges=False)
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for due rows now (work was announced, or a row is done)."""
        self._wake.set()

    def _stop_claiming(self) -> None:
        self._stopping = True
        self.health.stopped()
        self._wake.set()

    async def _wait(
        self,
        next_due: Callable[[Connection], datetime | None] | None,
        *,
        longest: float,
        shortest: float,
    ) -> None:
        """Until woken, or the next row falls due by `next_due` (a read; None: not read),
        sleeping `longest` at most and, when a row is due already, `shortest`."""
        timeout = longest
        if next_due is not None:
            next_at = await self.health.persist(lambda: self._db.read(next_due), write=False)
            if next_at is not None:
                wait = (next_at - self._clock()).total_seconds()
                timeout = min(longest, max(shortest, wait))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _claim(self, now: datetime, limit: int) -> list[Row]:
        """One claim, in the group commit but not isolated (it writes only the rows it
        takes), tried again until it gets through an outage."""
        return await self.health.persist(
            lambda: self._db.write(
                lambda c: self._claim_rows(
                    c,
                    owner=self.worker_id,
                    now=now,
                    lease=self._lease,
                    limit=limit,
                    skip_locked=not self._db.is_sqlite,
                ),
                isolated=False,
            )
        )


async def drain(inflight: Collection[asyncio.Task[None]], timeout: float) -> None:
    """Let the rows in flight finish for up to `timeout`; cut the rest (their leases hand
    them to the next worker)."""
    if not inflight:
        return
    _, pending = await asyncio.wait(set(inflight), timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
