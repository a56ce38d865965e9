"""Section 5: scheduled posts (a schedule's id is its post's postSubmissionId)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from masthead.api.auth import CallerDep, context
from masthead.api.body import read_json
from masthead.api.errors import json_response
from masthead.api.schemas import (
    COMMON_ERRORS,
    Message,
    ScheduleList,
    ScheduleOne,
    SchedulePatch,
    ValidationMessage,
    body_schema,
)
from masthead.services import schedules as schedule_service

router = APIRouter(prefix="/v2", tags=["schedules"], responses=COMMON_ERRORS)
ScheduleId = Annotated[str, Path(alias="id", description="the post's postSubmissionId")]


@router.get("/schedules", response_model=ScheduleList, responses={422: {"model": Message}})
async def list_schedules(
    request: Request,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=schedule_service.LIST_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    body = await schedule_service.listing(context(request).db, caller.user.id, limit, cursor)
    return json_response(200, body)


@router.get("/schedules/{id}", response_model=ScheduleOne, responses={404: {"model": Message}})
async def get_schedule(request: Request, caller: CallerDep, schedule_id: ScheduleId) -> Response:
    body = await schedule_service.one(context(request).db, caller.user.id, schedule_id)
    return json_response(200, body)


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
    ctx = context(request)
    body = await read_json(request)
    await schedule_service.update(
        ctx.db,
        ctx.port,
        ctx.accounts,
        ctx.settings.fetch_allow,
        caller.user.id,
        schedule_id,
        body,
        ctx.media,
    )
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
    await schedule_service.remove(context(request).db, caller.user.id, schedule_id)
    return Response(status_code=204)
