"""Templates: one Jinja2 environment with autoescaping, and the page response."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from masthead.web.session import Viewer

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
HTMX = "htmx-2.0.11.min.js"
SWAGGER_UI = "swagger-ui-5.35.0"
"""swagger-ui-dist 5.35.0 from npm: swagger-ui-bundle.js and swagger-ui.css, as published."""


def _when(value: datetime | None, zone: str = "UTC") -> str:
    """A stored instant as the viewer's wall-clock time."""
    return value.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M") if value else "never"


ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
ENV.filters["when"] = _when
ENV.globals["htmx"] = HTMX
ENV.globals["swagger_ui"] = SWAGGER_UI


def page(
    request: Request,
    template: str,
    viewer: Viewer | None = None,
    *,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    if viewer is not None:
        values |= {
            "user": viewer.session.user,
            "csrf_token": viewer.session.csrf_token,
            "zone": viewer.zone.key,
        }
    body = ENV.get_template(template).render(request=request, path=request.url.path, **values)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"
