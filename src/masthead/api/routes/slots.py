"""Section 6: weekly calendar slots and the next free one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from masthead.api.auth import Caller, authenticate, context
from masthead.api.body import read_model
from masthead.api.errors import ApiError, json_response
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
from masthead.domain import inputs
from masthead.domain.slots import SlotTarget
from masthead.services import slots as slot_service
from masthead.store import slots as slot_store

router = APIRouter(prefix="/v2", tags=["slots"], responses=COMMON_ERRORS)
CallerDep = Annotated[Caller, Depends(authenticate)]
SlotId = Annotated[str, Path(alias="id", description="a slot id (numeric string)")]
INVALID: Responses = {400: {"model": Message}, 422: {"model": ValidationMessage}}
NOT_FOUND = "Slot not found"


def _slot_id(value: str) -> int:
    """Any id the store cannot hold is simply unknown: 404, like every other unknown id."""
    key = inputs.row_id(value)
    if key is None:
        raise ApiError(404, NOT_FOUND)
    return key


@router.get("/schedule/slots", response_model=SlotList)
async def list_slots(request: Request, caller: CallerDep) -> Response:
    specs = await context(request).db.read(lambda conn: slot_store.slot_specs(conn, caller.user.id))
    return json_response(200, {"items": [slot_service.slot_json(s) for s in specs]})


@router.post(
    "/schedule/slots",
    status_code=201,
    response_model=SlotList,
    responses=INVALID,
    openapi_extra=body_schema(SlotsIn),
)
async def create_slots(request: Request, caller: CallerDep) -> Response:
    body = await read_model(request, SlotsIn)
    new = [s.model_dump(exclude_none=False) for s in body.slots]
    ctx = context(request)
    quota = slot_service.SlotQuota.of(ctx.settings)
    specs = await slot_service.create(ctx.db, caller.user.id, new, quota)
    return json_response(201, {"items": [slot_service.slot_json(s) for s in specs]})


@router.patch(
    "/schedule/slots/{id}",
    response_model=SlotOut,
    responses={404: {"model": Message}, **INVALID},
    openapi_extra=body_schema(SlotPatch),
)
async def patch_slot(request: Request, caller: CallerDep, slot_id: SlotId) -> Response:
    slot_key = _slot_id(slot_id)
    body = await read_model(request, SlotPatch)
    values = body.model_dump(exclude_unset=True)
    for name in ("hour", "minute", "day"):
        if name in values and values[name] is None:
            raise ApiError(422, f"{name}: cannot be null")
    if values.get("selectedTargets") is None:
        values.pop("selectedTargets", None)
    spec = await slot_service.change(context(request).db, caller.user.id, slot_key, values)
    if spec is None:
        raise ApiError(404, NOT_FOUND)
    return json_response(200, slot_service.slot_json(spec))


@router.delete("/schedules/slots/{id}", status_code=204, responses={404: {"model": Message}})
async def delete_slot(request: Request, caller: CallerDep, slot_id: SlotId) -> Response:
    slot_key = _slot_id(slot_id)
    deleted = await context(request).db.write(
        lambda conn: slot_store.delete_slot(conn, caller.user.id, slot_key)
    )
    if not deleted:
        raise ApiError(404, NOT_FOUND)
    return Response(status_code=204)


@router.post(
    "/schedule/slots/next-available",
    response_model=NextAvailable,
    responses=INVALID,
    openapi_extra=body_schema(NextAvailableIn),
)
async def next_available(request: Request, caller: CallerDep) -> Response:
    body = await read_model(request, NextAvailableIn)
    target = SlotTarget(body.platform, body.accountId, body.subaccountId)
    found = await slot_service.next_available(context(request).db, caller.user.id, target)
    if found is None:
        raise ApiError(
            422, "No available slot for this account: create one with POST /v2/schedule/slots"
        )
    slot_id, when = found
    return json_response(200, {"slot": {"slotId": slot_id, "slotTime": when}})
