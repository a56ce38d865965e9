"""Section 10: queue a comment or a reply, read one, list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from masthead.api.auth import CallerDep, context
from masthead.api.body import read_json
from masthead.api.comment_schemas import CommentIn, CommentList, CommentOut
from masthead.api.errors import json_response
from masthead.api.schemas import (
    COMMON_ERRORS,
    LIMITED,
    Message,
    Responses,
    ValidationMessage,
    body_schema,
)
from masthead.services import comments as service

router = APIRouter(prefix="/v2", tags=["comments"], responses=COMMON_ERRORS)
IDEMPOTENCY_HEADER = "Idempotency-Key"
INVALID: Responses = {
    400: {"model": Message},
    404: {"model": Message},
    409: {"model": Message},
    422: {"model": ValidationMessage},
}


@router.post(
    "/comments",
    status_code=201,
    response_model=CommentOut,
    responses={**INVALID, **LIMITED},
    openapi_extra=body_schema(CommentIn),
)
async def create_comment(request: Request, caller: CallerDep) -> Response:
    ctx = context(request)
    body = await read_json(request)
    created = await service.create_comment(
        ctx.db,
        caller.user.id,
        body,
        request.headers.get(IDEMPOTENCY_HEADER),
        ctx.settings.comments_retention_days,
    )
    headers = {"Idempotent-Replayed": "true"} if created.replayed else None
    return json_response(created.status, created.body, headers)


@router.get(
    "/comments/{commentId}",
    response_model=CommentOut,
    responses={404: {"model": Message}, **LIMITED},
)
async def get_comment(
    request: Request,
    caller: CallerDep,
    comment_id: Annotated[str, Path(alias="commentId", max_length=64)],
) -> Response:
    ctx = context(request)
    body = await service.get_comment(
        ctx.db, caller.user.id, comment_id, ctx.settings.comments_retention_days
    )
    return json_response(200, body)


@router.get(
    "/comments",
    response_model=CommentList,
    responses={422: {"model": ValidationMessage}, **LIMITED},
)
async def list_comments(
    request: Request,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=service.LIST_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    accountId: Annotated[str | None, Query(max_length=32)] = None,
    postId: Annotated[str | None, Query(max_length=64)] = None,
    parentCommentId: Annotated[str | None, Query(max_length=64)] = None,
    platform: Annotated[list[str] | None, Query(description="repeatable")] = None,
    since: Annotated[str | None, Query(description="ISO 8601, on createdAt")] = None,
    until: Annotated[str | None, Query(description="ISO 8601, on createdAt")] = None,
    isAuthor: Annotated[str | None, Query(pattern="^(true|false)$")] = None,
    status: Annotated[list[str] | None, Query(description="repeatable")] = None,
) -> Response:
    ctx = context(request)
    body = await service.listing(
        ctx.db,
        caller.user.id,
        retention_days=ctx.settings.comments_retention_days,
        limit=limit,
        cursor=cursor,
        account_id=accountId,
        post_id=postId,
        parent_comment_id=parentCommentId,
        platforms=platform or (),
        since=since,
        until=until,
        is_author=isAuthor,
        statuses=status or (),
    )
    return json_response(200, body)
