"""Section 6: weekly calendar slots and the next free one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from masthead.api.auth import CallerDep, context
from masthead.api.body import read_model
from masthead.api.errors import json_response
from masthead.api.schemas import (
    COMMON_ERRORS,
    Message,
    NextAvailable,
    NextAvailableIn,
    Responses,
    SlotList,
    SlotOut,
    SlotPatch,
    SlotsIn,
    ValidationMessage,
    body_schema,
)
from masthead.services import slots as slot_service

router = APIRouter(prefix="/v2", tags=["slots"], responses=COMMON_ERRORS)
SlotId = Annotated[str, Path(alias="id", description="a slot id (numeric string)")]
INVALID: Responses = {400: {"model": Message}, 422: {"model": ValidationMessage}}


@router.get("/schedule/slots", response_model=SlotList)
async def list_slots(request: Request, caller: CallerDep) -> Response:
    return json_response(200, await slot_service.listing(context(request).db, caller.user.id))


@router.post(
    "/schedule/slots",
    status_code=201,
    response_model=SlotList,
    responses=INVALID,
    openapi_extra=body_schema(SlotsIn),
)
async def create_slots(request: Request, caller: CallerDep) -> Response:
    body = await read_model(request, SlotsIn)
    ctx = context(request)
    quota = slot_service.SlotQuota.of(ctx.settings)
    return json_response(201, await slot_service.create_all(ctx.db, caller.user.id, body, quota))


@router.patch(
    "/schedule/slots/{id}",
    response_model=SlotOut,
    responses={404: {"model": Message}, **INVALID},
    openapi_extra=body_schema(SlotPatch),
)
async def patch_slot(request: Request, caller: CallerDep, slot_id: SlotId) -> Response:
    slot_service.slot_key(slot_id)
    body = await read_model(request, SlotPatch)
    return json_response(
        200, await slot_service.patch(context(request).db, caller.user.id, slot_id, body)
    )


@router.delete("/schedules/slots/{id}", status_code=204, responses={404: {"model": Message}})
async def delete_slot(request: Request, caller: CallerDep, slot_id: SlotId) -> Response:
    await slot_service.remove(context(request).db, caller.user.id, slot_id)
    return Response(status_code=204)


@router.post(
    "/schedule/slots/next-available",
    response_model=NextAvailable,
    responses=INVALID,
    openapi_extra=body_schema(NextAvailableIn),
)
async def next_available(request: Request, caller: CallerDep) -> Response:
    body = await read_model(request, NextAvailableIn)
    return json_response(
        200, await slot_service.next_free(context(request).db, caller.user.id, body)
    )
