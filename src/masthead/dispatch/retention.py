"""Event retention: delivered and failed deliveries, and the events none refers to any more,
are deleted once older than `event_retention_days`, by every worker's loop, in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from masthead.store import deliveries
from masthead.store.database import Database

log = logging.getLogger(__name__)

BATCH = 1000
"""Rows per delete: each batch is a short transaction, so deliveries and publishing go on
between batches of a large purge."""
EVERY_SECONDS = 3600.0


async def purge(db: Database, before: datetime, batch: int = BATCH) -> int:
    """Deletes what is settled and older than `before`; returns the rows deleted. Deliveries
    go first: an event is kept while any of its deliveries is."""
    removed = 0
    for forget in (deliveries.forget_settled_before, deliveries.forget_events_before):
        while True:
            count = await db.write(partial(forget, before=before, limit=batch))
            removed += count
            if count < batch:
                break
    return removed


async def run_forever(db: Database, retention: timedelta, clock: Callable[[], datetime]) -> None:
    while True:
        try:
            removed = await purge(db, clock() - retention)
            if removed:
                log.info("event retention: deleted %d rows older than %s", removed, retention)
        except Exception:
            log.exception("event retention failed; will try again")
        await asyncio.sleep(EVERY_SECONDS)
