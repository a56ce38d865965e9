"""/settings/keys: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from masthead.services import agent_setup, api_keys
from masthead.web import session
from masthead.web.render import is_htmx, page

router = APIRouter(prefix="/settings/keys", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]


async def _page(request: Request, viewer: session.Viewer, new_key: str = "") -> Response:
    ctx = session.context(request)
    keys = await api_keys.listing(ctx.db, viewer.user_id)
    return page(
        request,
        "keys.html",
        viewer,
        keys=keys,
        new_key=new_key,
        base_url=ctx.settings.public_url.rstrip("/"),
        agent=agent_setup.setup(ctx.settings.public_url, new_key or None),
        agent_sign_in=ctx.settings.mcp_oauth,
    )


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    return await _page(request, viewer)


@router.post("")
async def create(request: Request, viewer: ViewerDep) -> Response:
    form = await session.checked_form(request, viewer)
    ctx = session.context(request)
    key = await api_keys.create(ctx.db, ctx.secrets, viewer.user_id, session.field(form, "name"))
    return await _page(request, viewer, new_key=key.key)


@router.post("/{key_id}/revoke")
async def revoke(request: Request, viewer: ViewerDep, key_id: str) -> Response:
    await session.checked_form(request, viewer)
    ctx = session.context(request)
    if not await api_keys.revoke(ctx.db, ctx.known_keys, viewer.user_id, session.row_id(key_id)):
        raise session.NotFound()
    if is_htmx(request):
        return Response("", media_type="text/html")
    return RedirectResponse("/settings/keys", 303)
