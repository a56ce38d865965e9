"""OAuth for MCP clients over HTTP (MASTHEAD_MCP_OAUTH): the two well-known documents,
registration, the approval page and the token endpoint. The rules are services/mcp_oauth.py."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from masthead.mcp.backend import Backend
from masthead.services import api_keys, mcp_oauth
from masthead.services.agent_setup import MCP_PATH

PROTECTED_RESOURCE = "/.well-known/oauth-protected-resource"
NO_STORE = {"Cache-Control": "no-store"}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.ctx
    return backend


def _base(request: Request) -> str:
    return _backend(request).settings.public_url.rstrip("/")


def challenge(public_url: str) -> str:
    """The WWW-Authenticate value of a 401 from /mcp: where the client learns to sign in."""
    return f'Bearer resource_metadata="{public_url.rstrip("/")}{PROTECTED_RESOURCE}"'


async def protected_resource(request: Request) -> Response:
    base = _base(request)
    return _json(200, {"resource": base + MCP_PATH, "authorization_servers": [base]})


async def authorization_server(request: Request) -> Response:
    base = _base(request)
    return _json(
        200,
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "registration_endpoint": f"{base}/oauth/register",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
        },
    )


async def register(request: Request) -> Response:
    try:
        metadata = orjson.loads(await request.body())
        return _json(201, mcp_oauth.register(_backend(request).secrets, metadata), NO_STORE)
    except orjson.JSONDecodeError:
        error = mcp_oauth.OAuthError("invalid_client_metadata", "the body is not JSON")
    except mcp_oauth.OAuthError as exc:
        error = exc
    return _json(error.status, error.body())


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow {client} to use Masthead</title></head>
<body><main><h1>Allow {client} to publish through Masthead?</h1>
<p>{client} will act with the API key you give here: it can read your accounts and posts and
publish, schedule and delete posts for you. Revoking the key (Settings, API keys) revokes its
access.</p>{problem}
<form method="post" action="/oauth/authorize">{hidden}
<label for="api_key">Masthead API key</label>
<input id="api_key" name="api_key" type="password" autocomplete="off" required>
<button type="submit">Allow</button></form></main></body></html>"""


def _page(client: str, params: dict[str, str], problem: str = "", status: int = 200) -> Response:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k != "api_key"
    )
    note = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
    body = PAGE.format(client=html.escape(client), hidden=hidden, problem=note)
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


async def authorize(request: Request) -> Response:
    """GET shows the approval page; POST (with the user's API key) sends the client back with
    a code. Bad parameters are shown here, never redirected to an unverified URI."""
    backend = _backend(request)
    if request.method == "GET":
        params = dict(request.query_params)
    else:
        params = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        asked = mcp_oauth.check_authorize(backend.secrets, params)
    except mcp_oauth.OAuthError as exc:
        return HTMLResponse(
            f"<p>This sign-in link cannot be used: {html.escape(exc.description)}</p>",
            status_code=400,
        )
    if request.method == "GET":
        return _page(asked.client.name, params)
    owner = await api_keys.owner_of(
        backend.db, backend.secrets, backend.known_keys, params.get("api_key", "")
    )
    if owner is None:
        return _page(asked.client.name, params, api_keys.WRONG_KEY, status=401)
    code = await mcp_oauth.approve(backend.db, backend.secrets, asked, owner)
    query = {"code": code, **({"state": asked.state} if asked.state is not None else {})}
    separator = "&" if "?" in asked.redirect_uri else "?"
    return RedirectResponse(f"{asked.redirect_uri}{separator}{urlencode(query)}", 303)


async def token(request: Request) -> Response:
    backend = _backend(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        issued = await mcp_oauth.exchange(backend.db, backend.secrets, form)
    except mcp_oauth.OAuthError as exc:
        return _json(exc.status, exc.body(), NO_STORE)
    return _json(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token,
        },
        NO_STORE,
    )


def install(app: Starlette) -> None:
    for route in (
        Route(PROTECTED_RESOURCE, protected_resource, methods=["GET"]),
        Route(PROTECTED_RESOURCE + MCP_PATH, protected_resource, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", authorization_server, methods=["GET"]),
        Route("/oauth/register", register, methods=["POST"]),
        Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth/token", token, methods=["POST"]),
    ):
        app.router.routes.insert(0, route)
