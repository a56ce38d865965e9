"""Scheduled posts (services/schedules.py); a schedule's id is its post's postSubmissionId."""

from __future__ import annotations

from typing import Any

from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import instant, integer, obj, string
from masthead.services import schedules

SCHEDULE_ID = string("A schedule id: the postSubmissionId of a scheduled post.")


@tool(
    "blotato_list_schedules",
    "GET /v2/schedules",
    """Lists the posts waiting to be published, soonest first, each with its id, scheduledAt,
    the full post (draft) and its account. Pass the returned cursor for the next page.
    Changes nothing.""",
    obj(
        {
            "limit": integer("Schedules per page.", 1, schedules.LIST_LIMIT),
            "cursor": string("The cursor of the previous page.", maxLength=512),
        }
    ),
    read_only=True,
)
async def list_schedules(call: Call, args: dict[str, Any]) -> Any:
    return await schedules.listing(
        call.backend.db, call.user.id, args.get("limit", 20), args.get("cursor")
    )


@tool(
    "blotato_get_schedule",
    "GET /v2/schedules/{id}",
    "One scheduled post: when it will be published, the post itself and its account. "
    "Changes nothing.",
    obj({"id": SCHEDULE_ID}, "id"),
    read_only=True,
)
async def get_schedule(call: Call, args: dict[str, Any]) -> Any:
    return await schedules.one(call.backend.db, call.user.id, args["id"])


@tool(
    "blotato_update_schedule",
    "PATCH /v2/schedules/{id}",
    """Moves a scheduled post to another time and/or replaces its content (draft: a whole post
    object as blotato_get_schedule shows it). Allowed until publishing starts; the new post is
    checked like a new one.""",
    obj(
        {
            "id": SCHEDULE_ID,
            "scheduledTime": instant("The new time, ISO 8601 with an offset, in the future."),
            "draft": {
                "type": "object",
                "description": "The whole new post: {accountId, content: {text, mediaUrls, "
                "platform}, target: {targetType, ...}}, as in blotato_get_schedule.",
            },
        },
        "id",
    ),
)
async def update_schedule(call: Call, args: dict[str, Any]) -> Any:
    change = {key: args[key] for key in ("scheduledTime", "draft") if key in args}
    backend = call.backend
    await schedules.update(
        backend.db,
        backend.port,
        backend.accounts,
        backend.settings.fetch_allow,
        call.user.id,
        args["id"],
        {"patch": change},
        backend.media,
    )
    return {"id": args["id"], "updated": True}


@tool(
    "blotato_delete_schedule",
    "DELETE /v2/schedules/{id}",
    """Cancels a scheduled post: it will not be published. Cannot be undone (create the post
    again instead). Refused once publishing has started.""",
    obj({"id": SCHEDULE_ID}, "id"),
    destructive=True,
)
async def delete_schedule(call: Call, args: dict[str, Any]) -> Any:
    await schedules.remove(call.backend.db, call.user.id, args["id"])
    return {"id": args["id"], "deleted": True}
