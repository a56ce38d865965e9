"""Connecting accounts through the browser (the logic is in services/oauth.py)."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import HTMLResponse, Response

from masthead.api.auth import CallerDep, context
from masthead.api.errors import ApiError, json_response
from masthead.api.schemas import COMMON_ERRORS, Message
from masthead.services import oauth

router = APIRouter(prefix="/oauth", tags=["oauth"])
PAGE = {"text/html": {"schema": {"type": "string"}}}
OptionalQuery = Annotated[str | None, Query()]


class AuthorizeUrl(BaseModel):
    authorizeUrl: str


@router.post(
    "/{platform}/start",
    response_model=AuthorizeUrl,
    responses={
        **COMMON_ERRORS,
        400: {"model": Message, "description": "The platform's OAuth app is not configured"},
        404: {"model": Message, "description": "No such platform"},
    },
)
async def start(request: Request, platform: str, caller: CallerDep) -> Response:
    """The platform's authorize URL for the caller; open it in a browser to connect."""
    ctx = context(request)
    try:
        url = await oauth.start(
            ctx.db,
            ctx.secrets,
            ctx.settings,
            ctx.publishers,
            user_id=caller.user.id,
            platform=platform,
        )
    except oauth.OAuthFailed as exc:
        raise ApiError(exc.status, exc.message) from exc
    return json_response(200, {"authorizeUrl": url})


def _page(title: str, message: str, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p>"
        "<p><a href='/settings/accounts'>Back to your accounts</a></p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


@router.get(
    "/{platform}/callback",
    response_class=HTMLResponse,
    responses={
        200: {"content": PAGE, "description": "The account is connected"},
        400: {"content": PAGE, "description": "Unknown, expired or used state; access denied"},
        404: {"content": PAGE, "description": "No such platform"},
        502: {"content": PAGE, "description": "The platform could not be reached"},
    },
)
async def callback(
    request: Request,
    platform: str,
    code: OptionalQuery = None,
    state: OptionalQuery = None,
    error: OptionalQuery = None,
    error_description: OptionalQuery = None,
) -> Response:
    """Where the platform sends the browser back. No API key: the state names the user."""
    ctx = context(request)
    try:
        account_id, connected = await oauth.finish(
            ctx.db,
            ctx.secrets,
            ctx.publishers,
            platform=platform,
            state=state,
            code=code,
            error=error,
            error_description=error_description,
        )
    except oauth.OAuthFailed as exc:
        return _page("Account not connected", exc.message, exc.status)
    return _page(
        "Account connected",
        f"{platform} account @{connected.username} is connected; its accountId is {account_id}.",
        200,
    )
