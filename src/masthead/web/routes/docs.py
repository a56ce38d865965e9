"""/docs: Swagger UI for the API, from files vendored under static/ (pinned in render.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from masthead.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs(request: Request) -> Response:
    return page(request, "docs.html")
