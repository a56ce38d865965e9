"""Calendar slots (contract section 6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from masthead.domain.slots import SlotSpec, SlotTarget
from masthead.store.models import Slot

_COLUMNS = (Slot.id, Slot.day, Slot.hour, Slot.minute, Slot.timezone, Slot.targets)


def _spec(row: Any) -> SlotSpec:
    return SlotSpec(
        id=str(row.id),
        day=row.day,
        hour=row.hour,
        minute=row.minute,
        timezone=row.timezone,
        targets=tuple(
            SlotTarget(t["platform"], str(t["accountId"]), t.get("subaccountId"))
            for t in row.targets
        ),
    )


def slot_specs(conn: Connection, user_id: str) -> list[SlotSpec]:
    rows = conn.execute(select(*_COLUMNS).where(Slot.user_id == user_id).order_by(Slot.id))
    return [_spec(row) for row in rows]


def count_slots(conn: Connection, user_id: str) -> int:
    return int(conn.execute(select(func.count()).where(Slot.user_id == user_id)).scalar_one())


def get_slot(conn: Connection, user_id: str, slot_id: int) -> SlotSpec | None:
    row = (
        conn.execute(select(*_COLUMNS).where(Slot.user_id == user_id, Slot.id == slot_id))
    ).first()
    return _spec(row) if row else None


def add_slot(
    conn: Connection,
    *,
    user_id: str,
    day: str,
    hour: int,
    minute: int,
    timezone: str | None,
    targets: list[dict[str, Any]],
    now: datetime,
) -> int:
    result = conn.execute(
        insert(Slot)
        .values(
            user_id=user_id,
            day=day,
            hour=hour,
            minute=minute,
            timezone=timezone,
            targets=targets,
            created_at=now,
        )
        .returning(Slot.id)
    )
    return int(result.scalar_one())


def update_slot(conn: Connection, user_id: str, slot_id: int, values: dict[str, Any]) -> bool:
    result = conn.execute(
        update(Slot).where(Slot.user_id == user_id, Slot.id == slot_id).values(**values)
    )
    return result.rowcount == 1


def delete_slot(conn: Connection, user_id: str, slot_id: int) -> bool:
    result = conn.execute(delete(Slot).where(Slot.user_id == user_id, Slot.id == slot_id))
    return result.rowcount == 1
