"""X (Twitter): OAuth 2.0 with PKCE, v2 chunked media upload, posts and threads via /2/tweets.

X has no idempotency key, so a `POST /2/tweets` whose answer was lost is reconciled by looking
for the post among the account's recent posts (same text, same parent), never by posting
again. Facts used here are in shared/spec/platform-notes.md section 1.
"""

from __future__ import annotations

import asyncio
import base64
import html
import re
import time
import unicodedata
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from masthead.config import OAuthApp
from masthead.platforms.base import (
    AccountDisconnected,
    ConnectedAccount,
    CredentialStore,
    MediaFile,
    MediaSource,
    OutcomeUnknown,
    Permanent,
    PublishContext,
    Publisher,
    Retryable,
    SentItem,
)
from masthead.platforms.oauth import (
    OAuthProvider,
    authorize_url,
    credentials_from_token_response,
    exchanged_credentials,
    expires_within,
)
from masthead.timeutil import iso, utcnow

SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
REFRESH_MARGIN = timedelta(minutes=5)
"""Access tokens live 2 hours; refresh a little before, so a long upload does not outlive one."""
REFRESH_RACE_SECONDS = 5.0
"""How long to wait for another worker's refresh to be stored after X says our refresh
token was already spent (X refresh tokens are single-use)."""
CHUNK_SIZE = 4 * 1024 * 1024
PROCESSING_LIMIT_SECONDS = 600.0
RECONCILE_WINDOW = timedelta(minutes=10)
"""Reconcile looks at the account's posts created since this long before the send began."""
NOT_ACTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors that happen before a request leaves: X certainly did not act."""
_URL = re.compile(r"https?://\S+")


def media_category(file: MediaFile) -> str:
    if file.content_type == "image/gif":
        return "tweet_gif"
    if file.is_video:
        return "tweet_video"
    return "tweet_image"


def x_message(response: httpx.Response) -> str:
    """X's own words for a refusal: the problem `detail`, an `errors[0].message`, or an OAuth
    `error_description`; the status line when the body says nothing."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "error_description", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message") or errors[0].get("detail")
            if message:
                return str(message)
        if isinstance(body.get("error"), str):
            return str(body["error"])
    return f"X answered HTTP {response.status_code}"


def _same_text(ours: str, theirs: str) -> bool:
    """X returns text HTML-escaped, NFC-normalised and with links wrapped in t.co."""

    def canonical(text: str) -> str:
        return _URL.sub("<url>", unicodedata.normalize("NFC", html.unescape(text))).strip()

    return canonical(ours) == canonical(theirs)


class XOAuth(OAuthProvider):
    """X's OAuth 2.0 authorization code flow with PKCE (public or confidential client)."""

    platform = "twitter"
    scopes = SCOPES

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
            code_challenge=code_challenge,
        )

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )
        return exchanged_credentials("X", response, x_message)

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        """Confidential clients authenticate with Basic auth, public ones name their client id."""
        auth = (
            httpx.BasicAuth(self._app.client_id, self._app.client_secret)
            if self._app.client_secret
            else None
        )
        try:
            return await self._client.post(
                f"{self._app.api_url}/2/oauth2/token",
                data={**form, "client_id": self._app.client_id},
                auth=auth or httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as exc:
            raise Retryable(f"X token endpoint unreachable ({type(exc).__name__})") from exc


class TwitterPublisher(Publisher):
    platform: ClassVar[str] = "twitter"
    connects_by_oauth: ClassVar[bool] = True

    def __init__(
        self,
        *,
        api_url: str,
        app: OAuthApp | None,
        timeout: float = 30.0,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._chunk_size = chunk_size
        self._api = api_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._oauth = XOAuth(app, self._client) if app is not None else None
        self.oauth = self._oauth
        self._refreshing: dict[int, asyncio.Lock] = {}
        self._resets: dict[tuple[str, str], float] = {}
        """(account, endpoint) → unix time before which X said no calls are left."""

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- accounts and tokens -----------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        token = str(credentials.get("access_token") or "")
        if not token:
            raise Permanent("An X account needs an access token")
        try:
            response = await self._client.get(
                f"{self._api}/2/users/me",
                params={"user.fields": "name,profile_image_url,username"},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError as exc:
            raise Retryable(f"X unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise Permanent(x_message(response))
        user = response.json()["data"]
        return ConnectedAccount(
            external_id=str(user["id"]),
            username=str(user["username"]),
            credentials=dict(credentials),
            fullname=str(user.get("name") or user["username"]),
            profile_image_url=user.get("profile_image_url"),
        )

    async def _access_token(self, ctx: PublishContext, *, stale: str | None = None) -> str:
        """A token X will accept: the stored one, refreshed first when it is about to end or
        when X just refused `stale`."""
        store = self._store(ctx)
        credentials = await store.load()
        token = str(credentials.get("access_token") or "")
        if stale is None and not expires_within(credentials, REFRESH_MARGIN, utcnow()):
            return token
        lock = self._refreshing.setdefault(ctx.account.id, asyncio.Lock())
        async with lock:  # one refresh per account in this process; other processes: below
            credentials = await store.load()
            token = str(credentials.get("access_token") or "")
            fresh = stale is None and not expires_within(credentials, REFRESH_MARGIN, utcnow())
            if fresh or (stale is not None and token != stale):
                return token  # someone refreshed while we waited
            return str((await self._refresh(store, credentials))["access_token"])

    async def _refresh(self, store: CredentialStore, current: dict[str, Any]) -> dict[str, Any]:
        refresh_token = current.get("refresh_token")
        if not refresh_token:
            raise AccountDisconnected(
                "X access token expired and there is no refresh token: reconnect the account"
            )
        if self._oauth is None:
            raise Permanent("X token expired and MASTHEAD_X_CLIENT_ID is not set to refresh it")
        response = await self._oauth.refresh(str(refresh_token))
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(f"X could not refresh the token: {x_message(response)}")
        if response.status_code == 401:  # the app's credentials, not the account's
            raise Permanent(
                f"X refused this server's app credentials (MASTHEAD_X_CLIENT_ID and "
                f"MASTHEAD_X_CLIENT_SECRET): {x_message(response)}"
            )
        if response.status_code != 200:
            # Another worker may have spent the single-use refresh token a moment ago.
            theirs = await self._wait_for_other_refresh(store, str(refresh_token))
            if theirs is not None:
                return theirs
            raise AccountDisconnected(f"X refused to refresh the token: {x_message(response)}")
        new = credentials_from_token_response(response.json(), previous=current)
        if await store.save(new, replaces=current):
            return new
        return await store.load()

    async def _wait_for_other_refresh(
        self, store: CredentialStore, spent: str
    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + REFRESH_RACE_SECONDS
        while True:
            latest = await store.load()
            if latest.get("refresh_token") and latest.get("refresh_token") != spent:
                return latest
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.1)

    @staticmethod
    def _store(ctx: PublishContext) -> CredentialStore:
        if ctx.credentials is None:
            raise Permanent("X publishing needs the account's credential store")
        return ctx.credentials

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        ctx: PublishContext,
        method: str,
        path: str,
        *,
        endpoint: str,
        creates: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised call. Waits are obeyed before the call (x-rate-limit-remaining 0
        until x-rate-limit-reset); a 401 refreshes the token and tries once more (X did not
        act on a request it refused to authorise). Transport errors: Retryable when the request
        never left, OutcomeUnknown when it may have created something (`creates`)."""
        key = (ctx.account.external_id, endpoint)
        wait = self._resets.get(key, 0.0) - time.time()
        if wait > 0:
            raise Retryable(f"X rate limit for {endpoint} exhausted", retry_after=wait)
        token = await self._access_token(ctx)
        for attempt in range(2):
            try:
                response = await self._client.request(
                    method,
                    f"{self._api}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                    **kwargs,
                )
            except NOT_ACTED as exc:
                raise Retryable(f"X unreachable ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                if creates:
                    raise OutcomeUnknown(
                        f"the connection to X dropped after the request was sent "
                        f"({type(exc).__name__})"
                    ) from exc
                raise Retryable(f"X connection failed ({type(exc).__name__})") from exc
            self._note_limits(key, response)
            if response.status_code == 401 and attempt == 0:
                token = await self._access_token(ctx, stale=token)
                continue
            break
        return response

    def _note_limits(self, key: tuple[str, str], response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-remaining")
        reset = response.headers.get("x-rate-limit-reset")
        if remaining == "0" and reset and reset.isdigit():
            self._resets[key] = float(reset)
        else:
            self._resets.pop(key, None)

    @staticmethod
    def _reset_after(response: httpx.Response) -> float | None:
        """Seconds until the rate-limit window X named ends (a 429's wait)."""
        reset = response.headers.get("x-rate-limit-reset")
        if reset and reset.isdigit():
            return max(1.0, float(reset) - time.time())
        return None

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        """A 5xx's wait: only Retry-After, not the window's reset (which can be 15 minutes off
        and says nothing about an outage)."""
        after = response.headers.get("retry-after")
        return float(after) if after and after.isdigit() else None

    def _raise_for(self, response: httpx.Response, *, creates: bool = False) -> None:
        """Turn X's answer into the engine's error classes (platform-notes 1.6 and 11)."""
        status = response.status_code
        if status < 300:
            return
        message = x_message(response)
        if status == 429:
            raise Retryable(message, retry_after=self._reset_after(response))
        if status == 401:
            raise AccountDisconnected(f"X refused the account's token: {message}")
        if status == 503 or (status >= 500 and not creates):
            # 503: X's front door refused before any work; other 5xx create nothing here.
            raise Retryable(message, retry_after=self._retry_after(response))
        if status >= 500:
            raise OutcomeUnknown(f"X answered {status} to the post ({message})")
        raise Permanent(message)

    # -- media -------------------------------------------------------------------------------

    async def prepare(self, ctx: PublishContext, position: int) -> dict[str, Any]:
        """Upload the item's media (nothing visible is created) and note when sending began,
        so a reconcile knows which of the account's posts to look at."""
        prepared: dict[str, Any] = {"since": iso(utcnow() - RECONCILE_WINDOW)}
        urls = ctx.items[position].media_urls
        if urls:
            if ctx.media is None:
                raise Permanent("This server cannot read media files for X yet")
            ids = []
            for url in urls:
                ids.append(await self._upload(ctx, ctx.media, await ctx.media.file(url)))
            prepared["media_ids"] = ids
        return prepared

    async def _upload(self, ctx: PublishContext, media: MediaSource, file: MediaFile) -> str:
        response = await self._call(
            ctx,
            "POST",
            "/2/media/upload/initialize",
            endpoint="media",
            json={
                "media_type": file.content_type,
                "total_bytes": file.size,
                "media_category": media_category(file),
            },
        )
        self._raise_for(response)
        media_id = str(response.json()["data"]["id"])
        index = 0
        async for chunk in media.chunks(file, self._chunk_size):
            response = await self._call(
                ctx,
                "POST",
                f"/2/media/upload/{media_id}/append",
                endpoint="media",
                json={"media": base64.b64encode(chunk).decode("ascii"), "segment_index": index},
            )
            self._raise_for(response)
            index += 1
        response = await self._call(
            ctx, "POST", f"/2/media/upload/{media_id}/finalize", endpoint="media"
        )
        self._raise_for(response)
        await self._wait_processed(ctx, media_id, response.json()["data"])
        return media_id

    async def _wait_processed(self, ctx: PublishContext, media_id: str, data: Any) -> None:
        """Video and GIFs are processed after finalize; a post may attach them only once X
        says `succeeded`. Poll after the `check_after_secs` X asks for."""
        deadline = time.monotonic() + PROCESSING_LIMIT_SECONDS
        while True:
            info = data.get("processing_info") or {}
            state = info.get("state", "succeeded")
            if state == "succeeded":
                return
            if state == "failed":
                raise Permanent(f"X could not process the media {media_id} (state: failed)")
            if time.monotonic() > deadline:
                raise Retryable(f"X is still processing media {media_id}")
            await asyncio.sleep(max(0.0, float(info.get("check_after_secs") or 1)))
            response = await self._call(
                ctx,
                "GET",
                "/2/media/upload",
                endpoint="media-status",
                params={"media_id": media_id, "command": "STATUS"},
            )
            self._raise_for(response)
            data = response.json()["data"]

    # -- posts -------------------------------------------------------------------------------

    def _sent(self, ctx: PublishContext, tweet_id: str) -> SentItem:
        return SentItem(tweet_id, f"https://x.com/{ctx.account.username}/status/{tweet_id}")

    @staticmethod
    def _parent(ctx: PublishContext, position: int) -> str | None:
        return ctx.previous[position - 1].remote_id if position > 0 else None

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        body: dict[str, Any] = {"text": ctx.items[position].text}
        if prepared.get("media_ids"):
            body["media"] = {"media_ids": list(prepared["media_ids"])}
        parent = self._parent(ctx, position)
        if parent is not None:
            body["reply"] = {"in_reply_to_tweet_id": parent}
        try:
            response = await self._call(
                ctx, "POST", "/2/tweets", endpoint="tweets", creates=True, json=body
            )
            self._raise_for(response, creates=True)
        except OutcomeUnknown:
            found = await self._find(ctx, position, prepared)
            if found is None:
                raise
            return found
        data = response.json().get("data")
        if not isinstance(data, dict) or "id" not in data:
            raise Permanent(x_message(response))
        return self._sent(ctx, str(data["id"]))

    async def reconcile(
        self, ctx: PublishContext, position: int, prepared: dict[str, Any]
    ) -> SentItem | None:
        return await self._find(ctx, position, prepared)

    async def _find(
        self, ctx: PublishContext, position: int, prepared: dict[str, Any]
    ) -> SentItem | None:
        """The account's post with this item's text in this thread's conversation, created
        since the send began; None when X does not show one (the outcome stays unknown).
        X refuses duplicate text from one account, so text and conversation identify it."""
        params: dict[str, Any] = {
            "max_results": 100,
            "post.fields": "created_at,conversation_id",
        }
        if prepared.get("since"):
            params["start_time"] = prepared["since"]
        try:
            response = await self._call(
                ctx,
                "GET",
                f"/2/users/{ctx.account.external_id}/tweets",
                endpoint="timeline",
                params=params,
            )
        except (Retryable, Permanent):
            return None
        if response.status_code != 200:
            return None
        root = ctx.previous[0].remote_id if position > 0 else None
        earlier = {item.remote_id for item in ctx.previous}
        for tweet in response.json().get("data") or []:
            tweet_id = str(tweet["id"])
            conversation = str(tweet.get("conversation_id") or tweet_id)
            if tweet_id in earlier or conversation != (root or tweet_id):
                continue
            if _same_text(ctx.items[position].text, str(tweet.get("text", ""))):
                return self._sent(ctx, tweet_id)
        return None
