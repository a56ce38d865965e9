"""Periodic clean-up that no request waits for."""

from __future__ import annotations

import asyncio
import logging
import time

from masthead.domain.comments import retention_cutoff
from masthead.platforms.registry import BUDGETS
from masthead.services.posts import IDEMPOTENCY_WINDOW
from masthead.services.web_auth import WINDOW
from masthead.store import budgets, comments, idempotency, ratelimits, web_sessions
from masthead.store.database import Database
from masthead.timeutil import utcnow

log = logging.getLogger(__name__)
EVERY_SECONDS = 3600.0


async def purge_idempotency_records(db: Database) -> int:
    """Records are only replayed for 24 hours; older ones are dead weight."""
    before = utcnow() - IDEMPOTENCY_WINDOW
    return await db.write(lambda conn: idempotency.forget_before(conn, before))


async def purge_rate_counters(db: Database) -> int:
    """The sliding window reads this minute and the one before; older minutes are done."""
    before = int(time.time() // 60) - 2
    return await db.write(lambda conn: ratelimits.forget_before(conn, before))


async def purge_budgets(db: Database) -> None:
    longest = max(
        (b.seconds for p in BUDGETS.values() for b in (p.account, p.app) if b is not None),
        default=0,
    )
    now = time.time()
    await db.write(lambda conn: budgets.forget_before(conn, now, 2 * longest))


async def purge_login_attempts(db: Database) -> int:
    """Sign-in attempts count only in their window; counters of ended windows are dead weight."""
    before = utcnow() - WINDOW
    return await db.write(lambda conn: web_sessions.forget_attempts_before(conn, before))


async def purge_comments(db: Database, retention_days: int) -> int:
    """Comments past the retention window (contract section 10) are deleted."""
    before = retention_cutoff(utcnow(), retention_days)
    return await db.write(lambda conn: comments.purge_before(conn, before))


async def run_forever(db: Database, comment_retention_days: int) -> None:
    while True:
        try:
            purged = await purge_comments(db, comment_retention_days)
            if purged:
                log.info("purged %d comments past retention", purged)
            removed = await purge_idempotency_records(db)
            if removed:
                log.info("purged %d expired idempotency records", removed)
            if not db.is_sqlite:
                await purge_rate_counters(db)
            await purge_budgets(db)
            await purge_login_attempts(db)
        except Exception:
            log.exception("maintenance failed; will try again")
        await asyncio.sleep(EVERY_SECONDS)
