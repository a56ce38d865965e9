"""TikTok Content Posting API: OAuth with rotating refresh tokens, creator_info checks, video by
FILE_UPLOAD chunks (or PULL_FROM_URL from a verified prefix), photo posts, drafts to the inbox.

Which call is irreversible: TikTok publishes a FILE_UPLOAD video when its last chunk arrives,
so `prepare` queries creator_info, initialises the upload and sends every chunk but the last
(a publish whose upload never completes expires unseen); `send` sends the last chunk. The
publish_id is stored with the sending mark, so a lost answer or a crash is settled by asking
`status/fetch` about that publish_id, and an incomplete upload is completed on the same
publish_id (one publish_id is at most one post). A PULL_FROM_URL video and a photo post are
published by their `init` call itself, which is then the irreversible call; a crash before
its answer leaves no publish_id and the outcome is reported unknown. Facts: platform-notes §5.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from masthead.config import OAuthApp, Settings
from masthead.platforms import kit
from masthead.platforms.spec import PlatformSpec

SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload", "video.list")
"""user.info.* to know whose account it is (username for public URLs); video.publish for
direct posts; video.upload for drafts sent to the creator's inbox; video.list to read the
posts' counts (analytics)."""
METRICS_BATCH = 20
"""video/query takes up to 20 video ids a request."""
VIDEO_FIELDS = "id,view_count,like_count,comment_count,share_count"
VIDEO_COUNTS = (
    ("view_count", "viewsCount"),
    ("like_count", "likesCount"),
    ("comment_count", "commentsCount"),
    ("share_count", "sharesCount"),
)
REFRESH_MARGIN = timedelta(minutes=5)
"""Access tokens live 2 hours (platform-notes §5)."""
RATE_WINDOW_SECONDS = 60.0
"""TikTok's limits are per minute per token and its 429 names no reset: wait a window."""
LAST_CHUNK_ATTEMPTS = 3
DONE = {"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"}


def tiktok_error(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of TikTok's `error` envelope (or an OAuth error answer)."""
    body = kit.json_object(response) or {}
    error = body.get("error")
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        return code, str(error.get("message") or code)
    if isinstance(error, str):
        return error, str(body.get("error_description") or error)
    return "", f"TikTok answered HTTP {response.status_code}"


async def _token_invalid(ctx: kit.AccountScope, response: httpx.Response) -> bool:
    return response.status_code == 401 and tiktok_error(response)[0] == "access_token_invalid"


def _classify(response: httpx.Response, creates: bool) -> kit.PublishError | None:
    """TikTok's answer as the engine's error class: its `error.code` decides, not only the
    status (a 200 can carry a refusal)."""
    code, message = tiktok_error(response)
    status = response.status_code
    if status == 200 and code in ("ok", ""):
        return None
    if status == 429 or code == "rate_limit_exceeded":
        wait = kit.retry_after(response.headers)
        return kit.Retryable(
            f"TikTok rate limit: {message}",
            retry_after=RATE_WINDOW_SECONDS if wait is None else wait,
        )
    if status >= 500 or code == "internal_error":
        return kit.Retryable(f"TikTok internal error: {message}")
    if status == 401:
        return kit.AccountDisconnected(f"TikTok refused the account's token ({code}): {message}")
    return kit.Permanent(f"TikTok refused the post ({code}): {message}" if code else message)


def plan_chunks(size: int, rules: kit.UploadChunks) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) as TikTok counts them: a file under the minimum goes
    whole; otherwise chunks of at most the maximum, the remainder joining the last chunk."""
    if size <= rules.maximum:
        return size, 1
    count = size // rules.maximum
    if count > rules.max_count:
        raise kit.Permanent(f"The video is too large for TikTok ({size} bytes)")
    return rules.maximum, count


CHUNKS = kit.UploadChunks(
    minimum=5 * kit.MB, maximum=64 * kit.MB, last_maximum=128 * kit.MB, max_count=1000
)
"""PN 5 (TikTok media transfer guide): chunks 5-64 MB, the last up to 128 MB, files under 5 MB
in one chunk, 1-1000 chunks, total_chunk_count = floor(video_size / chunk_size)."""


class TikTokOAuth(kit.AppOAuth):
    """TikTok Login Kit v2 (web): a client *key*, comma-separated scopes, PKCE."""

    platform = "tiktok"
    scopes = SCOPES
    scope_separator = ","
    client_id_field = "client_key"

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._token(kit.code_grant(code, redirect_uri, verifier))
        body = response.json() if response.status_code == 200 else {}
        if "access_token" not in body:
            raise kit.Permanent(f"TikTok refused the authorization: {tiktok_error(response)[1]}")
        return kit.credentials_from_token_response(body)

    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        """TikTok rotates the refresh token: the answer's one replaces the stored one."""
        response = await self._token(kit.refresh_grant(current))
        return kit.rotated_credentials("TikTok", response, tiktok_error, current, SPEC.prefix)

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        url = f"{self._app.api_url}/v2/oauth/token/"
        form = kit.with_client(form, self._app, id_field="client_key")
        return await kit.post_token(self._client, "TikTok's", url, form)


@dataclass(frozen=True, slots=True)
class PreparedPublish:
    """What `prepare` hands to `send` and `reconcile`."""

    username: str
    post_info: dict[str, Any]
    """The target's fields in TikTok's words."""
    draft: bool
    kind: str = ""
    """photo or pull (TikTok fetches the files; `send` inits), or upload (all but the last
    chunk sent at prepare; the last one publishes)."""
    photos: list[str] | None = None
    video_url: str | None = None
    publish_id: str | None = None
    """Known at prepare for an upload; a pulled post learns it from `send`'s init."""
    upload_url: str | None = None
    video: str | None = None
    last_start: int | None = None
    """Where the last chunk starts."""


class TikTokPublisher(kit.HttpPublisher):
    platform: ClassVar[str] = "tiktok"
    metrics_batch: int = METRICS_BATCH

    def __init__(
        self,
        *,
        api_url: str,
        app: OAuthApp | None,
        pull_prefixes: tuple[str, ...] = (),
        timeout: float = 60.0,
        status_timeout: float = 900.0,
        poll_interval: float = 2.0,
        chunks: kit.UploadChunks = CHUNKS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._pull_prefixes = pull_prefixes
        self._status_timeout = status_timeout
        self._poll_interval = poll_interval
        self._chunks = chunks
        self._client = kit.new_client(timeout, transport)
        self._oauth = TikTokOAuth(app, self._client) if app is not None else None
        self.oauth = self._oauth
        self._http = kit.PlatformHttp.with_tokens(
            "TikTok", self._client, _classify, self._oauth, REFRESH_MARGIN
        )

    # -- accounts ----------------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        _, answer = await self._http.whose(
            credentials,
            "A TikTok account",
            f"{self._api}/v2/user/info/",
            {"fields": "open_id,union_id,avatar_url,display_name,username"},
            lambda answer: tiktok_error(answer)[1],
        )
        user = answer["data"]["user"]
        username = str(user.get("username") or user.get("display_name") or user["open_id"])
        return kit.ConnectedAccount(
            external_id=str(user["open_id"]),
            username=username,
            credentials=dict(credentials),
            fullname=str(user.get("display_name") or username),
            profile_image_url=user.get("avatar_url"),
        )

    # -- HTTP --------------------------------------------------------------------------------

    async def _post(
        self, ctx: kit.PublishContext, path: str, body: dict[str, Any], *, creates: bool = False
    ) -> dict[str, Any]:
        """One authorised JSON call; a 401 that says the token is invalid refreshes once.
        Refusals become the engine's errors; a dropped connection is OutcomeUnknown when the
        call may have published."""
        response = await self._http.authorised(
            ctx, "POST", f"{self._api}{path}", creates=creates, json=body, stale=_token_invalid
        )
        data: dict[str, Any] = self._http.check(response, creates=creates).json().get("data") or {}
        return data

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """`video/query` by id, 20 a request. A post TikTok gave no public id (a private post,
        a draft sent to the inbox) cannot be asked about; a video missing from the answer
        was deleted (TikTok answers only the account's existing videos)."""
        results: dict[str, kit.MetricsResult] = {}
        public = []
        for post in posts:
            if post.remote_id == post.data.get("publish_id"):
                results[post.post_id] = kit.MetricsUnavailable(
                    "Analytics are not available for tiktok posts without a public video id"
                )
            else:
                public.append(post)
        for batch in kit.chunked(public, METRICS_BATCH):
            response = await self._http.authorised(
                ctx,
                "POST",
                f"{self._api}/v2/video/query/",
                params={"fields": VIDEO_FIELDS},
                json={"filters": {"video_ids": list(dict.fromkeys(p.remote_id for p in batch))}},
                stale=_token_invalid,
            )
            data = self._http.check(response).json().get("data") or {}
            found = {str(v.get("id")): v for v in data.get("videos") or [] if isinstance(v, dict)}
            for post in batch:
                video = found.get(post.remote_id)
                if video is None:
                    results[post.post_id] = kit.PostGone("Post no longer exists on tiktok")
                else:
                    raw = {k: v for k, v in video.items() if k != "id"}
                    results[post.post_id] = kit.MetricsSnapshot(kit.counts(raw, VIDEO_COUNTS), raw)
        return results

    # -- publishing --------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for TikTok")
        creator = await self._post(ctx, "/v2/post/publish/creator_info/query/", {})
        files = [await ctx.media.file(url) for url in ctx.items[position].media_urls]
        self._check(ctx, creator, files)
        post = PreparedPublish(
            username=str(creator.get("creator_username") or ctx.account.username),
            post_info=self._post_info(ctx, creator, files),
            draft=bool(ctx.target.get("isDraft")),
        )
        if not files[0].is_video:
            if not all(self._pullable(file.url) for file in files):
                raise kit.Permanent(
                    "TikTok takes photos only by URL from a domain verified with TikTok: "
                    "verify this server's public URL in the TikTok developer portal and add it "
                    "to MASTHEAD_TIKTOK_PULL_PREFIXES"
                )
            return kit.stored(replace(post, kind="photo", photos=[file.url for file in files]))
        video = files[0]
        if self._pullable(video.url):
            return kit.stored(replace(post, kind="pull", video_url=video.url))
        return kit.stored(await self._upload_all_but_last(ctx, replace(post, kind="upload"), video))

    def _pullable(self, url: str) -> bool:
        """Whether TikTok may pull `url` (under a prefix the operator verified)."""
        return any(url.startswith(prefix) for prefix in self._pull_prefixes)

    def _check(
        self, ctx: kit.PublishContext, creator: dict[str, Any], files: list[kit.MediaFile]
    ) -> None:
        """What the creator's settings forbid fails here, before anything is sent."""
        name = creator.get("creator_username") or ctx.account.username
        options = list(creator.get("privacy_level_options") or [])
        wanted = ctx.target.get("privacyLevel")
        if not ctx.target.get("isDraft") and wanted not in options:
            raise kit.Permanent(
                f"TikTok does not let @{name} post with privacy level {wanted}; "
                f"allowed: {', '.join(options) or 'none'}"
            )
        videos = [file for file in files if file.is_video]
        if videos and len(files) > 1:
            raise kit.Permanent("A TikTok post is one video or 1-35 photos, not both")
        limit = creator.get("max_video_post_duration_sec")
        if videos and limit and (videos[0].duration or 0) > float(limit):
            raise kit.Permanent(
                f"The video is {videos[0].duration:.0f} s long; TikTok lets @{name} post "
                f"videos of at most {limit} s"
            )

    @staticmethod
    def _post_info(
        ctx: kit.PublishContext, creator: dict[str, Any], files: list[kit.MediaFile]
    ) -> dict[str, Any]:
        """The target's fields in TikTok's words. A setting the creator turned off in the app
        (comments, duets, stitches) stays off whatever the post asks."""
        target = ctx.target
        text = ctx.items[0].text
        info: dict[str, Any] = {
            "privacy_level": target["privacyLevel"],
            "disable_comment": bool(target["disabledComments"] or creator.get("comment_disabled")),
            "brand_content_toggle": bool(target["isBrandedContent"]),
            "brand_organic_toggle": bool(target["isYourBrand"]),
        }
        if files[0].is_video:
            info["title"] = text
            info["disable_duet"] = bool(target["disabledDuet"] or creator.get("duet_disabled"))
            info["disable_stitch"] = bool(
                target["disabledStitch"] or creator.get("stitch_disabled")
            )
            info["is_aigc"] = bool(target["isAiGenerated"])
            if isinstance(target.get("videoCoverTimestamp"), int):
                info["video_cover_timestamp_ms"] = target["videoCoverTimestamp"]
        else:
            info["title"] = str(target.get("title") or "")
            info["description"] = text
            info["auto_add_music"] = bool(target.get("autoAddMusic"))
        return info

    async def _upload_all_but_last(
        self, ctx: kit.PublishContext, post: PreparedPublish, video: kit.MediaFile
    ) -> PreparedPublish:
        chunk_size, count = plan_chunks(video.size, self._chunks)
        source = {
            "source": "FILE_UPLOAD",
            "video_size": video.size,
            "chunk_size": chunk_size,
            "total_chunk_count": count,
        }
        if post.draft:
            data = await self._post(
                ctx, "/v2/post/publish/inbox/video/init/", {"source_info": source}
            )
        else:
            body = {"post_info": post.post_info, "source_info": source}
            data = await self._post(ctx, "/v2/post/publish/video/init/", body)
        upload_url = str(data["upload_url"])
        last_start = (count - 1) * chunk_size
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for TikTok")
        start = 0
        async for chunk in ctx.media.chunks(video, chunk_size):
            if start >= last_start:
                break
            try:
                await self._put(upload_url, chunk, start, video)
            except _Interrupted as exc:  # nothing publishes before the last chunk
                raise kit.Retryable(f"TikTok video upload interrupted ({exc})") from exc
            start += len(chunk)
        return replace(
            post,
            publish_id=str(data["publish_id"]),
            upload_url=upload_url,
            video=video.url,
            last_start=last_start,
        )

    async def _put(self, upload_url: str, chunk: bytes, start: int, video: kit.MediaFile) -> None:
        end = start + len(chunk) - 1
        try:
            response = await self._client.put(
                upload_url,
                content=chunk,
                headers={
                    "Content-Type": video.content_type,
                    "Content-Range": f"bytes {start}-{end}/{video.size}",
                },
            )
        except httpx.TransportError as exc:
            raise _Interrupted(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise _Interrupted(f"HTTP {response.status_code}")
        if response.status_code not in (200, 201, 206):
            raise kit.Permanent(f"TikTok refused the video upload: {tiktok_error(response)[1]}")

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        post = kit.loaded(PreparedPublish, prepared)
        if post.kind == "upload":
            await self._send_last_chunk(ctx, post)
        else:
            post = replace(post, publish_id=await self._init_by_url(ctx, post))
        return await self._settled(ctx, post)

    async def _init_by_url(self, ctx: kit.PublishContext, post: PreparedPublish) -> str:
        """The init that publishes a pulled video or photos: the irreversible call; returns
        the publish_id."""
        if post.kind == "photo":
            info = dict(post.post_info)
            source = {
                "source": "PULL_FROM_URL",
                "photo_images": post.photos,
                "photo_cover_index": int(ctx.target.get("imageCoverIndex") or 0),
            }
            body: dict[str, Any] = {
                "post_info": info,
                "source_info": source,
                "post_mode": "MEDIA_UPLOAD" if post.draft else "DIRECT_POST",
                "media_type": "PHOTO",
            }
            path = "/v2/post/publish/content/init/"
        else:
            source = {"source": "PULL_FROM_URL", "video_url": post.video_url}
            if post.draft:
                body, path = {"source_info": source}, "/v2/post/publish/inbox/video/init/"
            else:
                body = {"post_info": post.post_info, "source_info": source}
                path = "/v2/post/publish/video/init/"
        data = await self._post(ctx, path, body, creates=True)
        return str(data["publish_id"])

    async def _send_last_chunk(self, ctx: kit.PublishContext, post: PreparedPublish) -> None:
        """The last chunk completes the upload and TikTok publishes. Sent again only on the
        same publish_id, which TikTok turns into one post however often the bytes arrive."""
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for TikTok")
        video = await ctx.media.file(str(post.video))
        start = int(post.last_start or 0)
        pieces = kit.chunks_from(ctx.media, video, start, 1024 * 1024)
        chunk = b"".join([piece async for _, piece in pieces])
        for attempt in range(LAST_CHUNK_ATTEMPTS):
            try:
                await self._put(str(post.upload_url), chunk, start, video)
                return
            except _Interrupted as exc:
                try:
                    waiting = await self._waiting_for_bytes(ctx, post)
                except kit.PublishError as error:  # the chunk may have arrived: never start over
                    raise kit.OutcomeUnknown(
                        f"the last TikTok chunk's answer was lost ({exc}) and TikTok could not "
                        f"say whether it arrived ({error.message})"
                    ) from error
                if not waiting:
                    return  # TikTok has the whole file: the answer was lost, not the chunk
                if attempt == LAST_CHUNK_ATTEMPTS - 1:
                    raise kit.OutcomeUnknown(f"the last TikTok chunk kept failing ({exc})") from exc
                await asyncio.sleep(self._poll_interval)

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """With a stored publish_id: finish the upload if TikTok is still waiting for it,
        then wait for the verdict. Without one (a pulled post): it cannot be told."""
        if not prepared.get("publish_id"):
            return None
        post = kit.loaded(PreparedPublish, prepared)
        if post.kind == "upload" and await self._waiting_for_bytes(ctx, post):
            await self._send_last_chunk(ctx, post)
        return await self._settled(ctx, post)

    async def _waiting_for_bytes(self, ctx: kit.PublishContext, post: PreparedPublish) -> bool:
        """Whether TikTok is still waiting for the end of this publish's upload."""
        status = await self._status(ctx, str(post.publish_id))
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for TikTok")
        video = await ctx.media.file(str(post.video))
        return status.get("status") == "PROCESSING_UPLOAD" and (
            int(status.get("uploaded_bytes") or 0) < video.size
        )

    async def _status(self, ctx: kit.PublishContext, publish_id: str) -> dict[str, Any]:
        return await self._post(ctx, "/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    async def _settled(self, ctx: kit.PublishContext, post: PreparedPublish) -> kit.SentItem:
        """Poll status/fetch until TikTok publishes or fails the post. TikTok has acted, so a
        rate limit or an outage here is waited out, never retried from the start."""
        publish_id = str(post.publish_id)
        deadline = time.monotonic() + self._status_timeout
        while True:
            try:
                status = await self._status(ctx, publish_id)
            except kit.Retryable as exc:
                status = {"status": "UNKNOWN"}
                pause = exc.retry_after or self._poll_interval
            except kit.Permanent as exc:
                raise kit.OutcomeUnknown(
                    f"TikTok has publish {publish_id} but its status could not be read "
                    f"({exc.message})"
                ) from exc
            else:
                pause = self._poll_interval
            state = status.get("status")
            if state == "FAILED":
                reason = status.get("fail_reason") or "no reason given"
                raise kit.Permanent(f"TikTok did not publish the post: {reason}")
            if state in DONE:
                return self._sent(post.username, publish_id, status)
            if time.monotonic() + pause > deadline:
                raise kit.OutcomeUnknown(
                    f"TikTok was still processing publish {publish_id} after "
                    f"{self._status_timeout:.0f} s"
                )
            await asyncio.sleep(pause)

    @staticmethod
    def _sent(username: str, publish_id: str, status: dict[str, Any]) -> kit.SentItem:
        """The public URL of the post, or the profile's when TikTok gives no id (private
        posts, drafts in the inbox)."""
        ids = status.get("publicaly_available_post_id") or []  # [sic], TikTok's spelling
        data = {"publish_id": publish_id}
        if ids:
            post_id = str(ids[0])
            return kit.SentItem(
                post_id, f"https://www.tiktok.com/@{username}/video/{post_id}", data
            )
        return kit.SentItem(publish_id, f"https://www.tiktok.com/@{username}", data)


class _Interrupted(Exception):
    """A chunk upload that broke off or met a 5xx: the publish_id is still good."""


def build(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> TikTokPublisher:
    return TikTokPublisher(
        api_url=settings.tiktok_api_url,
        app=SPEC.oauth_app(settings),
        pull_prefixes=settings.tiktok_pull_prefixes,
        status_timeout=settings.tiktok_status_timeout_seconds,
        transport=transport,
    )


RULES = kit.PlatformRules(
    name="tiktok",
    content_platforms=("tiktok",),
    text_limits=(kit.TextLimit(2200, kit.Count.CODE_POINTS),),  # PR, BR 3: caption 2,200
    media=kit.MediaCount(1, 35),  # PR: media required; 1 video or 1–35 photos
    # PN 9: photos JPEG/WebP only (PNG converted), <= 20 MB; video up to 4 GB (the
    # creator's maximum duration is checked at publish time from creator_info).
    files=kit.FileRules(
        image_types=frozenset({kit.JPEG, kit.WEBP}),
        convertible=frozenset({kit.PNG}),
        max_image_bytes=20 * kit.MB,
        max_video_bytes=4096 * kit.MB,
    ),
    fields=(
        # PR, BR 3: all seven are required.
        kit.FieldRule(
            "privacyLevel",
            kit.Kind.ENUM,
            required=True,
            choices=(
                "SELF_ONLY",
                "PUBLIC_TO_EVERYONE",
                "MUTUAL_FOLLOW_FRIENDS",
                "FOLLOWER_OF_CREATOR",
            ),
        ),
        kit.boolean("disabledComments", required=True),
        kit.boolean("disabledDuet", required=True),
        kit.boolean("disabledStitch", required=True),
        kit.boolean("isBrandedContent", required=True),
        kit.boolean("isYourBrand", required=True),
        kit.boolean("isAiGenerated", required=True),
        kit.FieldRule("title", kit.Kind.STRING, max_length=90),  # PR, BR 3: photo posts ≤ 90
        kit.boolean("autoAddMusic"),
        kit.boolean("isDraft"),
        kit.FieldRule("imageCoverIndex", kit.Kind.MEDIA_INDEX),  # BR 3: 0-based, carousels
        kit.FieldRule("videoCoverTimestamp", kit.Kind.INTEGER),  # BR 3: milliseconds
    ),
)
"""What a post to tiktok may carry; validation reads it through the registry."""


SPEC = PlatformSpec(name="tiktok", label="TikTok", build=build, rules=RULES)
