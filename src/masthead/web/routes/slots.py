"""/settings/slots: weekly slots per account, in the viewer's time zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from masthead.domain.errors import ValidationFailed
from masthead.domain.slots import DAYS
from masthead.services import slot_views
from masthead.services import slots as slot_service
from masthead.web import session
from masthead.web.render import page

router = APIRouter(prefix="/settings/slots", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]


async def _page(
    request: Request, viewer: session.Viewer, *, error: str = "", status: int = 200
) -> Response:
    slots, choices = await slot_views.overview(session.context(request).db, viewer.user_id)
    return page(
        request,
        "slots.html",
        viewer,
        status=status,
        slots=slots,
        choices=choices,
        days=DAYS,
        error=error,
    )


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    return await _page(request, viewer)


@router.post("")
async def create(request: Request, viewer: ViewerDep) -> Response:
    form = await session.checked_form(request, viewer)
    ctx = session.context(request)
    try:
        await slot_views.add(
            ctx.db,
            viewer.user_id,
            slot_service.SlotQuota.of(ctx.settings),
            target=session.field(form, "target"),
            day=session.field(form, "day"),
            time=session.field(form, "time"),
            timezone=session.field(form, "timezone") or viewer.zone.key,
        )
    except ValidationFailed as exc:
        return await _page(request, viewer, error=exc.message, status=422)
    return RedirectResponse("/settings/slots", 303)


@router.post("/{slot_id}/delete")
async def delete(request: Request, viewer: ViewerDep, slot_id: str) -> Response:
    await session.checked_form(request, viewer)
    if not await slot_views.remove(
        session.context(request).db, viewer.user_id, session.row_id(slot_id)
    ):
        raise session.NotFound()
    return RedirectResponse("/settings/slots", 303)
