"""/comments: the inbox. Comments on the user's published posts grouped by post, newest first,
unanswered ones marked, each with a reply box (CSRF-protected) that queues a reply through
services/comments.py, as `POST /v2/comments` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from masthead.domain.errors import ValidationFailed
from masthead.services import comments
from masthead.services.errors import ApiError
from masthead.web import session
from masthead.web.render import page

router = APIRouter(prefix="/comments", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]


async def _page(
    request: Request, viewer: session.Viewer, *, error: str = "", status: int = 200
) -> Response:
    ctx = session.context(request)
    posts = await comments.inbox(ctx.db, viewer.user_id, ctx.settings.comments_retention_days)
    return page(request, "comments.html", viewer, status=status, posts=posts, error=error)


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    return await _page(request, viewer)


@router.post("/{comment_id}/reply")
async def reply(request: Request, viewer: ViewerDep, comment_id: str) -> Response:
    form = await session.checked_form(request, viewer)
    ctx = session.context(request)
    days = ctx.settings.comments_retention_days
    try:
        parent = await comments.get_comment(ctx.db, viewer.user_id, comment_id, days)
    except ApiError:
        raise session.NotFound() from None
    body = {
        "postId": parent["postId"],
        "text": session.field(form, "text"),
        "parentCommentId": comment_id,
    }
    try:
        await comments.create_comment(ctx.db, viewer.user_id, body, None, days)
    except (ApiError, ValidationFailed) as exc:
        return await _page(request, viewer, error=f"Not sent: {exc.message}", status=422)
    return RedirectResponse(f"/comments#comment-{comment_id}", 303)
