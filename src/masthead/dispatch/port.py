"""The small port the API uses to tell dispatch about posts, without seeing its SQL.

The posts table is the queue, so storing a post already schedules it; what remains is waking
the workers so that an immediate post starts in milliseconds and a moved post is not slept
past. In the same process that is an event; across processes (PostgreSQL) it is a NOTIFY sent
inside the transaction that stores the change, so it arrives exactly when the row is visible.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

CHANNEL = "masthead_posts"


class DispatchPort:
    def __init__(self, *, cross_process: bool) -> None:
        self._cross_process = cross_process
        self._listeners: list[Callable[[datetime | None], None]] = []

    def subscribe(self, wake: Callable[[datetime | None], None]) -> None:
        self._listeners.append(wake)

    def announce(self, conn: Connection) -> None:
        """Call inside the transaction that stores, moves or cancels a post."""
        if self._cross_process:
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    def changed(self, due_at: datetime | None = None) -> None:
        """Call after that transaction commits, with the post's new due time if it has one:
        this process's worker wakes at once if that is sooner than it meant to."""
        for wake in self._listeners:
            wake(due_at)
