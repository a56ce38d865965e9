"""The signed-in browser: its session cookie, its CSRF token, and the viewer's time zone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from masthead.context import AppContext
from masthead.domain import inputs
from masthead.services import web_auth

SESSION_COOKIE = "masthead_session"
LOGIN_CSRF_COOKIE = "masthead_login_csrf"
TZ_COOKIE = "masthead_tz"
DEVICE_COOKIE = "masthead_device"
"""Marks a browser its user signed in from (services/web_auth.py): only /login reads it."""
SESSION_SECONDS = int(web_auth.SESSION_LIFETIME.total_seconds())
DEVICE_SECONDS = int(web_auth.DEVICE_LIFETIME.total_seconds())


class NotSignedIn(Exception):
    """Answered with a redirect to /login (see web/app.py)."""


class CsrfRefused(Exception):
    """A form without the session's token: answered 403 (see web/app.py)."""


class NotFound(Exception):
    """Unknown ids and other users' objects alike (isolation: 404, not 403)."""


@dataclass(frozen=True, slots=True)
class Viewer:
    session: web_auth.WebSession
    zone: ZoneInfo

    @property
    def user_id(self) -> str:
        return self.session.user.id


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def secure_cookies(request: Request) -> bool:
    return context(request).settings.public_url.startswith("https://")


def zone_of(request: Request) -> ZoneInfo:
    """The zone the browser reported (static/app.js sets the cookie), UTC until it has."""
    return inputs.zone(request.cookies.get(TZ_COOKIE, "UTC")) or ZoneInfo("UTC")


async def viewer(request: Request) -> Viewer:
    """The route dependency of every signed-in page."""
    found = await web_auth.session(context(request).db, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NotSignedIn()
    return Viewer(found, zone_of(request))


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The posted form, refused unless it carries this session's CSRF token."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not web_auth.csrf_ok(viewer.session.csrf_token, sent if isinstance(sent, str) else None):
        raise CsrfRefused()
    return form


def row_id(value: str) -> int:
    """A path's numeric id; one the store cannot hold is unknown like any other (404)."""
    found = inputs.row_id(value)
    if found is None:
        raise NotFound()
    return found


def post_id(value: str) -> str:
    if inputs.post_id(value) is None:
        raise NotFound()
    return value


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _set_private_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int | None = None,
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    """A cookie no script can read, sent over https only when the site is https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite=samesite,
        secure=secure_cookies(request),
        path=path,
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    _set_private_cookie(request, response, SESSION_COOKIE, token, path="/", max_age=SESSION_SECONDS)


def set_device_cookie(request: Request, response: Response, value: str) -> None:
    _set_private_cookie(
        request,
        response,
        DEVICE_COOKIE,
        value,
        path="/login",
        max_age=DEVICE_SECONDS,
        samesite="strict",
    )


def login_csrf(request: Request) -> str:
    """Before sign-in there is no session to hold a token: the login form's token is also
    set as a cookie, and the two must match (a cross-site page can read neither)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    _set_private_cookie(request, response, LOGIN_CSRF_COOKIE, token, path="/login")
