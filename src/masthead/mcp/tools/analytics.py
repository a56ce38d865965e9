"""Analytics of published posts (services/analytics.py): what the collector already stored."""

from __future__ import annotations

from typing import Any

from masthead.domain.analytics import DEFAULT_SORT, SORT_KEYS
from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import instant, integer, numeric_id, obj, platform, string
from masthead.services import analytics

SINCE = instant("Earliest publication time, ISO 8601 with an offset (default: 30 days ago).")
UNTIL = instant("Latest publication time, ISO 8601 with an offset (default: now).")
ACCOUNT = numeric_id("Only this account's posts: an id from blotato_list_accounts.")
NUMBERS = """Metrics are strings of digits (likesCount "44"); a metric the platform did not
    report is absent, not zero. Numbers are read at fixed times after publishing (6 hours to
    30 days) and never fetched by this call."""


@tool(
    "blotato_list_top_posts",
    "GET /v2/analytics",
    f"""Your best-performing published posts in a period (by publication time), ranked by
    sortBy (default {DEFAULT_SORT}; a post without the metric counts as 0), each with its
    latest metrics and their history. Only posts measured at least once appear: an empty list
    means nothing was measured yet. {NUMBERS} Pass the returned cursor for the next page.
    Changes nothing.""",
    obj(
        {
            "since": SINCE,
            "until": UNTIL,
            "sortBy": string("The metric to rank by.", enum=list(SORT_KEYS)),
            "limit": integer("Posts per page (default 20).", 1, analytics.LIMIT),
            "platform": platform("Only this platform's posts."),
            "accountId": ACCOUNT,
            "cursor": string("The cursor of the previous page.", maxLength=512),
        }
    ),
    read_only=True,
)
async def list_top_posts(call: Call, args: dict[str, Any]) -> Any:
    return await analytics.top_posts(
        call.backend.db,
        call.user.id,
        since=args.get("since"),
        until=args.get("until"),
        sort_by=args.get("sortBy"),
        limit=args.get("limit", analytics.DEFAULT_LIMIT),
        platforms=[args["platform"]] if "platform" in args else (),
        account_id=args.get("accountId"),
        cursor=args.get("cursor"),
    )


@tool(
    "blotato_get_post_analytics",
    "GET /v2/posts/{id}/analytics",
    f"""The metrics of one published post: the latest (metrics, lastFetchedAt), every earlier
    reading (history), when it is read next (nextFetchAt) and why the last reading failed
    (lastError, e.g. "Post no longer exists on twitter"). The id is the postSubmissionId from
    blotato_create_post or an id from blotato_list_top_posts. A post published too recently
    to be measured is refused with "Analytics have not yet synced for this post". {NUMBERS}
    Changes nothing.""",
    obj({"id": string("The published post's id (its postSubmissionId).")}, "id"),
    read_only=True,
)
async def get_post_analytics(call: Call, args: dict[str, Any]) -> Any:
    return await analytics.post_analytics(call.backend.db, call.user.id, args["id"])
