"""Creating posts and reading them back (services/posts.py, services/post_reads.py)."""

from __future__ import annotations

from typing import Any

from masthead.domain.states import LIST_STATES
from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import (
    applies,
    instant,
    integer,
    numeric_id,
    obj,
    platform,
    required_summary,
    string,
    target_fields,
    thread_platforms,
)
from masthead.services import post_reads
from masthead.services import posts as post_service

TARGET_FIELDS = target_fields()
MEDIA_URLS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "format": "uri"},
    "description": "Public http(s) URLs of images or videos (or URLs from blotato_upload_media).",
}
THREADS = ", ".join(thread_platforms())

CREATE_POST = obj(
    {
        "accountId": numeric_id("The account to post as: an id from blotato_list_accounts."),
        "platform": platform("The account's platform."),
        "text": string("The post's text; each platform has its own length limit."),
        "mediaUrls": {**MEDIA_URLS, "default": []},
        "scheduledTime": instant(
            "When to publish, ISO 8601 with an offset (2030-01-01T09:00:00+02:00). "
            "Omit to publish now."
        ),
        "useNextFreeSlot": {
            "type": "boolean",
            "description": "Publish at the account's next free calendar slot "
            "(see blotato_list_schedule_slots) instead of now.",
        },
        "additionalPosts": {
            "type": "array",
            "description": f"Further posts of a thread, replying in order ({THREADS} only).",
            "items": obj({"text": string("The reply's text."), "mediaUrls": MEDIA_URLS}, "text"),
        },
        **TARGET_FIELDS,
    },
    "accountId",
    "platform",
    "text",
)


def compat_body(args: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The `POST /v2/posts` body the flattened arguments stand for, and the target fields that
    do not apply to the platform (dropped, and named back to the agent)."""
    name = args["platform"]
    target: dict[str, Any] = {"targetType": name}
    ignored = []
    for field in TARGET_FIELDS:
        if field in args:
            if applies(name, field):
                target[field] = args[field]
            else:
                ignored.append(field)
    content: dict[str, Any] = {
        "text": args["text"],
        "mediaUrls": args.get("mediaUrls", []),
        "platform": name,
    }
    if "additionalPosts" in args:
        content["additionalPosts"] = args["additionalPosts"]
    body: dict[str, Any] = {
        "post": {"accountId": args["accountId"], "content": content, "target": target}
    }
    for option in ("scheduledTime", "useNextFreeSlot"):
        if option in args:
            body[option] = args[option]
    return body, ignored


@tool(
    "blotato_create_post",
    "POST /v2/posts",
    f"""Publishes a post (or a thread) to one social account, now or at scheduledTime. Publishing
    is public and cannot be undone once it has happened; a scheduled post can still be changed
    or cancelled with blotato_update_schedule or blotato_delete_schedule until its time. Get
    accountId (and pageId or boardId) from blotato_list_accounts first. Platform-specific
    arguments are only used by the platforms they name ({required_summary()}); others are
    ignored and listed in ignoredFields. The text, media count and file types are checked
    against the platform's limits and a refusal names the field. Returns postSubmissionId:
    follow it with blotato_get_post_status until it is published or failed.""",
    CREATE_POST,
)
async def create_post(call: Call, args: dict[str, Any]) -> Any:
    body, ignored = compat_body(args)
    backend = call.backend
    created = await post_service.create_post(
        backend.db,
        backend.port,
        backend.accounts,
        backend.settings.fetch_allow,
        call.user.id,
        body,
        None,
        backend.media,
    )
    return {**created.body, "ignoredFields": ignored}


@tool(
    "blotato_get_post_status",
    "GET /v2/posts/{postSubmissionId}",
    """The status of a post from blotato_create_post: scheduled, in-progress, published (with
    publicUrl, and each thread item's URL) or failed (with errorMessage). Publishing takes
    seconds to minutes (videos longer); poll every few seconds. Changes nothing.""",
    obj({"postSubmissionId": string("The id blotato_create_post returned.")}, "postSubmissionId"),
    read_only=True,
)
async def get_post_status(call: Call, args: dict[str, Any]) -> Any:
    return await post_reads.status(call.backend.db, call.user.id, args["postSubmissionId"])


@tool(
    "blotato_list_posts",
    "GET /v2/posts",
    """Lists your posts whose time falls between since and until (default: from a week ago to a
    week ahead), newest first, with their text, platform and state. Pass the returned cursor to
    get the next page. Changes nothing.""",
    obj(
        {
            "since": instant("Earliest post time, ISO 8601 with an offset."),
            "until": instant("Latest post time, ISO 8601 with an offset."),
            "limit": integer("Posts per page.", 1, post_reads.LIST_LIMIT),
            "cursor": string("The cursor of the previous page.", maxLength=512),
            "status": {
                "type": "array",
                "items": {"type": "string", "enum": list(LIST_STATES)},
            },
            "platform": {"type": "array", "items": platform("A platform.", webhook=True)},
        }
    ),
    read_only=True,
)
async def list_posts(call: Call, args: dict[str, Any]) -> Any:
    return await post_reads.listing(
        call.backend.db,
        call.user.id,
        since=args.get("since"),
        until=args.get("until"),
        limit=args.get("limit", 50),
        cursor=args.get("cursor"),
        statuses=args.get("status", ()),
        platforms=args.get("platform", ()),
    )
