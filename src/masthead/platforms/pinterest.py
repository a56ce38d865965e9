"""Pinterest API v5: OAuth 2.0 with refresh tokens, boards as subaccounts, pins.

Images are not uploaded: Pinterest pulls them from Masthead's public URL of each file
(`media_source` `image_url`, or `multiple_image_urls` for 2-5 images). A video is registered
with `POST /v5/media`, sent to the upload URL Pinterest names, polled until processed, then
pinned by `video_id`. Pinterest has no idempotency key: a pin whose answer was lost is looked
up on its board, never created again. Facts: platform-notes section 7.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from masthead.config import OAuthApp, Settings
from masthead.platforms import kit
from masthead.platforms.spec import PlatformSpec, Subaccount
from masthead.timeutil import iso, parse_time, utcnow

SCOPES = ("user_accounts:read", "boards:read", "pins:read", "pins:write")
"""user_accounts:read: whose token; boards:read: the boards (subaccounts); pins:write: create;
pins:read: the media status and the board's pins when an answer was lost (the OpenAPI's
security requirements of each operation used)."""
REFRESH_MARGIN = timedelta(minutes=10)
MEDIA_PROCESSING = kit.Processing("Pinterest", "succeeded", "failed", limit=600.0)
"""A registered video's `status` in Pinterest's answer (GET /v5/media/{media_id})."""
POLL_SECONDS = 1.0
BOARDS_PAGE = 250
RECONCILE_WINDOW = timedelta(minutes=10)


def pinterest_message(response: httpx.Response) -> str:
    """Pinterest's own words (`message` of its Error, or an OAuth `error_description`)."""
    return kit.first_words(response, "Pinterest", ("message", "error_description", "error"))


@dataclass(frozen=True, slots=True)
class PinMedia:
    """What `prepare` hands to `send` and `reconcile`."""

    since: str
    """When sending began, less the reconcile window (ISO): reconcile looks at pins since."""
    video_id: str | None = None
    """The uploaded video's media id, for a video Pin."""
    image_urls: list[str] = field(default_factory=list)
    """Masthead's public URLs of the images, which Pinterest pulls."""


def _classify(response: httpx.Response, creates: bool) -> kit.PublishError | None:
    """Pinterest's answer in the engine's terms (platform-notes 7 and 11)."""
    if response.status_code < 300:
        return None
    return kit.refusal("Pinterest", response, pinterest_message(response), creates=creates)


METRICS_BATCH = 25
"""Posts per metrics call: one request per Pin (`/pins/analytics`, which takes 100 ids, is a
beta not open to all apps)."""
ANALYTICS_DAYS = 90
"""Pinterest answers at most 90 days back from today."""
PIN_METRICS = "IMPRESSION,SAVE,SAVE_RATE,PIN_CLICK,OUTBOUND_CLICK"
VIDEO_METRICS = f"{PIN_METRICS},VIDEO_MRC_VIEW"
"""Video views are asked of video Pins only (the OpenAPI lists them among the video types)."""
PIN_COUNTS = (
    ("IMPRESSION", "impressionsCount"),
    ("SAVE", "savesCount"),
    ("PIN_CLICK", "clicksCount"),
    ("OUTBOUND_CLICK", "outboundClicksCount"),
    ("VIDEO_MRC_VIEW", "viewsCount"),
)
VIDEO = "video"
"""`SentItem.data["mediaType"]` of a video Pin."""


def pin_snapshot(body: Mapping[str, Any]) -> kit.MetricsSnapshot:
    """`PinAnalyticsResponse` (app type → metrics) as a snapshot of its summary metrics."""
    found = next((v for v in body.values() if isinstance(v, dict)), {})
    summary = found.get("summary_metrics") or {}
    metrics: dict[str, kit.Metric] = kit.counts(summary, PIN_COUNTS)
    rate = kit.as_ratio(summary.get("SAVE_RATE"))
    if rate is not None:
        metrics["pinterestSaveRate"] = rate
    return kit.MetricsSnapshot(metrics, dict(summary))


def public_url(pin_id: str) -> str:
    return f"https://www.pinterest.com/pin/{pin_id}/"


class PinterestOAuth(kit.GrantOAuth):
    """Pinterest's authorization code flow; the token endpoint takes the app by Basic auth."""

    platform = "pinterest"
    label = "Pinterest"
    scopes = SCOPES
    pkce = False
    scope_separator = ","

    def words(self, response: httpx.Response) -> str:
        return pinterest_message(response)

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        auth = httpx.BasicAuth(self._app.client_id, self._app.client_secret or "")
        url = f"{self._app.api_url}/v5/oauth/token"
        return await kit.post_token(self._client, "Pinterest", url, form, auth=auth)


class PinterestPublisher(kit.HttpPublisher):
    platform: ClassVar[str] = "pinterest"
    metrics_batch: int = METRICS_BATCH

    def __init__(
        self,
        *,
        api_url: str,
        app: OAuthApp | None,
        timeout: float = 60.0,
        poll_seconds: float = POLL_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._poll_seconds = poll_seconds
        self._client = kit.new_client(timeout, transport)
        self._oauth = PinterestOAuth(app, self._client) if app is not None else None
        self.oauth = self._oauth
        self._http = kit.PlatformHttp.with_tokens(
            "Pinterest", self._client, _classify, self._oauth, REFRESH_MARGIN
        )

    # -- accounts ----------------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        """Whose token, and every board of the account (boards are the `boardId`s)."""
        token = kit.given_token(credentials, "A Pinterest account")
        me = await self._get("/v5/user_account", token)
        self._http.check(me)
        user = me.json()
        username = str(user["username"])
        return kit.ConnectedAccount(
            external_id=str(user.get("id") or username),
            username=username,
            credentials=dict(credentials),
            fullname=str(user.get("business_name") or username),
            profile_image_url=user.get("profile_image"),
            subaccounts=await self._boards(token),
        )

    async def _boards(self, token: str) -> tuple[kit.ConnectedSubaccount, ...]:
        boards: list[kit.ConnectedSubaccount] = []
        bookmark: str | None = None
        while True:
            params = {"page_size": str(BOARDS_PAGE)}
            if bookmark:
                params["bookmark"] = bookmark
            response = await self._get("/v5/boards", token, params)
            self._http.check(response)
            page = response.json()
            boards.extend(
                kit.ConnectedSubaccount("board", str(b["id"]), str(b.get("name") or b["id"]))
                for b in page.get("items") or []
            )
            bookmark = page.get("bookmark")
            if not bookmark:
                return tuple(boards)

    async def _get(
        self, path: str, token: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self._http.send(
            "GET", f"{self._api}{path}", params=params, headers=kit.bearer(token)
        )

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        ctx: kit.PublishContext,
        method: str,
        path: str,
        *,
        creates: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised call; a 401 refreshes the token and tries once more."""
        return await self._http.authorised(
            ctx, method, f"{self._api}{path}", creates=creates, **kwargs
        )

    # -- media -------------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        """Ingest the files (Pinterest pulls images from their public URL) and upload a video;
        note when sending began, so a reconcile knows which of the board's pins to look at."""
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for Pinterest")
        files = [await ctx.media.file(url) for url in ctx.items[position].media_urls]
        since = iso(utcnow() - RECONCILE_WINDOW)
        if any(file.is_video for file in files):
            if len(files) > 1:
                raise kit.Permanent("A Pinterest video Pin carries one video and nothing else")
            video_id = await self._upload_video(ctx, ctx.media, files[0])
            return kit.stored(PinMedia(since, video_id=video_id))
        return kit.stored(PinMedia(since, image_urls=[file.url for file in files]))

    async def _upload_video(
        self, ctx: kit.PublishContext, media: kit.MediaSource, file: kit.MediaFile
    ) -> str:
        response = await self._call(ctx, "POST", "/v5/media", json={"media_type": "video"})
        self._http.check(response)
        registered = response.json()
        media_id = str(registered["media_id"])
        form = {str(k): str(v) for k, v in (registered.get("upload_parameters") or {}).items()}
        boundary = secrets.token_hex(16)
        head, tail = multipart_frame(form, file.content_type, boundary)
        try:
            upload = await self._client.post(
                str(registered["upload_url"]),
                content=_framed(head, media.chunks(file), tail),
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(len(head) + file.size + len(tail)),
                },
            )
        except httpx.TransportError as exc:
            raise kit.Retryable(f"Pinterest's upload URL failed ({type(exc).__name__})") from exc
        if upload.status_code >= 300:
            raise kit.Retryable(f"Pinterest's upload URL answered HTTP {upload.status_code}")
        await self._wait_processed(ctx, media_id)
        return media_id

    async def _wait_processed(self, ctx: kit.PublishContext, media_id: str) -> None:
        async def status() -> dict[str, Any]:
            response = await self._call(ctx, "GET", f"/v5/media/{media_id}")
            answer: dict[str, Any] = self._http.check(response).json()
            return answer

        what = f"the video (media {media_id})"
        await kit.until_processed(MEDIA_PROCESSING, status, what, self._poll_seconds)

    # -- pins --------------------------------------------------------------------------------

    @staticmethod
    def body(ctx: kit.PublishContext, position: int, prepared: dict[str, Any]) -> dict[str, Any]:
        pin = kit.loaded(PinMedia, prepared)
        target = ctx.target
        body: dict[str, Any] = {"board_id": str(target["boardId"])}
        text = ctx.items[position].text
        if text:
            body["description"] = text
        for key, name in (("title", "title"), ("link", "link"), ("altText", "alt_text")):
            if target.get(key):
                body[name] = str(target[key])
        if pin.video_id:
            body["media_source"] = {
                "source_type": "video_id",
                "media_id": pin.video_id,
                "cover_image_key_frame_time": 0,
            }
        elif len(pin.image_urls) == 1:
            body["media_source"] = {"source_type": "image_url", "url": pin.image_urls[0]}
        else:
            body["media_source"] = {
                "source_type": "multiple_image_urls",
                "items": [{"url": url} for url in pin.image_urls],
            }
        return body

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        try:
            response = await self._call(
                ctx, "POST", "/v5/pins", creates=True, json=self.body(ctx, position, prepared)
            )
            self._http.check(response, creates=True)
        except kit.OutcomeUnknown as unknown:
            return await kit.found_or_unknown(unknown, self._find(ctx, position, prepared))
        pin_id = str(response.json()["id"])
        return kit.SentItem(pin_id, public_url(pin_id), self._sent_data(prepared))

    @staticmethod
    def _sent_data(prepared: dict[str, Any]) -> dict[str, Any]:
        """What analytics needs to know later: whether the Pin is a video."""
        return {"mediaType": VIDEO} if kit.loaded(PinMedia, prepared).video_id else {}

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        return await self._find(ctx, position, prepared)

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """`GET /pins/{id}/analytics` over the days since publishing (at most 90)."""
        today = utcnow().date()

        async def read(post: kit.PublishedPost) -> kit.MetricsResult:
            start = max(post.published_at.date(), today - timedelta(days=ANALYTICS_DAYS - 1))
            video = post.data.get("mediaType") == VIDEO
            response = await self._http.authorised(
                ctx,
                "GET",
                f"{self._api}/v5/pins/{post.remote_id}/analytics",
                params={
                    "start_date": min(start, today).isoformat(),
                    "end_date": today.isoformat(),
                    "metric_types": VIDEO_METRICS if video else PIN_METRICS,
                },
            )
            if response.status_code == 404:
                return kit.PostGone("Post no longer exists on pinterest")
            return pin_snapshot(self._http.check(response).json())

        return await kit.each_post(posts, read)

    async def _find(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """The board's pin with this title, description and link, created since the send
        began; None when Pinterest shows none (the outcome then stays unknown)."""
        wanted = self.body(ctx, position, prepared)
        response = await kit.answer_or_none(
            self._call(
                ctx, "GET", f"/v5/boards/{wanted['board_id']}/pins", params={"page_size": "100"}
            )
        )
        if response is None:
            return None
        since = parse_time(kit.loaded(PinMedia, prepared).since) or utcnow()
        for pin in response.json().get("items") or []:
            created = parse_time(pin.get("created_at"))
            if created is None or created < since:
                continue
            if all(pin.get(key) == wanted.get(key) for key in ("title", "description", "link")):
                return kit.SentItem(
                    str(pin["id"]), public_url(str(pin["id"])), self._sent_data(prepared)
                )
        return None


def multipart_frame(form: dict[str, str], content_type: str, boundary: str) -> tuple[bytes, bytes]:
    """The bytes before and after the file of a multipart/form-data body whose last part is
    the file: the upload URL wants every `upload_parameters` field, then `file` (PN 7). The
    file is streamed between the two, so a large video is never held in memory."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in form.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="video"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


async def _framed(head: bytes, chunks: AsyncIterator[bytes], tail: bytes) -> AsyncIterator[bytes]:
    yield head
    async for chunk in chunks:
        yield chunk
    yield tail


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> PinterestPublisher:
    return PinterestPublisher(
        api_url=settings.pinterest_api_url,
        app=SPEC.oauth_app(settings),
        timeout=settings.pinterest_timeout_seconds,
        transport=transport,
    )


RULES = kit.PlatformRules(
    name="pinterest",
    content_platforms=("pinterest",),
    text_limits=(kit.TextLimit(800, kit.Count.CODE_POINTS),),  # PR, PN 7: description ≤ 800
    media=kit.MediaCount(1, 5),  # PR, PN 7: 1 image, 1 video, or 2–5 images
    # PN 7: image_url pins take JPEG/PNG; video through /v5/media.
    files=kit.FileRules(
        image_types=frozenset({kit.JPEG, kit.PNG}),
        video_types=frozenset({kit.MP4, kit.MOV}),
        convertible=frozenset({kit.WEBP, kit.GIF}),
        max_image_bytes=20 * kit.MB,
    ),
    fields=(
        kit.FieldRule("boardId", kit.Kind.NUMERIC_ID, required=True),  # PR; PN 7 board_id ^\d+$
        kit.FieldRule("title", kit.Kind.STRING, max_length=100),  # PR, PN 7
        kit.FieldRule("altText", kit.Kind.STRING, max_length=500),  # PR, PN 7
        kit.FieldRule("link", kit.Kind.HTTP_URL, max_length=2048),  # PR, PN 7
    ),
)
"""What a post to pinterest may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="pinterest",
    label="Pinterest",
    build=build,
    rules=RULES,
    subaccount=Subaccount("board", target_field="boardId"),
)
