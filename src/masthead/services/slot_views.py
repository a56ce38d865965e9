"""What /settings/slots shows and accepts: weekly slots as the user reads them (day, local
time, zone, account), stored through services/slots.py exactly as the API stores them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from masthead.domain import inputs
from masthead.domain.errors import ValidationFailed
from masthead.domain.slots import DAYS, SlotSpec
from masthead.services import slots as slot_service
from masthead.store import accounts
from masthead.store import slots as slot_store
from masthead.store.database import Database


@dataclass(frozen=True, slots=True)
class SlotView:
    id: str
    day: str
    time: str
    timezone: str
    targets: list[str]


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    """platform:accountId[:subaccountId]"""
    label: str


def _view(spec: SlotSpec, names: dict[str, str]) -> SlotView:
    return SlotView(
        id=spec.id,
        day=spec.day,
        time=f"{spec.hour:02d}:{spec.minute:02d}",
        timezone=spec.timezone or "UTC",
        targets=[
            names.get(t.account_id, t.account_id)
            + (f" → {t.subaccount_id}" if t.subaccount_id else "")
            for t in spec.targets
        ],
    )


async def overview(db: Database, user_id: str) -> tuple[list[SlotView], list[Choice]]:
    def load(conn: Connection) -> tuple[list[SlotSpec], list[Choice], dict[str, str]]:
        choices, names = [], {}
        for account in accounts.list_accounts(conn, user_id):
            label = f"{account.platform} @{account.username} ({account.id})"
            names[str(account.id)] = label
            choices.append(Choice(f"{account.platform}:{account.id}", label))
            for sub in accounts.list_subaccounts(conn, account.id):
                choices.append(
                    Choice(
                        f"{account.platform}:{account.id}:{sub.external_id}",
                        f"{label} → {sub.name} ({sub.external_id})",
                    )
                )
        return slot_store.slot_specs(conn, user_id), choices, names

    specs, choices, names = await db.read(load)
    order = {day: i for i, day in enumerate(DAYS)}
    specs.sort(key=lambda s: (order.get(s.day, 7), s.hour, s.minute))
    return [_view(spec, names) for spec in specs], choices


async def add(
    db: Database,
    user_id: str,
    quota: slot_service.SlotQuota,
    *,
    target: str,
    day: str,
    time: str,
    timezone: str,
) -> None:
    """Raises ValidationFailed with the field and the reason, as the API does."""
    parts = target.split(":", 2)
    account_id = inputs.row_id(parts[1]) if len(parts) >= 2 else None
    if account_id is None:
        raise ValidationFailed.one("target", "pick an account")
    if day not in DAYS:
        raise ValidationFailed.one("day", "pick a day of the week")
    hour_text, _, minute_text = time.partition(":")
    hour, minute = (inputs.ascii_int(p) if len(p) <= 2 else None for p in (hour_text, minute_text))
    if hour is None or minute is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValidationFailed.one("time", "use HH:MM")
    selected = {"platform": parts[0], "accountId": str(account_id), "subaccountId": None}
    if len(parts) == 3:
        selected["subaccountId"] = parts[2]
    await slot_service.create(
        db,
        user_id,
        [
            {
                "day": day,
                "hour": hour,
                "minute": minute,
                "timezone": timezone or None,
                "selectedTargets": [selected],
            }
        ],
        quota,
    )


async def remove(db: Database, user_id: str, slot_id: int) -> bool:
    return await db.write(lambda c: slot_store.delete_slot(c, user_id, slot_id))
