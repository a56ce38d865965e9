"""/login and /logout."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from masthead.services import web_auth
from masthead.web import session
from masthead.web.render import page

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only a path on this site (never `//host`, `/\\host` or a scheme): no open redirect."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/posts"


def _login_page(
    request: Request, *, error: str = "", status: int = 200, email: str = ""
) -> Response:
    token = session.login_csrf(request)
    response = page(
        request,
        "login.html",
        status=status,
        csrf_token=token,
        error=error,
        email=email,
        next=_safe_next(request.query_params.get("next", "/posts")),
    )
    session.set_login_csrf(request, response, token)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    expected = request.cookies.get(session.LOGIN_CSRF_COOKIE)
    sent = session.field(form, "csrf_token")
    if not expected or not web_auth.csrf_ok(expected, sent):
        raise session.CsrfRefused()
    email = session.field(form, "email")
    ctx = session.context(request)
    attempt = web_auth.Attempt(
        email=email,
        password=session.field(form, "password"),
        address=request.client.host if request.client else "",
        session=request.cookies.get(session.SESSION_COOKIE),
        device=request.cookies.get(session.DEVICE_COOKIE),
    )
    try:
        signed_in = await web_auth.sign_in(ctx.db, ctx.secrets, attempt)
    except web_auth.TooManyAttempts as exc:
        minutes = math.ceil(exc.retry_after / 60)
        response = _login_page(
            request,
            error=f"Too many failed sign-ins. Try again in {minutes} minutes.",
            status=429,
            email=email,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web_auth.SignInRefused:
        return _login_page(request, error="Wrong email or password.", status=401, email=email)
    response = RedirectResponse(_safe_next(session.field(form, "next") or "/posts"), 303)
    session.set_session_cookie(request, response, signed_in.token)
    session.set_device_cookie(request, response, signed_in.device)
    response.delete_cookie(session.LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    viewer = await session.viewer(request)
    await session.checked_form(request, viewer)
    await web_auth.sign_out(session.context(request).db, viewer.session.token_hash)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(session.SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/posts", 303)
