"""/settings/accounts: one card per platform; connect, reconnect, remove."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from masthead.services import account_cards, accounts, oauth
from masthead.web import session
from masthead.web.render import page

router = APIRouter(prefix="/settings/accounts", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]
PLATFORM_DOCS = Path(__file__).resolve().parents[4] / "docs" / "platforms"
"""The source tree's platform docs (Masthead runs from a checkout: `make serve`)."""
DOC_NAME = re.compile(r"[a-z0-9-]{1,40}")


@router.get("/docs/{name}")
async def platform_doc(viewer: ViewerDep, name: str) -> Response:
    """How an operator configures a platform, linked from its "not configured" card."""
    path = PLATFORM_DOCS / f"{name}.md"
    if not DOC_NAME.fullmatch(name) or not path.is_file():
        raise session.NotFound()
    return PlainTextResponse(path.read_text(encoding="utf-8"))


async def _page(
    request: Request, viewer: session.Viewer, *, error: str = "", status: int = 200
) -> Response:
    ctx = session.context(request)
    cards = await account_cards.cards(ctx.db, ctx.secrets, ctx.publishers, viewer.user_id)
    return page(
        request,
        "accounts.html",
        viewer,
        status=status,
        cards=cards,
        error=error,
        notice=request.query_params.get("notice", ""),
    )


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    return await _page(request, viewer)


@router.post("/bluesky")
async def connect_bluesky(request: Request, viewer: ViewerDep) -> Response:
    form = await session.checked_form(request, viewer)
    ctx = session.context(request)
    problem = await account_cards.connect_bluesky(
        ctx.db,
        ctx.secrets,
        ctx.publishers,
        viewer.user_id,
        session.field(form, "handle"),
        session.field(form, "app_password"),
    )
    if problem:
        return await _page(request, viewer, error=problem, status=400)
    return RedirectResponse("/settings/accounts?notice=Bluesky+account+connected", 303)


@router.post("/{platform}/connect")
async def connect_oauth(request: Request, viewer: ViewerDep, platform: str) -> Response:
    """The platform's consent page; it sends the browser back to /oauth/{platform}/callback."""
    await session.checked_form(request, viewer)
    ctx = session.context(request)
    try:
        url = await oauth.start(
            ctx.db,
            ctx.secrets,
            ctx.settings,
            ctx.publishers,
            user_id=viewer.user_id,
            platform=platform,
        )
    except oauth.OAuthFailed as exc:
        return await _page(request, viewer, error=exc.message, status=exc.status)
    return RedirectResponse(url, 303)


@router.post("/{account_id}/remove")
async def remove(request: Request, viewer: ViewerDep, account_id: str) -> Response:
    await session.checked_form(request, viewer)
    if not await accounts.remove(
        session.context(request).db, viewer.user_id, session.row_id(account_id)
    ):
        raise session.NotFound()
    return RedirectResponse("/settings/accounts?notice=Account+removed", 303)
