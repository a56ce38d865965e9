"""Section 9: analytics of published posts, read from what the collector stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from masthead.api.auth import CallerDep, context
from masthead.api.errors import json_response
from masthead.api.schemas import (
    COMMON_ERRORS,
    LIMITED,
    AnalyticsList,
    AnalyticsSummary,
    Message,
    PlatformTotalsList,
    PostAnalytics,
    PublishedList,
    RefreshQueued,
    Responses,
    ValidationMessage,
)
from masthead.domain.analytics import SORT_KEYS
from masthead.services import analytics

router = APIRouter(prefix="/v2", tags=["analytics"], responses=COMMON_ERRORS)
INVALID: Responses = {422: {"model": ValidationMessage}}
NOT_FOUND: Responses = {404: {"model": Message}}
Since = Annotated[
    str | None, Query(description="ISO 8601, publication time; default now - 30 days")
]
Until = Annotated[str | None, Query(description="ISO 8601, publication time; default now")]
AccountId = Annotated[str | None, Query(alias="accountId", max_length=20)]
Limit = Annotated[int, Query(ge=1, le=analytics.LIMIT)]
PostId = Annotated[str, Path(alias="id", max_length=64)]


@router.get("/analytics", response_model=AnalyticsList, responses={**INVALID, **LIMITED})
async def top_posts(
    request: Request,
    caller: CallerDep,
    since: Since = None,
    until: Until = None,
    sort_by: Annotated[
        str | None, Query(alias="sortBy", description=", ".join(SORT_KEYS), max_length=40)
    ] = None,
    limit: Limit = analytics.DEFAULT_LIMIT,
    platform: Annotated[list[str] | None, Query(description="repeatable")] = None,
    account_id: AccountId = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    body = await analytics.top_posts(
        context(request).db,
        caller.user.id,
        since=since,
        until=until,
        sort_by=sort_by,
        limit=limit,
        platforms=platform or (),
        account_id=account_id,
        cursor=cursor,
    )
    return json_response(200, body)


@router.get("/published-posts", response_model=PublishedList, responses={**INVALID, **LIMITED})
async def published_posts(
    request: Request,
    caller: CallerDep,
    query: Annotated[str | None, Query(max_length=500)] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    sort_by: Annotated[str | None, Query(alias="sortBy", description="newest, oldest")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Limit = analytics.DEFAULT_LIMIT,
    account_id: AccountId = None,
) -> Response:
    body = await analytics.published(
        context(request).db,
        caller.user.id,
        query=query,
        platform=platform,
        sort_by=sort_by,
        offset=offset,
        limit=limit,
        account_id=account_id,
    )
    return json_response(200, body)


@router.get(
    "/posts/{id}/analytics", response_model=PostAnalytics, responses={**NOT_FOUND, **LIMITED}
)
async def post_analytics(request: Request, caller: CallerDep, post_id: PostId) -> Response:
    body = await analytics.post_analytics(context(request).db, caller.user.id, post_id)
    return json_response(200, body)


@router.get(
    "/analytics/platforms", response_model=PlatformTotalsList, responses={**INVALID, **LIMITED}
)
async def platform_totals(
    request: Request,
    caller: CallerDep,
    since: Since = None,
    until: Until = None,
    account_id: AccountId = None,
) -> Response:
    body = await analytics.by_platform(
        context(request).db, caller.user.id, since=since, until=until, account_id=account_id
    )
    return json_response(200, body)


@router.get("/analytics/summary", response_model=AnalyticsSummary, responses={**INVALID, **LIMITED})
async def summary(
    request: Request,
    caller: CallerDep,
    since: Since = None,
    until: Until = None,
    platform: Annotated[list[str] | None, Query(description="repeatable")] = None,
    account_id: AccountId = None,
) -> Response:
    body = await analytics.summary(
        context(request).db,
        caller.user.id,
        since=since,
        until=until,
        platforms=platform or (),
        account_id=account_id,
    )
    return json_response(200, body)


@router.post(
    "/posts/{id}/analytics/refresh",
    status_code=202,
    response_model=RefreshQueued,
    responses={**NOT_FOUND, **LIMITED},
)
async def refresh(request: Request, caller: CallerDep, post_id: PostId) -> Response:
    body = await analytics.refresh(context(request).db, caller.user.id, post_id)
    return json_response(202, body)
