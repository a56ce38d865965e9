"""/settings/webhooks: event webhooks (create with the secret shown once, list, switch on and
off, delete) and each one's delivery log with redelivery, through services/webhooks.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from masthead.domain.errors import ValidationFailed
from masthead.domain.events import EVENT_TYPES, WILDCARD
from masthead.services import webhooks
from masthead.store.webhooks import Change
from masthead.web import session
from masthead.web.render import page

router = APIRouter(prefix="/settings/webhooks", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]


async def _page(
    request: Request,
    viewer: session.Viewer,
    *,
    created: webhooks.Subscription | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    db = session.context(request).db
    return page(
        request,
        "webhooks.html",
        viewer,
        status=status,
        subscriptions=await webhooks.list_for(db, viewer.user_id),
        switched_off=await webhooks.switched_off(db, viewer.user_id),
        created=created,
        error=error,
        event_types=EVENT_TYPES,
    )


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    return await _page(request, viewer)


@router.post("")
async def create(request: Request, viewer: ViewerDep) -> Response:
    form = await session.checked_form(request, viewer)
    ctx = session.context(request)
    events = [e for e in form.getlist("events") if isinstance(e, str)] or [WILDCARD]
    try:
        created = await webhooks.create(
            ctx.db,
            ctx.secrets,
            ctx.settings.fetch_allow,
            viewer.user_id,
            url=session.field(form, "url").strip(),
            events=events,
            description=session.field(form, "description"),
        )
    except ValidationFailed as exc:
        return await _page(request, viewer, error=exc.message, status=422)
    return await _page(request, viewer, created=created, status=201)


async def _switch(request: Request, viewer: session.Viewer, hook_id: str, on: bool) -> Response:
    await session.checked_form(request, viewer)
    ctx = session.context(request)
    try:
        await webhooks.change(
            ctx.db, ctx.settings.fetch_allow, viewer.user_id, hook_id, Change(enabled=on)
        )
    except webhooks.NotFound:
        raise session.NotFound() from None
    return RedirectResponse("/settings/webhooks", 303)


@router.post("/{hook_id}/enable")
async def enable(request: Request, viewer: ViewerDep, hook_id: str) -> Response:
    return await _switch(request, viewer, hook_id, True)


@router.post("/{hook_id}/disable")
async def disable(request: Request, viewer: ViewerDep, hook_id: str) -> Response:
    return await _switch(request, viewer, hook_id, False)


@router.post("/{hook_id}/delete")
async def delete(request: Request, viewer: ViewerDep, hook_id: str) -> Response:
    await session.checked_form(request, viewer)
    try:
        await webhooks.delete(session.context(request).db, viewer.user_id, hook_id)
    except webhooks.NotFound:
        raise session.NotFound() from None
    return RedirectResponse("/settings/webhooks", 303)


@router.get("/{hook_id}")
async def deliveries(
    request: Request, viewer: ViewerDep, hook_id: str, before: int | None = None
) -> Response:
    db = session.context(request).db
    try:
        subscription = await webhooks.get(db, viewer.user_id, hook_id)
        rows, after = await webhooks.delivery_log(db, viewer.user_id, hook_id, before=before)
    except webhooks.NotFound:
        raise session.NotFound() from None
    return page(
        request,
        "webhook.html",
        viewer,
        subscription=subscription,
        deliveries=rows,
        after=after,
    )


@router.post("/{hook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request, viewer: ViewerDep, hook_id: str, delivery_id: int
) -> Response:
    await session.checked_form(request, viewer)
    try:
        await webhooks.redeliver(session.context(request).db, viewer.user_id, hook_id, delivery_id)
    except webhooks.NotFound:
        raise session.NotFound() from None
    return RedirectResponse(f"/settings/webhooks/{hook_id}", 303)
