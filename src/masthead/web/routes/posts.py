"""/posts: the week calendar, the filtered list, a post's detail; cancel and reschedule."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from masthead.domain import inputs
from masthead.domain.errors import ValidationFailed
from masthead.platforms.registry import TARGET_TYPES
from masthead.services import post_views, schedules
from masthead.timeutil import iso
from masthead.web import session
from masthead.web.render import page

router = APIRouter(prefix="/posts", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]


def _week(value: str | None, today: date) -> date:
    return post_views.week_start(inputs.parse_calendar_day(value, "week") if value else today)


def _cursor(request: Request) -> tuple[datetime, str] | None:
    before, before_id = request.query_params.get("before"), request.query_params.get("before_id")
    if not before or not before_id:
        return None
    if inputs.post_id(before_id) is None:
        raise ValidationFailed.one("before_id", "is not a post id")
    return inputs.parse_instant(before, "before"), before_id


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    ctx = session.context(request)
    query = request.query_params
    statuses = [s for s in query.getlist("status") if s in post_views.STATUSES]
    platforms = [p for p in query.getlist("platform") if p in TARGET_TYPES]
    try:
        start = _week(query.get("week"), datetime.now(viewer.zone).date())
        after = _cursor(request)
    except ValidationFailed as exc:
        return page(request, "error.html", status=400, title="Bad request", message=exc.message)
    week = await post_views.week(
        ctx.db, viewer.user_id, start, viewer.zone, statuses=statuses, platforms=platforms
    )
    posts, cursor = await post_views.listing(
        ctx.db,
        viewer.user_id,
        viewer.zone,
        statuses=statuses,
        platforms=platforms,
        after=after,
    )
    filters = [("status", s) for s in statuses] + [("platform", p) for p in platforms]
    more = (
        urlencode([*filters, ("before", cursor[0].isoformat()), ("before_id", cursor[1])])
        if cursor
        else ""
    )
    return page(
        request,
        "posts.html",
        viewer,
        week=week,
        posts=posts,
        statuses=post_views.STATUSES,
        platforms=TARGET_TYPES,
        chosen_statuses=statuses,
        chosen_platforms=platforms,
        previous_week=(start - timedelta(days=7)).isoformat(),
        next_week=(start + timedelta(days=7)).isoformat(),
        more=more,
        filter_query=urlencode(filters),
        week_value=start.isoformat(),
        today=datetime.now(viewer.zone).date(),
    )


async def _detail(
    request: Request, viewer: session.Viewer, post_id: str, *, error: str = "", status: int = 200
) -> Response:
    found = await post_views.detail(
        session.context(request).db, viewer.user_id, session.post_id(post_id), viewer.zone
    )
    if found is None:
        raise session.NotFound()
    return page(request, "post.html", viewer, status=status, detail=found, error=error)


@router.get("/{post_id}")
async def detail(request: Request, viewer: ViewerDep, post_id: str) -> Response:
    return await _detail(request, viewer, post_id)


@router.post("/{post_id}/cancel")
async def cancel(request: Request, viewer: ViewerDep, post_id: str) -> Response:
    await session.checked_form(request, viewer)
    try:
        await schedules.delete(
            session.context(request).db, viewer.user_id, session.post_id(post_id)
        )
    except schedules.NotFound:
        raise session.NotFound() from None
    except schedules.AlreadyPublishing:
        return await _detail(
            request,
            viewer,
            post_id,
            error="Publishing has started: too late to cancel.",
            status=409,
        )
    return RedirectResponse("/posts", 303)


@router.post("/{post_id}/reschedule")
async def reschedule(request: Request, viewer: ViewerDep, post_id: str) -> Response:
    """`when` is a wall-clock time (an <input type=datetime-local>) in the viewer's zone."""
    form = await session.checked_form(request, viewer)
    ctx = session.context(request)
    try:
        when = inputs.parse_local_time(session.field(form, "when"), viewer.zone, "when")
    except ValidationFailed:
        return await _detail(request, viewer, post_id, error="Pick a date and time.", status=422)
    try:
        await schedules.patch(
            ctx.db,
            ctx.port,
            ctx.accounts,
            ctx.settings.fetch_allow,
            viewer.user_id,
            session.post_id(post_id),
            {"patch": {"scheduledTime": iso(when)}},
            ctx.media,
        )
    except schedules.NotFound:
        raise session.NotFound() from None
    except schedules.AlreadyPublishing:
        return await _detail(
            request,
            viewer,
            post_id,
            error="Publishing has started: too late to move it.",
            status=409,
        )
    except ValidationFailed as exc:
        message = "; ".join(e.message for e in exc.errors)
        return await _detail(request, viewer, post_id, error=f"Not moved: {message}", status=422)
    return RedirectResponse(f"/posts/{post_id}", 303)
