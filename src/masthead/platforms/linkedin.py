"""LinkedIn: OAuth 2.0, the versioned REST API (`/rest/...`), image and video uploads, posts.

Every REST call names the API version from one setting (`MASTHEAD_LINKEDIN_VERSION`, sent as
`LinkedIn-Version`) and Rest.li protocol 2.0.0. Members post as `urn:li:person:{sub}`;
organization pages the member administers are subaccounts (`pageId`) and post as
`urn:li:organization:{id}`. LinkedIn has no idempotency key: a post whose answer was lost is
looked up among the author's recent posts, never sent again. Facts: platform-notes section 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from masthead.config import OAuthApp, Settings
from masthead.domain.linkedin_text import escape_little_text
from masthead.platforms import kit
from masthead.platforms.spec import PlatformSpec, Subaccount
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
MEMBER_ANALYTICS_SCOPE = "r_member_postAnalytics"
"""Asked for only when the operator's app has it (MASTHEAD_LINKEDIN_MEMBER_POST_ANALYTICS):
LinkedIn refuses an authorization that asks for a scope the app was not granted."""
METRICS_BATCH = 20
"""Posts of one page per organizationalEntityShareStatistics request (a list of URNs in the
query string, kept well under URL length limits)."""
SHARE_STATISTICS = (
    ("impressionCount", "impressionsCount"),
    ("uniqueImpressionsCount", "reachCount"),
    ("likeCount", "likesCount"),
    ("commentCount", "commentsCount"),
    ("shareCount", "sharesCount"),
    ("clickCount", "clicksCount"),
)
"""An organization post's totalShareStatistics and the contract's names (and `engagement`,
a ratio, as `engagementRate`)."""
MEMBER_METRICS = (
    ("IMPRESSION", "impressionsCount"),
    ("MEMBERS_REACHED", "reachCount"),
    ("REACTION", "likesCount"),
    ("COMMENT", "commentsCount"),
    ("RESHARE", "sharesCount"),
)
"""memberCreatorPostAnalytics `queryType`s (one request each) and the contract's names."""
UNAVAILABLE = "Analytics are not available for linkedin"
POSTING_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMINISTRATOR"})
"""Organization roles that may publish organic posts for the page."""
REFRESH_MARGIN = timedelta(minutes=10)
VIDEO_PROCESSING = kit.Processing(
    "LinkedIn", "AVAILABLE", "PROCESSING_FAILED", limit=600.0, reason="processingFailureReason"
)
"""A video's `status` in LinkedIn's answer (GET /rest/videos/{urn})."""
POLL_SECONDS = 1.0
RECONCILE_WINDOW_MS = 10 * 60 * 1000


def linkedin_message(response: httpx.Response) -> str:
    """LinkedIn's own words: `message` (with the first input error's code), or an OAuth
    `error_description`; the status line when the body says nothing."""
    return kit.first_words(response, "LinkedIn", ("message", "error_description", "error"))


def error_codes(response: httpx.Response) -> set[str]:
    """The machine codes of a refusal: top-level `code` and each input error's `code`."""
    body = kit.json_object(response)
    if body is None:
        return set()
    codes = {str(body["code"])} if body.get("code") else set()
    details = body.get("errorDetails")
    inputs = details.get("inputErrors") if isinstance(details, dict) else None
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict) and item.get("code"):
            codes.add(str(item["code"]))
    return codes


@dataclass(frozen=True, slots=True)
class PreparedPost:
    """What `prepare` hands to `send` and `reconcile`."""

    author: str
    """The post's author URN: the member, or the organization page it names."""
    since_ms: int
    """When sending began, less the reconcile window: reconcile looks at posts since."""
    media: list[str] = field(default_factory=list)
    """The uploaded images' or video's URNs, in order."""


async def _refreshable(ctx: kit.AccountScope, response: httpx.Response) -> bool:
    """A 401 is worth one refresh only when LinkedIn gave the account a refresh token."""
    if response.status_code != 401:
        return False
    return bool((await kit.store_of(ctx, "LinkedIn").load()).get("refresh_token"))


def _urn(urn: str) -> str:
    """A URN inside a Rest.li 2.0 query value (its colons escaped)."""
    return quote(urn, safe="")


def public_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}"


class LinkedInOAuth(kit.GrantOAuth):
    """LinkedIn's 3-legged OAuth (confidential web client: the secret goes in the form; LinkedIn
    supports PKCE only for native apps, so the challenge is not sent). Refresh is programmatic:
    LinkedIn grants refresh tokens to approved partners only."""

    platform = "linkedin"
    label = "LinkedIn"
    pkce = False

    def __init__(
        self,
        app: OAuthApp,
        token_url: str,
        client: httpx.AsyncClient,
        scopes: tuple[str, ...] = SCOPES,
    ) -> None:
        super().__init__(app, client)
        self.scopes = scopes
        self._token_url = token_url

    def words(self, response: httpx.Response) -> str:
        return linkedin_message(response)

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        return await kit.post_token(
            self._client, "LinkedIn", self._token_url, kit.with_client(form, self._app)
        )


class LinkedInPublisher(kit.HttpPublisher):
    platform: ClassVar[str] = "linkedin"
    metrics_batch: int = METRICS_BATCH

    def __init__(
        self,
        *,
        api_url: str,
        version: str,
        app: OAuthApp | None,
        token_url: str,
        timeout: float = 60.0,
        poll_seconds: float = POLL_SECONDS,
        member_analytics: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._version = version
        self._poll_seconds = poll_seconds
        self._member_analytics = member_analytics
        self._client = kit.new_client(timeout, transport)
        scopes = (*SCOPES, MEMBER_ANALYTICS_SCOPE) if member_analytics else SCOPES
        self._oauth = (
            LinkedInOAuth(app, token_url, self._client, scopes) if app is not None else None
        )
        self.oauth = self._oauth
        self._http = kit.PlatformHttp.with_tokens(
            "LinkedIn", self._client, self._classify, self._oauth, REFRESH_MARGIN
        )

    def _headers(self, *, rest: bool = True) -> dict[str, str]:
        if not rest:
            return {}
        return {"LinkedIn-Version": self._version, "X-Restli-Protocol-Version": "2.0.0"}

    # -- accounts ----------------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        """Whose token (OpenID userinfo) and which organization pages the member may post for."""
        token = kit.given_token(credentials, "A LinkedIn account")
        me = await self._get(f"{self._api}/v2/userinfo", token, rest=False)
        self._http.check(me)
        user = me.json()
        name = str(user.get("name") or user["sub"])
        return kit.ConnectedAccount(
            external_id=str(user["sub"]),
            username=name,
            credentials=dict(credentials),
            fullname=name,
            profile_image_url=user.get("picture"),
            subaccounts=await self._organizations(token),
        )

    async def _organizations(self, token: str) -> tuple[kit.ConnectedSubaccount, ...]:
        acls = await self._get(
            f"{self._api}/rest/organizationAcls?q=roleAssignee&state=APPROVED", token
        )
        if acls.status_code == 403:  # the member granted no organization scope
            return ()
        self._http.check(acls)
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
            self._http.check(response)
            name = str(response.json().get("localizedName") or org_id)
            pages.append(kit.ConnectedSubaccount("organization", org_id, name))
        return tuple(pages)

    async def _get(self, url: str, token: str, *, rest: bool = True) -> httpx.Response:
        headers = {**self._headers(rest=rest), "Authorization": f"Bearer {token}"}
        return await self._http.send("GET", url, headers=headers)

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        ctx: kit.AccountScope,
        method: str,
        url: str,
        *,
        creates: bool = False,
        rest: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised call; a 401 refreshes the token when LinkedIn gave a refresh token
        (most members have none: their 401 disconnects the account)."""
        return await self._http.authorised(
            ctx,
            method,
            url,
            creates=creates,
            headers=self._headers(rest=rest),
            stale=_refreshable,
            **kwargs,
        )

    def _classify(self, response: httpx.Response, creates: bool) -> kit.PublishError | None:
        """LinkedIn's answer in the engine's terms (platform-notes 3.2 and 11)."""
        if response.status_code < 300:
            return None
        message = linkedin_message(response)
        codes = error_codes(response)
        if (
            response.status_code == 426
            or "NONEXISTENT_VERSION" in codes
            or "VERSION_MISSING" in codes
        ):
            return kit.Permanent(
                f"LinkedIn refused API version {self._version} ({message}): the operator must "
                "set MASTHEAD_LINKEDIN_VERSION to an active version (YYYYMM)"
            )
        if "DUPLICATE_POST" in codes or (
            response.status_code == 422 and "is a duplicate of" in message
        ):
            return kit.Permanent(f"LinkedIn refused a duplicate post: {message}")
        return kit.refusal("LinkedIn", response, message, creates=creates)

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """A page's posts: organizationalEntityShareStatistics, 20 posts a request. A member's
        own posts: memberCreatorPostAnalytics (one request per metric) when the operator's
        app has r_member_postAnalytics, else not measured."""
        results: dict[str, kit.MetricsResult] = {}
        by_page: dict[str, list[kit.PublishedPost]] = {}
        members: list[kit.PublishedPost] = []
        for post in posts:
            page = post.target.get("pageId")
            if page not in (None, ""):
                by_page.setdefault(str(page), []).append(post)
            elif self._member_analytics:
                members.append(post)
            else:
                results[post.post_id] = kit.MetricsUnavailable(UNAVAILABLE)
        results |= await kit.each_post(members, lambda post: self._member_metrics(ctx, post))
        for page, page_posts in by_page.items():
            for batch in kit.chunked(page_posts, METRICS_BATCH):
                results |= await self._page_metrics(ctx, page, batch)
        return results

    async def _page_metrics(
        self, ctx: kit.AccountContext, page: str, posts: list[kit.PublishedPost]
    ) -> dict[str, kit.MetricsResult]:
        """Rest.li 2.0 lists in the query (`shares=List(urn%3Ali%3Ashare%3A1,...)`), built by
        hand: an encoder would escape the parentheses and commas. A post LinkedIn leaves out
        of the answer no longer exists."""
        lists = {"shares": "urn:li:share:", "ugcPosts": "urn:li:ugcPost:"}
        query = f"q=organizationalEntity&organizationalEntity={_urn(f'urn:li:organization:{page}')}"
        for name, prefix in lists.items():
            urns = [_urn(p.remote_id) for p in posts if p.remote_id.startswith(prefix)]
            if urns:
                query += f"&{name}=List({','.join(dict.fromkeys(urns))})"
        response = await self._call(
            ctx, "GET", f"{self._api}/rest/organizationalEntityShareStatistics?{query}"
        )
        found: dict[str, dict[str, Any]] = {}
        for element in self._http.check(response).json().get("elements") or []:
            urn = element.get("share") or element.get("ugcPost")
            if urn and isinstance(element.get("totalShareStatistics"), dict):
                found[str(urn)] = element["totalShareStatistics"]
        results: dict[str, kit.MetricsResult] = {}
        for post in posts:
            statistics = found.get(post.remote_id)
            if statistics is None:
                results[post.post_id] = kit.PostGone("Post no longer exists on linkedin")
                continue
            metrics: dict[str, kit.Metric] = kit.counts(statistics, SHARE_STATISTICS)
            rate = kit.as_ratio(statistics.get("engagement"))
            if rate is not None:
                metrics["engagementRate"] = rate
            results[post.post_id] = kit.MetricsSnapshot(metrics, dict(statistics))
        return results

    async def _member_metrics(
        self, ctx: kit.AccountContext, post: kit.PublishedPost
    ) -> kit.MetricsResult:
        kind = "ugc" if post.remote_id.startswith("urn:li:ugcPost:") else "share"
        raw: dict[str, Any] = {}
        for query_type, _ in MEMBER_METRICS:
            response = await self._call(
                ctx,
                "GET",
                f"{self._api}/rest/memberCreatorPostAnalytics?q=entity"
                f"&entity=({kind}:{_urn(post.remote_id)})&queryType={query_type}"
                "&aggregation=TOTAL",
            )
            if response.status_code == 403:  # the member's grant lacks the scope
                return kit.MetricsUnavailable(UNAVAILABLE)
            if response.status_code == 404:
                return kit.PostGone("Post no longer exists on linkedin")
            elements = self._http.check(response).json().get("elements") or []
            if elements and isinstance(elements[0], dict) and "count" in elements[0]:
                raw[query_type] = elements[0]["count"]
        return kit.MetricsSnapshot(kit.counts(raw, MEMBER_METRICS), raw)

    # -- media -------------------------------------------------------------------------------

    @staticmethod
    def author(ctx: kit.PublishContext) -> str:
        page = ctx.target.get("pageId")
        if page not in (None, ""):
            return f"urn:li:organization:{page}"
        return f"urn:li:person:{ctx.account.external_id}"

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        """Upload the media (nothing is visible until the post) and note when sending began,
        so a reconcile knows which of the author's posts to look at."""
        author = self.author(ctx)
        since_ms = int(utcnow().timestamp() * 1000) - RECONCILE_WINDOW_MS
        urls = ctx.items[position].media_urls
        if urls:
            if ctx.media is None:
                raise kit.Permanent("This server cannot read media files for LinkedIn")
            files = [await ctx.media.file(url) for url in urls]
            if len(files) > 1 and any(file.is_video for file in files):
                raise kit.Permanent("A LinkedIn post carries one video alone, or images only")
            urns = []
            for file in files:
                upload = self._upload_video if file.is_video else self._upload_image
                urns.append(await upload(ctx, ctx.media, file, author))
            return kit.stored(PreparedPost(author, since_ms, media=urns))
        return kit.stored(PreparedPost(author, since_ms))

    async def _upload_image(
        self, ctx: kit.PublishContext, media: kit.MediaSource, file: kit.MediaFile, owner: str
    ) -> str:
        response = await self._call(
            ctx,
            "POST",
            f"{self._api}/rest/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": owner}},
        )
        self._http.check(response)
        value = response.json()["value"]
        put = await self._call(
            ctx, "PUT", str(value["uploadUrl"]), rest=False, content=await media.read(file)
        )
        self._http.check(put)
        return str(value["image"])

    async def _upload_video(
        self, ctx: kit.PublishContext, media: kit.MediaSource, file: kit.MediaFile, owner: str
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
        self._http.check(response)
        value = response.json()["value"]
        video = str(value["video"])
        parts = sorted(value["uploadInstructions"], key=lambda part: int(part["firstByte"]))
        part_size = int(parts[0]["lastByte"]) - int(parts[0]["firstByte"]) + 1
        etags: list[str] = []
        async for chunk in media.chunks(file, part_size):
            if len(etags) >= len(parts):
                raise kit.Permanent(f"LinkedIn asked for fewer parts than the video {video} has")
            put = await self._call(
                ctx, "PUT", str(parts[len(etags)]["uploadUrl"]), rest=False, content=chunk
            )
            self._http.check(put)
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
        self._http.check(done)
        await self._wait_available(ctx, video)
        return video

    async def _wait_available(self, ctx: kit.PublishContext, video: str) -> None:
        async def status() -> dict[str, Any]:
            url = f"{self._api}/rest/videos/{quote(video, safe='')}"
            answer: dict[str, Any] = self._http.check(await self._call(ctx, "GET", url)).json()
            return answer

        what = f"the video {video}"
        await kit.until_processed(VIDEO_PROCESSING, status, what, self._poll_seconds)

    # -- posts -------------------------------------------------------------------------------

    @staticmethod
    def body(ctx: kit.PublishContext, position: int, prepared: dict[str, Any]) -> dict[str, Any]:
        post = kit.loaded(PreparedPost, prepared)
        body: dict[str, Any] = {
            "author": post.author,
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
        if len(post.media) == 1:
            body["content"] = {"media": {"id": post.media[0]}}
        elif post.media:
            body["content"] = {"multiImage": {"images": [{"id": urn} for urn in post.media]}}
        return body

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        try:
            response = await self._call(
                ctx,
                "POST",
                f"{self._api}/rest/posts",
                creates=True,
                json=self.body(ctx, position, prepared),
            )
            self._http.check(response, creates=True)
        except kit.OutcomeUnknown as unknown:
            return await kit.found_or_unknown(unknown, self.reconcile(ctx, position, prepared))
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise kit.OutcomeUnknown(
                "LinkedIn accepted the post but named no post id (x-restli-id)"
            )
        return kit.SentItem(urn, public_url(urn))

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """The author's post with exactly this commentary, created since the send began; None
        when LinkedIn shows none or refuses to list (the outcome then stays unknown)."""
        post = kit.loaded(PreparedPost, prepared)
        response = await kit.answer_or_none(
            self._call(
                ctx,
                "GET",
                f"{self._api}/rest/posts",
                params={"q": "author", "author": post.author, "count": "50", "sortBy": "CREATED"},
            )
        )
        if response is None:
            return None
        commentary = escape_little_text(ctx.items[position].text)
        for found in response.json().get("elements") or []:
            created = int(found.get("createdAt") or 0)
            if found.get("commentary") == commentary and created >= post.since_ms:
                return kit.SentItem(str(found["id"]), public_url(str(found["id"])))
        return None


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> LinkedInPublisher:
    return LinkedInPublisher(
        api_url=settings.linkedin_api_url,
        version=settings.linkedin_version,
        app=SPEC.oauth_app(settings),
        token_url=settings.linkedin_token_url,
        timeout=settings.linkedin_timeout_seconds,
        member_analytics=settings.linkedin_member_post_analytics,
        transport=transport,
    )


RULES = kit.PlatformRules(
    name="linkedin",
    content_platforms=("linkedin",),
    text_limits=(kit.TextLimit(3000, kit.Count.CODE_POINTS),),  # PR, PN 3.2: commentary ≤ 3000
    media=kit.MediaCount(0, None),  # PR: text, 1 image, 1 video or several images; no max given
    # PN 8 (3rd-party): images JPG/GIF/PNG; video MP4 3 s-30 min, <= 500 MB.
    files=kit.FileRules(
        image_types=frozenset({kit.JPEG, kit.PNG, kit.GIF}),
        video_types=frozenset({kit.MP4}),
        convertible=frozenset({kit.WEBP}),
        max_video_bytes=500 * kit.MB,
        min_video_seconds=3,
        max_video_seconds=1800,
    ),
    fields=(kit.FieldRule("pageId", kit.Kind.NUMERIC_ID),),  # PR: optional organization page
)
"""What a post to linkedin may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="linkedin",
    label="LinkedIn",
    build=build,
    rules=RULES,
    subaccount=Subaccount("organization", target_field="pageId"),
)
