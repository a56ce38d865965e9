"""OAuth 2.0 authorization code with PKCE, shared by every platform that connects that way.

A publisher that connects accounts by OAuth exposes an `OAuthProvider` (its `oauth`
attribute). The provider knows the platform's URLs and scopes; services/oauth.py owns the
flow (state, verifier, callback) so that each platform is only what differs.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from masthead.config import OAuthApp
from masthead.platforms.base import AccountDisconnected, Permanent, Retryable
from masthead.platforms.seams import StoredCredentials
from masthead.timeutil import iso, utcnow


def new_verifier() -> str:
    """A PKCE code verifier: 43 to 128 unreserved characters (RFC 7636 §4.1); 64 here."""
    return secrets.token_urlsafe(48)


def challenge(verifier: str) -> str:
    """The S256 code challenge of `verifier` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """An unguessable state: it is all that ties a callback to the user who started it."""
    return secrets.token_urlsafe(32)


def authorize_url(
    base: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: tuple[str, ...],
    state: str,
    code_challenge: str | None,
    extra: dict[str, str] | None = None,
    scope_separator: str = " ",
    client_id_field: str = "client_id",
) -> str:
    """Where the browser goes to grant access (RFC 6749 §4.1.1), with the PKCE challenge
    unless `code_challenge` is None (a platform that takes no PKCE from a web client).
    `scope_separator` and `client_id_field` are the platform's own when it differs from the
    RFC (Pinterest and TikTok: commas; TikTok: `client_key`)."""
    query = {
        "response_type": "code",
        client_id_field: client_id,
        "redirect_uri": redirect_uri,
        "scope": scope_separator.join(scopes),
        "state": state,
    }
    if code_challenge is not None:
        query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    query |= extra or {}
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(query)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthCredentials(StoredCredentials):
    """What an OAuth account stores (X, LinkedIn, Pinterest, TikTok, YouTube; Meta's and
    Threads' long-lived tokens too): the token answer of RFC 6749 §5.1, its end as ISO 8601."""

    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: str | None = None
    scope: str | None = None


def credentials_from_token_response(
    body: dict[str, Any], *, previous: dict[str, Any] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The stored credentials from a token endpoint's answer (RFC 6749 §5.1).

    A refresh answer may omit the refresh token (the old one stays valid then): the previous
    one is kept, never replaced with nothing, or the account could not be refreshed again.
    """
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise Permanent("The platform's token answer has no access_token")
    expires_in = body.get("expires_in")
    scope = body.get("scope")
    return OAuthCredentials(
        access_token=access,
        refresh_token=body.get("refresh_token") or (previous or {}).get("refresh_token") or None,
        expires_at=iso((now or utcnow()) + timedelta(seconds=expires_in))
        if isinstance(expires_in, int | float) and expires_in > 0
        else None,
        scope=scope if isinstance(scope, str) and scope else None,
    ).to_stored()


def code_grant(code: str, redirect_uri: str, verifier: str | None = None) -> dict[str, str]:
    """The form that trades an authorization code (RFC 6749 §4.1.3), with the PKCE verifier
    for platforms that check it."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return form


def refresh_grant(current: dict[str, Any]) -> dict[str, str]:
    """The form that refreshes the stored credentials' token (RFC 6749 §6)."""
    return {"grant_type": "refresh_token", "refresh_token": str(current["refresh_token"])}


Words = Callable[[httpx.Response], str]
"""The platform's own explanation of a refused token request."""


def exchanged_credentials(platform: str, response: httpx.Response, words: Words) -> dict[str, Any]:
    """Credentials from the answer to a code exchange; any refusal ends the connect."""
    if response.status_code != 200:
        raise Permanent(f"{platform} refused the authorization: {words(response)}")
    return credentials_from_token_response(response.json())


def refreshed_credentials(
    platform: str, response: httpx.Response, words: Words, current: dict[str, Any]
) -> dict[str, Any]:
    """Credentials from the answer to a refresh: a 429 or 5xx is tried again later, any other
    refusal means the account must be connected again."""
    if response.status_code == 429 or response.status_code >= 500:
        raise Retryable(f"{platform} could not refresh the token: {words(response)}")
    if response.status_code != 200:
        raise AccountDisconnected(f"{platform} refused to refresh the token: {words(response)}")
    return credentials_from_token_response(response.json(), previous=current)


async def post_token(
    client: httpx.AsyncClient,
    platform: str,
    url: str,
    form: dict[str, str],
    *,
    auth: httpx.Auth | None = None,
) -> httpx.Response:
    """One call to a token endpoint. It creates nothing, so a transport error is retried."""
    try:
        return await client.post(url, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
    except httpx.TransportError as exc:
        raise Retryable(f"{platform} token endpoint unreachable ({type(exc).__name__})") from exc


def with_client(
    form: dict[str, str], app: OAuthApp, *, id_field: str = "client_id"
) -> dict[str, str]:
    """The form with the app's credentials in it, for token endpoints that take them in the
    body; `id_field` is how the platform names the client id (TikTok: `client_key`)."""
    credentials = {id_field: app.client_id}
    if app.client_secret:
        credentials["client_secret"] = app.client_secret
    return {**form, **credentials}


def expires_within(credentials: OAuthCredentials, margin: timedelta, now: datetime) -> bool:
    """True when the access token ends within `margin` (or has no known end and a refresh
    token exists, which a platform only gives for tokens that end)."""
    if not credentials.expires_at:
        return False
    try:
        ends = datetime.fromisoformat(str(credentials.expires_at))
    except ValueError:
        return bool(credentials.refresh_token)
    if ends.tzinfo is None:
        ends = ends.replace(tzinfo=now.tzinfo)
    return ends - now <= margin


class OAuthProvider(ABC):
    """What the OAuth flow needs from one platform."""

    platform: str
    scopes: tuple[str, ...]

    @abstractmethod
    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """Where the user's browser goes to grant access."""

    @abstractmethod
    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """Trade the callback's code for credentials (`access_token`, `refresh_token`,
        `expires_at` ISO). Raise `Permanent` in the platform's words when it refuses."""


class AppOAuth(OAuthProvider):
    """A provider that holds this server's app and an HTTP client, with the usual authorization
    URL (space-separated scopes, PKCE S256, plus the platform's `authorize_extra`); a platform
    says where it differs with `pkce`, `scope_separator` and `client_id_field`."""

    authorize_extra: ClassVar[dict[str, str]] = {}
    pkce: ClassVar[bool] = True
    """Whether the challenge is sent (a platform that takes PKCE from native apps only: no)."""
    scope_separator: ClassVar[str] = " "
    client_id_field: ClassVar[str] = "client_id"

    def __init__(self, app: OAuthApp, client: httpx.AsyncClient) -> None:
        self._app = app
        self._client = client

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        return authorize_url(
            self._app.authorize_url,
            client_id=self._app.client_id,
            redirect_uri=redirect_uri,
            scopes=self.scopes,
            state=state,
            code_challenge=code_challenge if self.pkce else None,
            extra=self.authorize_extra,
            scope_separator=self.scope_separator,
            client_id_field=self.client_id_field,
        )


class GrantOAuth(AppOAuth):
    """A provider whose token endpoint takes the plain code and refresh grants (no PKCE
    verifier), reads its refusals with `words`, and disconnects an account whose refresh it
    refuses. The platform says how its token endpoint is called (`_token`)."""

    label: ClassVar[str]
    """How messages call the platform ("LinkedIn")."""

    @abstractmethod
    async def _token(self, form: dict[str, str]) -> httpx.Response: ...

    @abstractmethod
    def words(self, response: httpx.Response) -> str: ...

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._token(code_grant(code, redirect_uri))
        return exchanged_credentials(self.label, response, self.words)

    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        response = await self._token(refresh_grant(current))
        return refreshed_credentials(self.label, response, self.words, current)
