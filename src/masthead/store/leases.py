"""The lease every queue of rows shares (posts, comments, comment polls, deliveries,
analytics checks): a row is free once its lease is gone or over, and one statement takes a
batch of due free rows for a worker (`FOR UPDATE SKIP LOCKED` on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute


def unleased(lease_until: InstrumentedAttribute[datetime | None], now: datetime) -> Any:
    """No worker holds the row: never leased, handed back, or its lease ran out."""
    return or_(lease_until.is_(None), lease_until < now)


def lease_due(
    conn: Connection,
    key: InstrumentedAttribute[Any],
    *,
    where: ColumnElement[bool],
    order_by: Sequence[Any],
    limit: int,
    skip_locked: bool,
    values: Mapping[str, Any],
    returning: Sequence[Any],
) -> CursorResult[*tuple[Any, ...]]:
    """Update the first `limit` rows matching `where` in `order_by` with `values` (the lease
    and whatever a claim sets) in one statement, and return `returning` of each."""
    due = select(key).where(where).order_by(*order_by).limit(limit)
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return conn.execute(
        update(key.class_)
        .where(key.in_(due.scalar_subquery()))
        .values(**values)
        .returning(*returning)
    )
