"""The weekly calendar slots (services/slots.py)."""

from __future__ import annotations

from typing import Any

from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import DAYS, SLOT_TARGET, integer, numeric_id, obj, platform, string
from masthead.services import slots
from masthead.services.slot_requests import NextAvailableIn, SlotPatch, SlotsIn, parse

SLOT_ID = numeric_id("A slot id from blotato_list_schedule_slots.")
TARGETS = {
    "type": "array",
    "items": SLOT_TARGET,
    "description": "The accounts (and pages or boards) this slot publishes for.",
}
SLOT = obj(
    {
        "day": {"type": "string", "enum": DAYS},
        "hour": integer("Hour of the day, 0-23.", 0, 23),
        "minute": integer("Minute, 0-59.", 0, 59),
        "selectedTargets": TARGETS,
        "timezone": string("IANA time zone of hour and minute (default UTC), e.g. Europe/Paris."),
    },
    "day",
    "hour",
    "minute",
    "selectedTargets",
)


@tool(
    "blotato_list_schedule_slots",
    "GET /v2/schedule/slots",
    """Lists the weekly calendar slots (day, hour, minute, time zone, target accounts) that
    blotato_create_post with useNextFreeSlot fills. Changes nothing.""",
    obj({}),
    read_only=True,
)
async def list_slots(call: Call, args: dict[str, Any]) -> Any:
    return await slots.listing(call.backend.db, call.user.id)


@tool(
    "blotato_create_schedule_slots",
    "POST /v2/schedule/slots",
    """Adds weekly calendar slots: each repeats every week at day, hour:minute for the accounts
    in selectedTargets (ids from blotato_list_accounts). Publishes nothing by itself.""",
    obj({"slots": {"type": "array", "items": SLOT, "minItems": 1}}, "slots"),
)
async def create_slots(call: Call, args: dict[str, Any]) -> Any:
    quota = slots.SlotQuota.of(call.backend.settings)
    return await slots.create_all(call.backend.db, call.user.id, parse(SlotsIn, args), quota)


@tool(
    "blotato_update_schedule_slot",
    "PATCH /v2/schedule/slots/{id}",
    "Replaces the target accounts of a calendar slot. Posts already scheduled keep their time.",
    obj({"id": SLOT_ID, "selectedTargets": TARGETS}, "id", "selectedTargets"),
)
async def update_slot(call: Call, args: dict[str, Any]) -> Any:
    change = parse(SlotPatch, {"selectedTargets": args["selectedTargets"]})
    return await slots.patch(call.backend.db, call.user.id, args["id"], change)


@tool(
    "blotato_delete_schedule_slot",
    "DELETE /v2/schedules/slots/{id}",
    "Deletes a calendar slot. Posts already scheduled in it keep their time.",
    obj({"id": SLOT_ID}, "id"),
    destructive=True,
)
async def delete_slot(call: Call, args: dict[str, Any]) -> Any:
    await slots.remove(call.backend.db, call.user.id, args["id"])
    return {"id": args["id"], "deleted": True}


@tool(
    "blotato_find_next_available_slot",
    "POST /v2/schedule/slots/next-available",
    """The next free calendar slot for an account (slotId and slotTime), as useNextFreeSlot
    would take it. Changes nothing.""",
    obj(
        {
            "platform": platform("The account's platform.", webhook=True),
            "accountId": numeric_id("An account id from blotato_list_accounts."),
            "subaccountId": string("A page or board id, if the slot targets one."),
        },
        "platform",
        "accountId",
    ),
    read_only=True,
)
async def next_available(call: Call, args: dict[str, Any]) -> Any:
    return await slots.next_free(call.backend.db, call.user.id, parse(NextAvailableIn, args))
