"""Section 1: the caller, their accounts, subaccounts and Pinterest boards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from masthead.api.auth import CallerDep, context
from masthead.api.errors import json_response
from masthead.api.schemas import COMMON_ERRORS, Accounts, Boards, Me, Message, Subaccounts
from masthead.services import account_reads

router = APIRouter(prefix="/v2", tags=["accounts"], responses=COMMON_ERRORS)


@router.get("/users/me", response_model=Me)
async def me(request: Request, caller: CallerDep) -> Response:
    ctx = context(request)
    return json_response(200, await account_reads.me(ctx.db, ctx.secrets, caller.user))


@router.get("/users/me/accounts", response_model=Accounts)
async def list_accounts(
    request: Request,
    caller: CallerDep,
    platform: Annotated[str | None, Query(description="only this platform")] = None,
) -> Response:
    items = await account_reads.listing(context(request).db, caller.user.id, platform)
    return json_response(200, {"items": items})


@router.get(
    "/users/me/accounts/{accountId}/subaccounts",
    response_model=Subaccounts,
    responses={404: {"model": Message}},
)
async def list_subaccounts(
    request: Request,
    caller: CallerDep,
    account_id: Annotated[str, Path(alias="accountId")],
    platform: Annotated[
        str | None, Query(description="accepted and ignored (n8n sends it)")
    ] = None,
) -> Response:
    body = await account_reads.subaccounts(context(request).db, caller.user.id, account_id)
    return json_response(200, body)


@router.get(
    "/social/pinterest/boards",
    response_model=Boards,
    responses={404: {"model": Message}, 422: {"model": Message}},
)
async def pinterest_boards(
    request: Request,
    caller: CallerDep,
    account_id: Annotated[str, Query(alias="accountId")],
) -> Response:
    items = await account_reads.boards(context(request).db, caller.user.id, account_id)
    return json_response(200, {"items": items})
