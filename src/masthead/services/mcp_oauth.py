"""OAuth 2.1 for MCP clients (contract section 11): dynamic registration of public clients,
authorization codes bound to PKCE S256, and bearer tokens that act for the user who approved
them.

Nothing here needs a table of its own: a client id and a token are the server's own
encrypted statements (MultiFernet, so key rotation keeps them valid), and an authorization
code is a row of `oauth_states` (platform `mcp`), deleted as it is redeemed, so a code works
once on any API process. Redeeming a code gives the agent an API key of its own (listed with
the user's keys, named after the client); a token names that key and the key the user
approved with, and every use checks that both are still active: revoking the agent's key
disconnects that agent alone, at once; revoking the approving key disconnects its agents.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from masthead.security import Secrets
from masthead.services import api_keys
from masthead.store import oauth_states, users
from masthead.store.database import Database
from masthead.timeutil import utcnow

CODE_LIFETIME = timedelta(minutes=10)
ACCESS_SECONDS = 3600
REFRESH_LIFETIME = timedelta(days=30)
CLIENT_PREFIX = "mcpc_"
TOKEN_PREFIX = "mcpt_"
CODE_KIND = "mcp"
"""The `platform` of an authorization code's row in `oauth_states`."""


class OAuthError(Exception):
    """An RFC 6749 error: `error` is the code, `description` says what to fix."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        self.error = error
        self.description = description
        self.status = status
        super().__init__(description)

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    redirect_uris: list[str]
    name: str


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int = ACCESS_SECONDS


def _seal(secrets: Secrets, prefix: str, value: dict[str, Any]) -> str:
    return prefix + secrets.encrypt(orjson.dumps(value).decode())


def _open(secrets: Secrets, prefix: str, sealed: str) -> dict[str, Any] | None:
    if not sealed.startswith(prefix):
        return None
    try:
        value = orjson.loads(secrets.decrypt(sealed.removeprefix(prefix)))
    except ValueError:  # tampered, or sealed with a key no longer configured: not ours
        return None
    return value if isinstance(value, dict) else None


def _redirect_allowed(uri: str) -> bool:
    """https anywhere; http only back to this machine (native and CLI clients)."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc:
        return False
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    return parts.scheme == "https" or (parts.scheme == "http" and local)


def register(secrets: Secrets, metadata: Any) -> dict[str, Any]:
    """RFC 7591 for public clients: the answer's client_id carries the redirect URIs."""
    if not isinstance(metadata, dict):
        raise OAuthError("invalid_client_metadata", "send the client metadata as a JSON object")
    uris = metadata.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise OAuthError("invalid_redirect_uri", "redirect_uris: a list of URLs is required")
    for uri in uris:
        if not _redirect_allowed(uri):
            raise OAuthError(
                "invalid_redirect_uri", f"redirect_uris: {uri} must be https (or http to localhost)"
            )
    method = metadata.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise OAuthError(
            "invalid_client_metadata", "token_endpoint_auth_method: only none (public clients)"
        )
    name = str(metadata.get("client_name") or "MCP client")[:200]
    client_id = _seal(secrets, CLIENT_PREFIX, {"r": uris, "n": name})
    return {
        "client_id": client_id,
        "client_name": name,
        "redirect_uris": uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "client_id_issued_at": int(utcnow().timestamp()),
    }


def client(secrets: Secrets, client_id: str) -> Client:
    value = _open(secrets, CLIENT_PREFIX, client_id)
    if value is None:
        raise OAuthError("invalid_client", "client_id: unknown; register at /oauth/register")
    return Client(client_id, list(value["r"]), str(value["n"]))


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    client: Client
    redirect_uri: str
    code_challenge: str
    state: str | None


def check_authorize(secrets: Secrets, params: dict[str, str]) -> AuthorizeRequest:
    """The authorize parameters, or the reason they cannot be honoured. Checked before the
    page is shown and again when it is approved."""
    found = client(secrets, params.get("client_id", ""))
    redirect_uri = params.get("redirect_uri") or (
        found.redirect_uris[0] if len(found.redirect_uris) == 1 else ""
    )
    if redirect_uri not in found.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri: not one the client registered")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type: must be code")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        raise OAuthError(
            "invalid_request", "PKCE is required: code_challenge with code_challenge_method S256"
        )
    return AuthorizeRequest(found, redirect_uri, params["code_challenge"], params.get("state"))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def approve(
    db: Database, secrets: Secrets, request: AuthorizeRequest, owner: users.KeyOwner
) -> str:
    """A single-use code for `owner`'s key, good for ten minutes."""
    code = random.token_urlsafe(32)
    now = utcnow()
    grant = {"k": owner.key_id, "c": request.client.client_id, "p": request.code_challenge}
    await db.write(
        lambda conn: oauth_states.add(
            conn,
            state_hash=_hash(code),
            user_id=owner.user.id,
            platform=CODE_KIND,
            code_verifier=secrets.encrypt(orjson.dumps(grant).decode()),
            redirect_uri=request.redirect_uri,
            now=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    return code


def _tokens(secrets: Secrets, grant: Grant, client_id: str) -> Tokens:
    now = utcnow()
    access = {"t": "a", **grant.sealed(), "e": int(now.timestamp()) + ACCESS_SECONDS}
    refresh = {
        "t": "r",
        **grant.sealed(),
        "c": client_id,
        "e": int((now + REFRESH_LIFETIME).timestamp()),
    }
    return Tokens(_seal(secrets, TOKEN_PREFIX, access), _seal(secrets, TOKEN_PREFIX, refresh))


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token acts as: the agent's own key (revoked alone to disconnect that agent)
    and the key its user approved it with (revoked, it takes its agents along)."""

    key_id: int
    granted_by: int

    def sealed(self) -> dict[str, int]:
        return {"k": self.key_id, "g": self.granted_by}

    @classmethod
    def of(cls, token: dict[str, Any]) -> Grant:
        # A token sealed before agents had keys of their own acts as the approving key.
        return cls(int(token["k"]), int(token.get("g", token["k"])))


async def _live_key(db: Database, key_id: int) -> users.KeyOwner:
    owner = await db.read(lambda conn: users.active_key(conn, key_id))
    if owner is None:
        raise OAuthError("invalid_grant", "the API key this was granted with has been revoked")
    return owner


async def _live_grant(db: Database, grant: Grant) -> users.KeyOwner | None:
    return await db.read(lambda conn: users.active_agent_key(conn, grant.key_id, grant.granted_by))


async def exchange(db: Database, secrets: Secrets, form: dict[str, str]) -> Tokens:
    """POST /oauth/token: a code (with its PKCE verifier) or a refresh token."""
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = form.get("code", "")
        pending = await db.write(lambda conn: oauth_states.take(conn, _hash(code), CODE_KIND))
        if pending is None or pending.expires_at < utcnow():
            raise OAuthError("invalid_grant", "code: unknown, used or expired")
        grant = orjson.loads(secrets.decrypt(pending.code_verifier))
        if form.get("client_id") != grant["c"]:
            raise OAuthError("invalid_grant", "client_id: not the client the code was issued to")
        if form.get("redirect_uri", pending.redirect_uri) != pending.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri: not the one of the authorization")
        if _s256(form.get("code_verifier", "")) != grant["p"]:
            raise OAuthError("invalid_grant", "code_verifier: does not match the code_challenge")
        approver = await _live_key(db, int(grant["k"]))
        name = f"MCP agent: {client(secrets, grant['c']).name}"
        agent = await api_keys.create_for_agent(db, secrets, approver.user.id, name)
        return _tokens(secrets, Grant(agent, approver.key_id), grant["c"])
    if grant_type == "refresh_token":
        value = _open(secrets, TOKEN_PREFIX, form.get("refresh_token", ""))
        if value is None or value.get("t") != "r" or value["e"] < utcnow().timestamp():
            raise OAuthError("invalid_grant", "refresh_token: unknown or expired")
        if form.get("client_id", value["c"]) != value["c"]:
            raise OAuthError("invalid_grant", "client_id: not the client the token was issued to")
        granted = Grant.of(value)
        if await _live_grant(db, granted) is None:
            raise OAuthError("invalid_grant", "refresh_token: the agent's key has been revoked")
        return _tokens(secrets, granted, value["c"])
    raise OAuthError("unsupported_grant_type", "grant_type: authorization_code or refresh_token")


async def bearer_owner(db: Database, secrets: Secrets, token: str) -> users.KeyOwner | None:
    """Whose key an access token acts as; None if it is not a live token of ours."""
    value = _open(secrets, TOKEN_PREFIX, token)
    if value is None or value.get("t") != "a" or value["e"] < utcnow().timestamp():
        return None
    return await _live_grant(db, Grant.of(value))


def is_token(credential: str) -> bool:
    return credential.startswith(TOKEN_PREFIX)
