"""Weekly calendar slots: which instants they stand for, in their own time zone, DST-correct."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HORIZON_DAYS = 7 * 8
"""How far ahead a free slot is looked for: eight weeks of every slot."""


@dataclass(frozen=True, slots=True)
class SlotTarget:
    platform: str
    account_id: str
    subaccount_id: str | None


@dataclass(frozen=True, slots=True)
class SlotSpec:
    id: str
    day: str
    hour: int
    minute: int
    timezone: str | None
    targets: tuple[SlotTarget, ...]

    def serves(self, target: SlotTarget) -> bool:
        return any(
            t.account_id == target.account_id
            and t.platform == target.platform
            and (t.subaccount_id or None) == (target.subaccount_id or None)
            for t in self.targets
        )


def _instant(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """The instant of a wall-clock time (PEP 495, fold=0): a time skipped by a DST jump
    moves forward by the jump (02:30 on a spring-forward night is 03:30), and a repeated
    time takes its first occurrence."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def occurrences(slot: SlotSpec, after: datetime, days: int = HORIZON_DAYS) -> Iterator[datetime]:
    zone = ZoneInfo(slot.timezone or "UTC")
    weekday = DAYS.index(slot.day)
    start = after.astimezone(zone).date() - timedelta(days=1)
    first = start + timedelta(days=(weekday - start.weekday()) % 7)
    for week in range(days // 7 + 2):
        instant = _instant(first + timedelta(weeks=week), slot.hour, slot.minute, zone)
        if instant > after:
            yield instant


def free_slots(
    slots: Iterable[SlotSpec],
    target: SlotTarget,
    after: datetime,
    occupied: set[datetime],
    days: int = HORIZON_DAYS,
) -> list[tuple[str, datetime]]:
    """Every (slot id, instant) serving `target` after `after`, earliest first, minus the
    instants where that target already has a post."""
    found = {
        when: slot.id
        for slot in slots
        if slot.serves(target)
        for when in occurrences(slot, after, days)
        if when not in occupied and when <= after + timedelta(days=days)
    }
    return [(found[when], when) for when in sorted(found)]
