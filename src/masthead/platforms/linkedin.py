"""LinkedIn: OAuth 2.0, the versioned REST API (`/rest/...`), image and video uploads, posts.

Every REST call names the API version from one setting (`MASTHEAD_LINKEDIN_VERSION`, sent as
`LinkedIn-Version`) and Rest.li protocol 2.0.0. Members post as `urn:li:person:{sub}`;
organization pages the member administers are subaccounts (`pageId`) and post as
`urn:li:organization:{id}`. LinkedIn has no idempotency key: a post whose answer was lost is
looked up among the author's recent posts, never sent again. Facts: platform-notes section 3.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import httpx

from masthead.config import OAuthApp
from masthead.domain.linkedin_text import escape_little_text
from masthead.platforms.base import (
    AccountDisconnected,
    ConnectedAccount,
    ConnectedSubaccount,
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
    exchanged_credentials,
    refreshed_credentials,
)
from masthead.platforms.tokens import TokenKeeper, store_of
from masthead.timeutil import utcnow

SCOPES = (
    "openid",
    "profile",
    "w_member_social",
    "w_organization_social",
    "r_organization_admin",
    "r_organization_social",
)
"""openid/profile: whose token (userinfo `sub`); w_member_social: post as the member;
w_organization_social + r_organization_admin: post as and list the pages the member runs;
r_organization_social: find a page's post after a lost answer (platform-notes 3.2)."""
POSTING_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMINISTRATOR"})
"""Organization roles that may publish organic posts for the page."""
REFRESH_MARGIN = timedelta(minutes=10)
PROCESSING_LIMIT_SECONDS = 600.0
POLL_SECONDS = 1.0
RECONCILE_WINDOW_MS = 10 * 60 * 1000
NOT_ACTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors that happen before a request leaves: LinkedIn certainly did not act."""


def linkedin_message(response: httpx.Response) -> str:
    """LinkedIn's own words: `message` (with the first input error's code), or an OAuth
    `error_description`; the status line when the body says nothing."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error")
        if isinstance(message, str) and message:
            return message
    return f"LinkedIn answered HTTP {response.status_code}"


def error_codes(response: httpx.Response) -> set[str]:
    """The machine codes of a refusal: top-level `code` and each input error's `code`."""
    try:
        body = response.json()
    except ValueError:
        return set()
    if not isinstance(body, dict):
        return set()
    codes = {str(body["code"])} if body.get("code") else set()
    details = body.get("errorDetails")
    inputs = details.get("inputErrors") if isinstance(details, dict) else None
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict) and item.get("code"):
            codes.add(str(item["code"]))
    return codes


def public_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}"


class LinkedInOAuth(OAuthProvider):
    """LinkedIn's 3-legged OAuth (confidential web client: the secret goes in the form; LinkedIn
    supports PKCE only for native apps, so the challenge is not sent)."""

    platform = "linkedin"
    scopes = SCOPES

    def __init__(self, app: OAuthApp, token_url: str, client: httpx.AsyncClient) -> None:
        self._app = app
        self._token_url = token_url
        self._client = client

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self._app.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": " ".join(self.scopes),
        }
        return f"{self._app.authorize_url}?{urlencode(query)}"

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        return exchanged_credentials("LinkedIn", response, linkedin_message)

    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        """Programmatic refresh (LinkedIn grants refresh tokens to approved partners only)."""
        response = await self._token(
            {"grant_type": "refresh_token", "refresh_token": str(current["refresh_token"])}
        )
        return refreshed_credentials("LinkedIn", response, linkedin_message, current)

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        form = {**form, "client_id": self._app.client_id}
        if self._app.client_secret:
            form["client_secret"] = self._app.client_secret
        try:
            return await self._client.post(self._token_url, data=form)
        except httpx.TransportError as exc:
            raise Retryable(f"LinkedIn token endpoint unreachable ({type(exc).__name__})") from exc


class LinkedInPublisher(Publisher):
    platform: ClassVar[str] = "linkedin"
    connects_by_oauth: ClassVar[bool] = True

    def __init__(
        self,
        *,
        api_url: str,
        version: str,
        app: OAuthApp | None,
        token_url: str,
        timeout: float = 60.0,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._version = version
        self._poll_seconds = poll_seconds
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._oauth = LinkedInOAuth(app, token_url, self._client) if app is not None else None
        self.oauth = self._oauth
        self._tokens = TokenKeeper("LinkedIn", self._oauth, REFRESH_MARGIN)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self, token: str, *, rest: bool = True) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if rest:
            headers["LinkedIn-Version"] = self._version
            headers["X-Restli-Protocol-Version"] = "2.0.0"
        return headers

    # -- accounts ----------------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        """Whose token (OpenID userinfo) and which organization pages the member may post for."""
        token = str(credentials.get("access_token") or "")
        if not token:
            raise Permanent("A LinkedIn account needs an access token")
        me = await self._get(f"{self._api}/v2/userinfo", token, rest=False)
        self._raise_for(me)
        user = me.json()
        name = str(user.get("name") or user["sub"])
        return ConnectedAccount(
            external_id=str(user["sub"]),
            username=name,
            credentials=dict(credentials),
            fullname=name,
            profile_image_url=user.get("picture"),
            subaccounts=await self._organizations(token),
        )

    async def _organizations(self, token: str) -> tuple[ConnectedSubaccount, ...]:
        acls = await self._get(
            f"{self._api}/rest/organizationAcls?q=roleAssignee&state=APPROVED", token
        )
        if acls.status_code == 403:  # the member granted no organization scope
            return ()
        self._raise_for(acls)
        ids: list[str] = []
        for element in acls.json().get("elements") or []:
            org = str(element.get("organization") or "")
            if element.get("role") in POSTING_ROLES and org.startswith("urn:li:organization:"):
                org_id = org.rsplit(":", 1)[1]
                if org_id not in ids:
                    ids.append(org_id)
        pages = []
        for org_id in ids:
            response = await self._get(f"{self._api}/rest/organizations/{org_id}", token)
            self._raise_for(response)
            name = str(response.json().get("localizedName") or org_id)
            pages.append(ConnectedSubaccount("organization", org_id, name))
        return tuple(pages)

    async def _get(self, url: str, token: str, *, rest: bool = True) -> httpx.Response:
        try:
            return await self._client.get(url, headers=self._headers(token, rest=rest))
        except httpx.TransportError as exc:
            raise Retryable(f"LinkedIn unreachable ({type(exc).__name__})") from exc

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        ctx: PublishContext,
        method: str,
        url: str,
        *,
        creates: bool = False,
        rest: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised call; a 401 refreshes the token (when LinkedIn gave a refresh token)
        and tries once more, since LinkedIn did not act on a request it did not authorise."""
        token = await self._tokens.token(ctx)
        for attempt in range(2):
            try:
                response = await self._client.request(
                    method, url, headers=self._headers(token, rest=rest), **kwargs
                )
            except NOT_ACTED as exc:
                raise Retryable(f"LinkedIn unreachable ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                if creates:
                    raise OutcomeUnknown(
                        f"the connection to LinkedIn dropped after the post was sent "
                        f"({type(exc).__name__})"
                    ) from exc
                raise Retryable(f"LinkedIn connection failed ({type(exc).__name__})") from exc
            if response.status_code == 401 and attempt == 0:
                credentials = await store_of(ctx, "LinkedIn").load()
                if not credentials.get("refresh_token"):
                    break
                token = await self._tokens.token(ctx, stale=token)
                continue
            break
        return response

    def _raise_for(self, response: httpx.Response, *, creates: bool = False) -> None:
        """LinkedIn's answer in the engine's terms (platform-notes 3.2 and 11)."""
        status = response.status_code
        if status < 300:
            return
        message = linkedin_message(response)
        codes = error_codes(response)
        if status == 429:
            raise Retryable(
                f"LinkedIn throttled the request: {message}", self._retry_after(response)
            )
        if status == 401:
            raise AccountDisconnected(f"LinkedIn refused the account's token: {message}")
        if status == 426 or "NONEXISTENT_VERSION" in codes or "VERSION_MISSING" in codes:
            raise Permanent(
                f"LinkedIn refused API version {self._version} ({message}): the operator must "
                "set MASTHEAD_LINKEDIN_VERSION to an active version (YYYYMM)"
            )
        if "DUPLICATE_POST" in codes or (status == 422 and "is a duplicate of" in message):
            raise Permanent(f"LinkedIn refused a duplicate post: {message}")
        if status == 503 or (status >= 500 and not creates):
            raise Retryable(f"LinkedIn is unavailable: {message}", self._retry_after(response))
        if status >= 500:
            raise OutcomeUnknown(f"LinkedIn answered {status} to the post ({message})")
        raise Permanent(message)

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        after = response.headers.get("retry-after")
        return float(after) if after and after.isdigit() else None

    # -- media -------------------------------------------------------------------------------

    @staticmethod
    def author(ctx: PublishContext) -> str:
        page = ctx.target.get("pageId")
        if page not in (None, ""):
            return f"urn:li:organization:{page}"
        return f"urn:li:person:{ctx.account.external_id}"

    async def prepare(self, ctx: PublishContext, position: int) -> dict[str, Any]:
        """Upload the media (nothing is visible until the post) and note when sending began,
        so a reconcile knows which of the author's posts to look at."""
        author = self.author(ctx)
        prepared: dict[str, Any] = {
            "author": author,
            "since_ms": int(utcnow().timestamp() * 1000) - RECONCILE_WINDOW_MS,
        }
        urls = ctx.items[position].media_urls
        if urls:
            if ctx.media is None:
                raise Permanent("This server cannot read media files for LinkedIn")
            files = [await ctx.media.file(url) for url in urls]
            if len(files) > 1 and any(file.is_video for file in files):
                raise Permanent("A LinkedIn post carries one video alone, or images only")
            urns = []
            for file in files:
                upload = self._upload_video if file.is_video else self._upload_image
                urns.append(await upload(ctx, ctx.media, file, author))
            prepared["media"] = urns
        return prepared

    async def _upload_image(
        self, ctx: PublishContext, media: MediaSource, file: MediaFile, owner: str
    ) -> str:
        response = await self._call(
            ctx,
            "POST",
            f"{self._api}/rest/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": owner}},
        )
        self._raise_for(response)
        value = response.json()["value"]
        put = await self._call(
            ctx, "PUT", str(value["uploadUrl"]), rest=False, content=await media.read(file)
        )
        self._raise_for(put)
        return str(value["image"])

    async def _upload_video(
        self, ctx: PublishContext, media: MediaSource, file: MediaFile, owner: str
    ) -> str:
        """initializeUpload → PUT each part LinkedIn asks for (collecting ETags) →
        finalizeUpload → wait until LinkedIn says the video is AVAILABLE."""
        response = await self._call(
            ctx,
            "POST",
            f"{self._api}/rest/videos?action=initializeUpload",
            json={
                "initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": file.size,
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
        )
        self._raise_for(response)
        value = response.json()["value"]
        video = str(value["video"])
        parts = sorted(value["uploadInstructions"], key=lambda part: int(part["firstByte"]))
        part_size = int(parts[0]["lastByte"]) - int(parts[0]["firstByte"]) + 1
        etags: list[str] = []
        async for chunk in media.chunks(file, part_size):
            if len(etags) >= len(parts):
                raise Permanent(f"LinkedIn asked for fewer parts than the video {video} has")
            put = await self._call(
                ctx, "PUT", str(parts[len(etags)]["uploadUrl"]), rest=False, content=chunk
            )
            self._raise_for(put)
            etags.append(put.headers.get("etag", ""))
        done = await self._call(
            ctx,
            "POST",
            f"{self._api}/rest/videos?action=finalizeUpload",
            json={
                "finalizeUploadRequest": {
                    "video": video,
                    "uploadToken": value.get("uploadToken", ""),
                    "uploadedPartIds": etags,
                }
            },
        )
        self._raise_for(done)
        await self._wait_available(ctx, video)
        return video

    async def _wait_available(self, ctx: PublishContext, video: str) -> None:
        deadline = time.monotonic() + PROCESSING_LIMIT_SECONDS
        while True:
            response = await self._call(
                ctx, "GET", f"{self._api}/rest/videos/{quote(video, safe='')}"
            )
            self._raise_for(response)
            status = response.json().get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                reason = response.json().get("processingFailureReason") or "no reason given"
                raise Permanent(f"LinkedIn could not process the video {video}: {reason}")
            if time.monotonic() > deadline:
                raise Retryable(f"LinkedIn is still processing the video {video}")
            await asyncio.sleep(self._poll_seconds)

    # -- posts -------------------------------------------------------------------------------

    @staticmethod
    def body(ctx: PublishContext, position: int, prepared: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": prepared["author"],
            "commentary": escape_little_text(ctx.items[position].text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        media = list(prepared.get("media") or [])
        if len(media) == 1:
            body["content"] = {"media": {"id": media[0]}}
        elif media:
            body["content"] = {"multiImage": {"images": [{"id": urn} for urn in media]}}
        return body

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        try:
            response = await self._call(
                ctx,
                "POST",
                f"{self._api}/rest/posts",
                creates=True,
                json=self.body(ctx, position, prepared),
            )
            self._raise_for(response, creates=True)
        except OutcomeUnknown:
            found = await self._find(ctx, position, prepared)
            if found is None:
                raise
            return found
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise OutcomeUnknown("LinkedIn accepted the post but named no post id (x-restli-id)")
        return SentItem(urn, public_url(urn))

    async def reconcile(
        self, ctx: PublishContext, position: int, prepared: dict[str, Any]
    ) -> SentItem | None:
        return await self._find(ctx, position, prepared)

    async def _find(
        self, ctx: PublishContext, position: int, prepared: dict[str, Any]
    ) -> SentItem | None:
        """The author's post with exactly this commentary, created since the send began; None
        when LinkedIn shows none or refuses to list (the outcome then stays unknown)."""
        author = str(prepared.get("author") or self.author(ctx))
        try:
            response = await self._call(
                ctx,
                "GET",
                f"{self._api}/rest/posts",
                params={"q": "author", "author": author, "count": "50", "sortBy": "CREATED"},
            )
        except (Retryable, Permanent):
            return None
        if response.status_code != 200:
            return None
        commentary = escape_little_text(ctx.items[position].text)
        since = int(prepared.get("since_ms") or 0)
        for post in response.json().get("elements") or []:
            if post.get("commentary") == commentary and int(post.get("createdAt") or 0) >= since:
                return SentItem(str(post["id"]), public_url(str(post["id"])))
        return None
