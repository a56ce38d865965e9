"""Platform budgets in the database, so that every worker spends from the same count."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from masthead.domain.budgets import Budget, window_start
from masthead.store.models import RateBudgetBlock, RateBudgetUse


class BudgetSpent(Exception):
    """Raised inside the write so that the whole spend rolls back; `wait` is in seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"budget spent; wait {wait:.1f}s")
        self.wait = wait


def spend(conn: Connection, wants: list[tuple[str, Budget | None]], now: float) -> None:
    """Spend one unit of every budget in `wants`, all or none (raise BudgetSpent). A key with
    no budget is only checked for a platform's "wait" (`block`)."""
    blocked = blocked_until(conn, [key for key, _ in wants])
    if blocked is not None and blocked > now:
        raise BudgetSpent(blocked - now)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    waits: list[float] = []
    for key, budget in wants:
        if budget is None:
            continue
        start = window_start(now, budget)
        used = conn.execute(
            dialect.insert(RateBudgetUse)
            .values(key=key, window_start=start, used=1)
            .on_conflict_do_update(
                index_elements=["key", "window_start"], set_={"used": RateBudgetUse.used + 1}
            )
            .returning(RateBudgetUse.used)
        ).scalar_one()
        if used > budget.limit:
            waits.append(start + budget.seconds - now)
    if waits:
        raise BudgetSpent(max(waits))


def blocked_until(conn: Connection, keys: list[str]) -> float | None:
    until = conn.execute(
        select(func.max(RateBudgetBlock.until)).where(RateBudgetBlock.key.in_(keys))
    ).scalar()
    return float(until) if until is not None else None


def blocks(conn: Connection, now: float) -> dict[str, float]:
    """Every key a platform asked to wait on, and until when (few rows: lapsed ones are
    purged, see `forget_before`)."""
    rows = conn.execute(
        select(RateBudgetBlock.key, RateBudgetBlock.until).where(RateBudgetBlock.until > now)
    )
    return {key: float(until) for key, until in rows}


def block(conn: Connection, key: str, until: float) -> None:
    """Keep everyone off `key` until `until` (the later of this and any earlier block)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(RateBudgetBlock)
        .values(key=key, until=until)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={"until": func.max(RateBudgetBlock.until, until)}
            if conn.dialect.name == "sqlite"
            else {"until": func.greatest(RateBudgetBlock.until, until)},
        )
    )


def forget_before(conn: Connection, now: float, longest_window: int) -> None:
    """Windows that ended, and blocks that lapsed, count for nothing."""
    conn.execute(delete(RateBudgetUse).where(RateBudgetUse.window_start < now - longest_window))
    conn.execute(delete(RateBudgetBlock).where(RateBudgetBlock.until < now))
