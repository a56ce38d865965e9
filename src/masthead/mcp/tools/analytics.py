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


@tool(
    "blotato_list_published_posts",
    "GET /v2/published-posts",
    """Your published posts, measured or not, newest first (sortBy oldest for the reverse),
    with their latest metrics (null when not measured yet) and the total count. query searches
    the text (case-insensitive). Page with offset and limit. Changes nothing.""",
    obj(
        {
            "query": string("Text to look for in the posts.", maxLength=500),
            "platform": platform("Only this platform's posts."),
            "sortBy": string("Order by publication time.", enum=list(analytics.PUBLISHED_SORTS)),
            "offset": integer("Posts to skip.", 0),
            "limit": integer("Posts per page (default 20).", 1, analytics.LIMIT),
        }
    ),
    read_only=True,
)
async def list_published_posts(call: Call, args: dict[str, Any]) -> Any:
    return await analytics.published(
        call.backend.db,
        call.user.id,
        query=args.get("query"),
        platform=args.get("platform"),
        sort_by=args.get("sortBy"),
        offset=args.get("offset", 0),
        limit=args.get("limit", analytics.DEFAULT_LIMIT),
    )


@tool(
    "blotato_get_platform_analytics",
    "GET /v2/analytics/platforms",
    f"""Per platform, for posts published in a period: how many, how many measured, and each
    count metric summed over their latest readings. {NUMBERS} Changes nothing.""",
    obj({"since": SINCE, "until": UNTIL, "accountId": ACCOUNT}),
    read_only=True,
)
async def get_platform_analytics(call: Call, args: dict[str, Any]) -> Any:
    return await analytics.by_platform(
        call.backend.db,
        call.user.id,
        since=args.get("since"),
        until=args.get("until"),
        account_id=args.get("accountId"),
    )


@tool(
    "blotato_get_analytics_summary",
    "GET /v2/analytics/summary",
    f"""Totals for posts published in a period (optionally one platform or account): posts,
    measured posts, summed metrics, and the top post by views. {NUMBERS} Changes nothing.""",
    obj(
        {
            "since": SINCE,
            "until": UNTIL,
            "platform": platform("Only this platform's posts."),
            "accountId": ACCOUNT,
        }
    ),
    read_only=True,
)
async def get_analytics_summary(call: Call, args: dict[str, Any]) -> Any:
    return await analytics.summary(
        call.backend.db,
        call.user.id,
        since=args.get("since"),
        until=args.get("until"),
        platforms=[args["platform"]] if "platform" in args else (),
        account_id=args.get("accountId"),
    )
