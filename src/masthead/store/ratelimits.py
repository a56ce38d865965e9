"""Per-user, per-route request counts by minute, for limits shared across API processes."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from masthead.store.models import ApiRateCounter


def hit(conn: Connection, user_id: str, route: str, minute: int) -> tuple[int, int]:
    """Count one request in `minute`; returns (hits this minute, hits the minute before)."""
    statement = (
        postgresql.insert(ApiRateCounter)
        .values(user_id=user_id, route=route, window_start=minute, hits=1)
        .on_conflict_do_update(
            index_elements=["user_id", "route", "window_start"],
            set_={"hits": ApiRateCounter.hits + 1},
        )
        .returning(ApiRateCounter.hits)
    )
    current = int(conn.execute(statement).scalar_one())
    previous = conn.execute(
        select(ApiRateCounter.hits).where(
            ApiRateCounter.user_id == user_id,
            ApiRateCounter.route == route,
            ApiRateCounter.window_start == minute - 1,
        )
    ).scalar_one_or_none()
    return current, int(previous or 0)


def forget_before(conn: Connection, minute: int) -> int:
    result = conn.execute(delete(ApiRateCounter).where(ApiRateCounter.window_start < minute))
    return result.rowcount
