"""Calendar slots: create, change, delete, and find the next free one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.domain import inputs
from masthead.domain.errors import FieldError, ValidationFailed
from masthead.domain.slots import SlotSpec, SlotTarget, free_slots
from masthead.services.errors import ApiError
from masthead.services.slot_requests import NextAvailableIn, SlotPatch, SlotsIn
from masthead.store import accounts, slots, users
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow


def slot_json(spec: SlotSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": spec.id,
        "hour": spec.hour,
        "minute": spec.minute,
        "day": spec.day,
        "selectedTargets": [
            {"platform": t.platform, "accountId": t.account_id, "subaccountId": t.subaccount_id}
            for t in spec.targets
        ],
    }
    if spec.timezone:
        body["timezone"] = spec.timezone
    return body


def check_timezone(value: str | None, path: str) -> None:
    if value is not None:
        inputs.parse_zone(value, path)


async def check_targets(
    db: Database, user_id: str, targets: list[dict[str, Any]], path: str
) -> None:
    def problems(conn: Connection) -> list[FieldError]:
        errors = []
        for i, target in enumerate(targets):
            account = accounts.get_account(conn, user_id, int(target["accountId"]))
            if account is None:
                errors.append(FieldError(f"{path}[{i}].accountId", "no such account"))
            elif account.platform != target["platform"]:
                errors.append(
                    FieldError(
                        f"{path}[{i}].platform",
                        f"account {account.id} is a {account.platform} account",
                    )
                )
        return errors

    errors = await db.read(problems)
    if errors:
        # The compat words only when an account is unknown; a platform mismatch says so.
        unknown = any(error.path.endswith(".accountId") for error in errors)
        raise ValidationFailed(errors, "Wrong Account ID" if unknown else None)


@dataclass(frozen=True, slots=True)
class SlotQuota:
    """MASTHEAD_SLOTS_PER_REQUEST and MASTHEAD_SLOTS_PER_USER."""

    per_request: int
    per_user: int

    @classmethod
    def of(cls, settings: Settings) -> SlotQuota:
        return cls(settings.slots_per_request, settings.slots_per_user)


async def create(
    db: Database, user_id: str, new: list[dict[str, Any]], quota: SlotQuota
) -> list[SlotSpec]:
    if len(new) > quota.per_request:
        raise ValidationFailed.one(
            "slots", f"has {len(new)} slots; at most {quota.per_request} per request"
        )
    for i, slot in enumerate(new):
        check_timezone(slot.get("timezone"), f"slots[{i}].timezone")
        await check_targets(db, user_id, slot["selectedTargets"], f"slots[{i}].selectedTargets")
    now = utcnow()

    def store(conn: Connection) -> list[int]:
        users.lock(conn, user_id)
        held = slots.count_slots(conn, user_id)
        if held + len(new) > quota.per_user:
            raise ValidationFailed.one(
                "slots",
                f"would make {held + len(new)} slots; at most {quota.per_user} per user"
                " (delete some first)",
            )
        return [
            slots.add_slot(
                conn,
                user_id=user_id,
                day=s["day"],
                hour=s["hour"],
                minute=s["minute"],
                timezone=s.get("timezone"),
                targets=s["selectedTargets"],
                now=now,
            )
            for s in new
        ]

    ids = await db.write(store)
    specs = await db.read(lambda conn: slots.slot_specs(conn, user_id))
    return [spec for spec in specs if int(spec.id) in ids]


async def change(
    db: Database, user_id: str, slot_id: int, values: dict[str, Any]
) -> SlotSpec | None:
    if "timezone" in values:
        check_timezone(values["timezone"], "timezone")
    if "selectedTargets" in values:
        await check_targets(db, user_id, values["selectedTargets"], "selectedTargets")
        values = dict(values)
        values["targets"] = values.pop("selectedTargets")
    if values and not await db.write(lambda c: slots.update_slot(c, user_id, slot_id, values)):
        return None
    return await db.read(lambda conn: slots.get_slot(conn, user_id, slot_id))


async def next_available(db: Database, user_id: str, target: SlotTarget) -> tuple[str, Any] | None:
    now = utcnow()
    # "" means no subaccount (n8n sends unset fields empty): posts store that as NULL, so
    # looking occupancy up by "" would find nothing and offer taken times.
    target = SlotTarget(target.platform, target.account_id, target.subaccount_id or None)

    def look(conn: Connection) -> tuple[list[SlotSpec], set[Any]]:
        account = accounts.get_account(conn, user_id, int(target.account_id))
        if account is None:
            raise ValidationFailed.one(
                "accountId", "no such account", compat_message="Wrong Account ID"
            )
        occupied = post_store.occupied_times(
            conn, account.id, target.subaccount_id, now, now + timedelta(days=7 * 9)
        )
        return slots.slot_specs(conn, user_id), occupied

    specs, occupied = await db.read(look)
    free = free_slots(specs, target, now, occupied)
    if not free:
        return None
    slot_id, when = free[0]
    return slot_id, iso(when)


NOT_FOUND = "Slot not found"


def slot_key(value: str) -> int:
    """Any id the store cannot hold is simply unknown: 404, like every other unknown id."""
    key = inputs.row_id(value)
    if key is None:
        raise ApiError(404, NOT_FOUND)
    return key


async def listing(db: Database, user_id: str) -> dict[str, Any]:
    specs = await db.read(lambda conn: slots.slot_specs(conn, user_id))
    return {"items": [slot_json(s) for s in specs]}


async def create_all(db: Database, user_id: str, body: SlotsIn, quota: SlotQuota) -> dict[str, Any]:
    """POST /v2/schedule/slots."""
    new = [s.model_dump(exclude_none=False) for s in body.slots]
    return {"items": [slot_json(s) for s in await create(db, user_id, new, quota)]}


async def patch(db: Database, user_id: str, slot_id: str, body: SlotPatch) -> dict[str, Any]:
    """PATCH /v2/schedule/slots/{id}: only the fields sent change."""
    key = slot_key(slot_id)
    values = body.model_dump(exclude_unset=True)
    for name in ("hour", "minute", "day"):
        if name in values and values[name] is None:
            raise ApiError(422, f"{name}: cannot be null")
    if values.get("selectedTargets") is None:
        values.pop("selectedTargets", None)
    spec = await change(db, user_id, key, values)
    if spec is None:
        raise ApiError(404, NOT_FOUND)
    return slot_json(spec)


async def remove(db: Database, user_id: str, slot_id: str) -> None:
    key = slot_key(slot_id)
    if not await db.write(lambda conn: slots.delete_slot(conn, user_id, key)):
        raise ApiError(404, NOT_FOUND)


async def next_free(db: Database, user_id: str, body: NextAvailableIn) -> dict[str, Any]:
    """POST /v2/schedule/slots/next-available."""
    target = SlotTarget(body.platform, body.accountId, body.subaccountId)
    found = await next_available(db, user_id, target)
    if found is None:
        raise ApiError(
            422, "No available slot for this account: create one with POST /v2/schedule/slots"
        )
    slot_id, when = found
    return {"slot": {"slotId": slot_id, "slotTime": when}}
