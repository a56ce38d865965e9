"""Section 5: scheduled posts (a schedule's id is its post's postSubmissionId)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from masthead.api.auth import Caller, authenticate, context
from masthead.api.body import read_json
from masthead.api.errors import ApiError, json_response
from masthead.api.routes.posts import decode_cursor, encode_cursor, storable_id
from masthead.api.schemas import (
    COMMON_ERRORS,
    Message,
    ScheduleList,
    ScheduleOne,
    SchedulePatch,
    ValidationMessage,
    body_schema,
)
from masthead.domain.posts import draft_from_json
from masthead.services import accounts as account_rules
from masthead.services import schedules as schedule_service
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import iso

router = APIRouter(prefix="/v2", tags=["schedules"], responses=COMMON_ERRORS)
CallerDep = Annotated[Caller, Depends(authenticate)]
NOT_FOUND = "Schedule not found"
ScheduleId = Annotated[str, Path(alias="id", description="the post's postSubmissionId")]


def _known(schedule_id: str) -> str:
    if not storable_id(schedule_id):
        raise ApiError(404, NOT_FOUND)
    return schedule_id


async def _item(db: Database, row: post_store.ScheduleRow) -> dict[str, Any]:
    post = row.post
    assert post.scheduled_at is not None
    sub = account_rules.subaccount_of(draft_from_json(post.draft))
    account = None
    if row.account_status == "connected" or post.platform == "webhook":
        sub_name = None
        if sub is not None:
            sub_name = await db.read(
                lambda conn: post_store.subaccount_name(conn, post.account_id, sub)
            )
        account = {
            "id": str(post.account_id),
            "name": row.account_name or "",
            "username": row.account_username or "",
            "profileImageUrl": row.account_image,
            "subaccountId": sub,
            "subId": sub,
            "subaccountName": sub_name,
        }
    return {
        "id": post.id,
        "scheduledAt": iso(post.scheduled_at),
        "draft": post.draft,
        "account": account,
    }


@router.get("/schedules", response_model=ScheduleList, responses={422: {"model": Message}})
async def list_schedules(
    request: Request,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    db = context(request).db
    after = decode_cursor(cursor) if cursor else None

    def page(conn: Connection) -> tuple[list[post_store.ScheduleRow], int]:
        rows = post_store.list_schedules(conn, caller.user.id, after=after, limit=limit + 1)
        return rows, post_store.count_schedules(conn, caller.user.id)

    rows, total = await db.read(page)
    body: dict[str, Any] = {
        "items": [await _item(db, row) for row in rows[:limit]],
        "count": str(total),
    }
    if len(rows) > limit:
        last = rows[limit - 1].post
        assert last.scheduled_at is not None
        body["cursor"] = encode_cursor(last.scheduled_at, last.id)
    return json_response(200, body)


@router.get("/schedules/{id}", response_model=ScheduleOne, responses={404: {"model": Message}})
async def get_schedule(request: Request, caller: CallerDep, schedule_id: ScheduleId) -> Response:
    schedule_id = _known(schedule_id)
    db = context(request).db
    row = await db.read(lambda conn: post_store.get_schedule(conn, caller.user.id, schedule_id))
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return json_response(200, {"schedule": await _item(db, row)})


@router.patch(
    "/schedules/{id}",
    status_code=204,
    openapi_extra=body_schema(SchedulePatch),
    responses={
        400: {"model": Message},
        404: {"model": Message},
        409: {"model": Message, "description": "Publishing has already started"},
        422: {"model": ValidationMessage},
    },
)
async def patch_schedule(request: Request, caller: CallerDep, schedule_id: ScheduleId) -> Response:
    schedule_id = _known(schedule_id)
    ctx = context(request)
    body = await read_json(request)
    try:
        await schedule_service.patch(
            ctx.db,
            ctx.port,
            ctx.accounts,
            ctx.settings.fetch_allow,
            caller.user.id,
            schedule_id,
            body,
            ctx.media,
        )
    except schedule_service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    except schedule_service.AlreadyPublishing:
        raise ApiError(
            409, "The post is already being published; it can no longer change"
        ) from None
    return Response(status_code=204)


@router.delete(
    "/schedules/{id}",
    status_code=204,
    responses={
        404: {"model": Message},
        409: {"model": Message, "description": "Publishing has already started"},
    },
)
async def delete_schedule(request: Request, caller: CallerDep, schedule_id: ScheduleId) -> Response:
    schedule_id = _known(schedule_id)
    ctx = context(request)
    try:
        await schedule_service.delete(ctx.db, caller.user.id, schedule_id)
    except schedule_service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    except schedule_service.AlreadyPublishing:
        raise ApiError(
            409, "The post is already being published; it can no longer be cancelled"
        ) from None
    return Response(status_code=204)
