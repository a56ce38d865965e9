"""Section 1: the caller, their accounts, subaccounts and Pinterest boards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from masthead.api.auth import Caller, authenticate, context
from masthead.api.errors import ApiError, json_response
from masthead.api.schemas import COMMON_ERRORS, Accounts, Boards, Me, Message, Subaccounts
from masthead.domain import inputs
from masthead.domain.events import account_view
from masthead.store import accounts, users

router = APIRouter(prefix="/v2", tags=["accounts"], responses=COMMON_ERRORS)
CallerDep = Annotated[Caller, Depends(authenticate)]


@router.get("/users/me", response_model=Me)
async def me(request: Request, caller: CallerDep) -> Response:
    ctx = context(request)
    secret = await ctx.db.read(lambda conn: users.webhook_secret(conn, ctx.secrets, caller.user.id))
    return json_response(
        200,
        {
            "id": caller.user.id,
            "subscriptionStatus": "active",
            "apiKey": None,
            "email": caller.user.email,
            "name": caller.user.name,
            "webhookSigningSecret": secret,
        },
    )


@router.get("/users/me/accounts", response_model=Accounts)
async def list_accounts(
    request: Request,
    caller: CallerDep,
    platform: Annotated[str | None, Query(description="only this platform")] = None,
) -> Response:
    rows = await context(request).db.read(
        lambda conn: accounts.list_accounts(conn, caller.user.id, platform or None)
    )
    return json_response(200, {"items": [account_view(r) for r in rows]})


async def _owned_account(request: Request, caller: Caller, account_id: str) -> accounts.AccountRow:
    key = inputs.row_id(account_id)
    account = (
        None
        if key is None
        else await context(request).db.read(
            lambda conn: accounts.get_account(conn, caller.user.id, key)
        )
    )
    if account is None:
        raise ApiError(404, "Account not found")
    return account


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
    account = await _owned_account(request, caller, account_id)
    subs = await context(request).db.read(lambda conn: accounts.list_subaccounts(conn, account.id))
    items = [
        {"id": s.external_id, "accountId": str(account.id), "name": s.name}
        for s in subs
        if s.kind != "board"
    ]
    return json_response(200, {"items": items})


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
    account = await _owned_account(request, caller, account_id)
    if account.platform != "pinterest":
        raise ApiError(422, f"accountId: account {account.id} is not a pinterest account")
    boards = await context(request).db.read(
        lambda conn: accounts.list_subaccounts(conn, account.id, "board")
    )
    return json_response(
        200, {"items": [{"id": b.external_id, "name": b.name} for b in boards[:250]]}
    )
