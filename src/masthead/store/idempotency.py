"""Idempotency-Key records: the first answer to a key, replayed for 24 hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from masthead.store.models import IdempotencyRecord


@dataclass(frozen=True, slots=True)
class Record:
    request_hash: str
    status_code: int
    response: dict[str, Any]


def lookup(conn: Connection, user_id: str, key: str, *, since: datetime) -> Record | None:
    row = (
        conn.execute(
            select(
                IdempotencyRecord.request_hash,
                IdempotencyRecord.status_code,
                IdempotencyRecord.response,
            ).where(
                IdempotencyRecord.user_id == user_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.created_at >= since,
            )
        )
    ).first()
    return Record(*row) if row else None


def remember(
    conn: Connection,
    *,
    user_id: str,
    key: str,
    request_hash: str,
    status_code: int,
    response: dict[str, Any],
    now: datetime,
) -> None:
    conn.execute(
        insert(IdempotencyRecord).values(
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response=response,
            created_at=now,
        )
    )


def forget_before(conn: Connection, before: datetime) -> int:
    result = conn.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before))
    return result.rowcount
