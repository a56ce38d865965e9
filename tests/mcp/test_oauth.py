"""OAuth for MCP clients: discovery, registration, approval with an API key, PKCE S256,
single-use codes, tokens that act as (and die with) the key, refresh."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from masthead.security import lookup_prefix
from masthead.store import users
from masthead.timeutil import utcnow
from tests.conftest import make_settings
from tests.support.harness import Caller, Harness, served_app
from tests.support.mcp_client import call, connected
from tests.support.web import csrf_in, sign_in, user_with_password

REDIRECT = "http://127.0.0.1:33418/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def registered(server: Harness) -> str:
    answer = await server.client.post(
        "/oauth/register", json={"redirect_uris": [REDIRECT], "client_name": "Test agent"}
    )
    assert answer.status_code == 201, answer.text
    client_id: str = answer.json()["client_id"]
    return client_id


def authorize_params(client_id: str, challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "xyz",
    }


async def authorized(server: Harness, caller: Caller, client_id: str, challenge: str) -> str:
    """The user opens the authorize page, gives their key and approves: the code."""
    params = authorize_params(client_id, challenge)
    page = await server.client.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    assert "Test agent" in page.text and 'name="api_key"' in page.text
    approved = await server.client.post("/oauth/authorize", data={**params, "api_key": caller.key})
    assert approved.status_code == 303
    location = urlsplit(approved.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


async def redeem(server: Harness, client_id: str, code: str, verifier: str) -> httpx.Response:
    return await server.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )


async def test_discovery_documents_and_the_401_that_points_to_them(server: Harness) -> None:
    base = server.settings.public_url
    resource = (await server.client.get("/.well-known/oauth-protected-resource")).json()
    assert resource == {"resource": f"{base}/mcp", "authorization_servers": [base]}
    meta = (await server.client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert meta["token_endpoint"] == f"{base}/oauth/token"
    assert meta["registration_endpoint"] == f"{base}/oauth/register"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    refused = await server.client.post("/mcp", json={})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource"'
    )


async def test_the_whole_flow_gives_a_token_that_acts_as_the_key(server: Harness) -> None:
    ada = await server.user()
    client_id = await registered(server)
    verifier, challenge = pkce()
    code = await authorized(server, ada, client_id, challenge)
    tokens = await redeem(server, client_id, code, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    async with connected(server.settings.public_url, bearer) as client:
        me = await call(client, "blotato_get_user")
    assert me["id"] == ada.user_id

    again = await redeem(server, client_id, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    refreshed = await server.client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": client_id,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"].startswith("mcpt_")


async def test_a_wrong_verifier_or_key_gets_no_token(server: Harness) -> None:
    ada = await server.user()
    client_id = await registered(server)
    verifier, challenge = pkce()
    code = await authorized(server, ada, client_id, challenge)
    wrong = await redeem(server, client_id, code, verifier + "x")
    assert wrong.status_code == 400
    assert wrong.json()["error_description"].startswith("code_verifier")
    params = {**authorize_params(client_id, challenge), "api_key": "blt_wrong"}
    refused = await server.client.post("/oauth/authorize", data=params)
    assert refused.status_code == 401 and "Wrong Blotato API Key" in refused.text
    plain = {**params, "code_challenge_method": "plain"}
    assert (await server.client.get("/oauth/authorize", params=plain)).status_code == 400


async def test_revoking_the_key_revokes_its_tokens(server: Harness) -> None:
    ada = await server.user()
    client_id = await registered(server)
    verifier, challenge = pkce()
    code = await authorized(server, ada, client_id, challenge)
    tokens = (await redeem(server, client_id, code, verifier)).json()
    revoked = await server.db.write(
        lambda conn: users.revoke_keys(conn, lookup_prefix(ada.key), utcnow())
    )
    assert revoked == 1
    refused = await server.client.post(
        "/mcp", json={}, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert refused.status_code == 401
    refresh = await server.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refresh.status_code == 400


async def test_registration_refuses_a_plain_http_redirect_elsewhere(server: Harness) -> None:
    answer = await server.client.post(
        "/oauth/register", json={"redirect_uris": ["http://evil.example/cb"]}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


async def test_with_oauth_off_there_is_no_oauth(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_rate_limits="off", mcp_oauth=False)
    async with served_app(settings, run_worker=False) as server:
        refused = await server.client.post("/mcp", json={})
        document = await server.client.get("/.well-known/oauth-authorization-server")
    assert refused.status_code == 401 and "www-authenticate" not in refused.headers
    assert document.status_code == 404


async def signed_in_agent(server: Harness, caller: Caller, name: str) -> dict[str, str]:
    """A client named `name` registered, approved with `caller`'s key and redeemed: tokens."""
    answer = await server.client.post(
        "/oauth/register", json={"redirect_uris": [REDIRECT], "client_name": name}
    )
    client_id = answer.json()["client_id"]
    verifier, challenge = pkce()
    params = authorize_params(client_id, challenge)
    approved = await server.client.post("/oauth/authorize", data={**params, "api_key": caller.key})
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    tokens = await redeem(server, client_id, code, verifier)
    assert tokens.status_code == 200, tokens.text
    body: dict[str, str] = tokens.json()
    return body


async def test_one_agent_is_disconnected_alone_from_the_keys_page(server: Harness) -> None:
    ada = await user_with_password(server, "ada@example.com")
    claude = await signed_in_agent(server, ada, "Claude")
    cursor = await signed_in_agent(server, ada, "Cursor")

    async def user_of(tokens: dict[str, str]) -> str:
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with connected(server.settings.public_url, headers) as client:
            me = await call(client, "blotato_get_user")
        return str(me["id"])

    assert await user_of(claude) == await user_of(cursor) == ada.user_id

    async with httpx.AsyncClient(base_url=server.settings.public_url) as browser:
        await sign_in(browser, ada.email)
        listed = await browser.get("/settings/keys")
        assert "MCP agent: Claude" in listed.text and "MCP agent: Cursor" in listed.text
        keys = await server.db.read(lambda c: users.list_keys(c, ada.user_id))
        [claude_key] = [k.id for k in keys if k.name == "MCP agent: Claude"]
        revoked = await browser.post(
            f"/settings/keys/{claude_key}/revoke", data={"csrf_token": csrf_in(listed.text)}
        )
        assert revoked.status_code == 303

    refused = await server.client.post(
        "/mcp", json={}, headers={"Authorization": f"Bearer {claude['access_token']}"}
    )
    assert refused.status_code == 401  # at once: no cache stands between a token and its key
    refresh = await server.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": claude["refresh_token"]},
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    assert await user_of(cursor) == ada.user_id  # the other agent goes on
    async with connected(server.settings.public_url, ada.headers) as client:
        assert (await call(client, "blotato_get_user"))["id"] == ada.user_id  # and the key
