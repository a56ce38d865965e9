"""/analytics: how published posts did (services/analytics_views.py), charts drawn as SVG."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from masthead.domain import inputs
from masthead.domain.analytics import SORT_KEYS
from masthead.platforms.registry import SOCIAL, SPECS
from masthead.services import analytics_views
from masthead.web import session
from masthead.web.render import page

router = APIRouter(prefix="/analytics", include_in_schema=False)
ViewerDep = Annotated[session.Viewer, Depends(session.viewer)]


@router.get("")
async def show(request: Request, viewer: ViewerDep) -> Response:
    query = request.query_params
    days = inputs.ascii_int(query.get("days", "")) or 0
    account = inputs.row_id(query.get("account", ""))
    post = query.get("post")
    view = await analytics_views.page(
        session.context(request).db,
        viewer.user_id,
        viewer.zone,
        days=days,
        metric=query.get("metric", ""),
        platforms=query.getlist("platform"),
        account_id=account,
        post_id=post if post and inputs.post_id(post) else None,
    )
    return page(
        request,
        "analytics.html",
        viewer,
        view=view,
        periods=analytics_views.PERIODS,
        metrics=[(key, analytics_views.metric_name(key)) for key in SORT_KEYS],
        platforms=[(name, SPECS[name].label) for name in SOCIAL],
        chosen_platforms=[p for p in query.getlist("platform") if p in SOCIAL],
        chosen_account=account,
        metric_label=analytics_views.metric_name(view.metric),
        labels={name: SPECS[name].label for name in SOCIAL},
    )
