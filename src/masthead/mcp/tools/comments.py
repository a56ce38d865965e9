"""Comments (services/comments.py, contract section 10): read them and answer them."""

from __future__ import annotations

from typing import Any

from masthead.domain.comments import CommentStatus
from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import instant, integer, numeric_id, obj, platform, string
from masthead.platforms.registry import COMMENTS
from masthead.services import comments

POST_ID = string("A published post's postSubmissionId (from blotato_list_posts).")
COMMENT_ID = string("A comment id from blotato_list_comments.")
PLATFORMS = ", ".join(COMMENTS)


@tool(
    "blotato_list_comments",
    "GET /v2/comments",
    f"""Lists comments on your published posts ({PLATFORMS}), newest first: the audience's
    (isAuthor false) and your own (isAuthor true), with their status. Filter by post, account,
    parent comment (its direct replies), platform, time; pass the returned cursor for the next
    page. Comments older than the retention window are gone. Changes nothing.""",
    obj(
        {
            "postId": POST_ID,
            "accountId": numeric_id("An account id from blotato_list_accounts."),
            "parentCommentId": string("List the direct replies of this comment."),
            "platform": {
                "anyOf": [
                    platform("A platform."),
                    {"type": "array", "items": platform("A platform.")},
                ]
            },
            "since": instant("Earliest createdAt, ISO 8601 with an offset."),
            "until": instant("Latest createdAt, ISO 8601 with an offset."),
            "limit": integer("Comments per page.", 1, comments.LIST_LIMIT),
            "cursor": string("The cursor of the previous page.", maxLength=512),
            "isAuthor": {
                "type": "boolean",
                "description": "true: only yours; false: only the audience's.",
            },
            "status": {
                "type": "array",
                "items": {"type": "string", "enum": [s.value for s in CommentStatus]},
            },
        }
    ),
    read_only=True,
)
async def list_comments(call: Call, args: dict[str, Any]) -> Any:
    platforms = args.get("platform", ())
    is_author = args.get("isAuthor")
    return await comments.listing(
        call.backend.db,
        call.user.id,
        retention_days=call.backend.settings.comments_retention_days,
        limit=args.get("limit", 50),
        cursor=args.get("cursor"),
        account_id=args.get("accountId"),
        post_id=args.get("postId"),
        parent_comment_id=args.get("parentCommentId"),
        platforms=[platforms] if isinstance(platforms, str) else list(platforms),
        since=args.get("since"),
        until=args.get("until"),
        is_author=None if is_author is None else "true" if is_author else "false",
        statuses=args.get("status", ()),
    )


@tool(
    "blotato_get_comment",
    "GET /v2/comments/{commentId}",
    """One comment: its text, author, post, parent, and status (queued, processing, posted,
    failed with errorCode and errorMessage, or deleted). Use it to see whether a comment from
    blotato_post_comment was posted. Changes nothing.""",
    obj({"commentId": COMMENT_ID}, "commentId"),
    read_only=True,
)
async def get_comment(call: Call, args: dict[str, Any]) -> Any:
    settings = call.backend.settings
    return await comments.get_comment(
        call.backend.db, call.user.id, args["commentId"], settings.comments_retention_days
    )


@tool(
    "blotato_post_comment",
    "POST /v2/comments",
    f"""Publishes a comment under one of your published posts ({PLATFORMS}), or a reply to a
    top-level comment (parentCommentId; replies to replies are refused). It is public and
    cannot be edited or deleted here. The answer is the queued comment: call
    blotato_get_comment with its id to see it posted (or why it failed).""",
    obj(
        {
            "postId": POST_ID,
            "text": string("The comment; the platform's comment length limit applies."),
            "parentCommentId": string("A top-level comment of the same post to reply to."),
        },
        "postId",
        "text",
    ),
)
async def post_comment(call: Call, args: dict[str, Any]) -> Any:
    created = await comments.create_comment(
        call.backend.db,
        call.user.id,
        args,
        None,
        call.backend.settings.comments_retention_days,
    )
    return created.body
