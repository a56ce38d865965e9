"""The small port the API uses to tell dispatch about posts, without seeing its SQL.

The posts table is the queue, so storing a post already schedules it; what the API must still
do is wake the workers so that an immediate post starts in milliseconds and a moved post is
not slept past. Scale-out (#7) adds a PostgreSQL NOTIFY here for workers in other processes.
"""

from __future__ import annotations

from collections.abc import Callable


class DispatchPort:
    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, wake: Callable[[], None]) -> None:
        self._listeners.append(wake)

    def changed(self) -> None:
        """A post was stored, rescheduled or cancelled."""
        for wake in self._listeners:
            wake()
