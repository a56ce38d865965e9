"""Section 2: create a post, read its status, list posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response
from starlette.routing import Route

from masthead.api.auth import CallerDep, authenticate, context
from masthead.api.body import read_json
from masthead.api.errors import json_response
from masthead.api.schemas import (
    COMMON_ERRORS,
    LIMITED,
    Message,
    PostList,
    PostStatus,
    ValidationMessage,
)
from masthead.services import post_reads
from masthead.services import posts as post_service

router = APIRouter(prefix="/v2", tags=["posts"], responses=COMMON_ERRORS)
IDEMPOTENCY_HEADER = "Idempotency-Key"


async def create_post(request: Request) -> Response:
    """POST /v2/posts, the hottest route, as a plain Starlette endpoint: FastAPI's parameter
    machinery (query, cookie and header parsing on every call) cost about a third of the
    request's CPU here (py-spy under wrk). Documented in api/openapi.py."""
    caller = await authenticate(request)
    ctx = context(request)
    body = await read_json(request)
    created = await post_service.create_post(
        ctx.db,
        ctx.port,
        ctx.accounts,
        ctx.settings.fetch_allow,
        caller.user.id,
        body,
        request.headers.get(IDEMPOTENCY_HEADER),
        ctx.media,
    )
    headers = {"Idempotent-Replayed": "true"} if created.replayed else None
    return json_response(created.status, created.body, headers)


FAST_ROUTES = [Route("/v2/posts", create_post, methods=["POST"], name="create_post")]


@router.get(
    "/posts/{postSubmissionId}",
    response_model=PostStatus,
    responses={404: {"model": Message}, **LIMITED},
)
async def get_post(
    request: Request,
    caller: CallerDep,
    post_id: Annotated[str, Path(alias="postSubmissionId")],
) -> Response:
    return json_response(200, await post_reads.status(context(request).db, caller.user.id, post_id))


@router.get(
    "/posts",
    response_model=PostList,
    responses={422: {"model": ValidationMessage}, **LIMITED},
)
async def list_posts(
    request: Request,
    caller: CallerDep,
    since: Annotated[str | None, Query(description="ISO 8601; default now - 7 days")] = None,
    until: Annotated[str | None, Query(description="ISO 8601; default now + 7 days")] = None,
    limit: Annotated[int, Query(ge=1, le=post_reads.LIST_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    status: Annotated[list[str] | None, Query(description="scheduled, published, failed")] = None,
    platform: Annotated[list[str] | None, Query(description="repeatable")] = None,
) -> Response:
    body = await post_reads.listing(
        context(request).db,
        caller.user.id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
        statuses=status or (),
        platforms=platform or (),
    )
    return json_response(200, body)
