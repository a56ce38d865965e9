"""YouTube: Google OAuth, videos.insert by resumable upload, thumbnails.set, playlistItems.insert.

The irreversible step is the upload's last byte: YouTube creates the video when a resumable
session has received the whole file. Opening the session creates nothing, so it is `prepare`
work and its URI is stored with the sending mark. A session creates at most one video, so an
interrupted upload asks the session how far it got (`Content-Range: bytes */{total}`) and
resumes from there, and a reconcile after a crash asks the same session whether the video
exists (200/201 with the resource) or finishes the upload it left. Facts: platform-notes §6.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from masthead.config import OAuthApp, Settings
from masthead.domain.budgets import DAY, Budget, PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.platforms import kit
from masthead.platforms.spec import PlatformSpec, Subaccount
from masthead.timeutil import parse_time, utcnow

COMMENTS_SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube",
    COMMENTS_SCOPE,
)
"""youtube.upload for videos.insert and thumbnails.set; youtube to list the channel's
playlists and add videos to them (playlistItems.insert does not accept youtube.upload);
youtube.force-ssl, the only scope commentThreads and comments accept."""
CHUNK_MULTIPLE = 256 * 1024
"""PN 6: resumable upload chunks (all but the last) are multiples of 256 KiB."""
QUOTA_TIMEZONE = "America/Los_Angeles"
"""PN 6: the YouTube Data API quota day ends at midnight Pacific time."""
REFRESH_MARGIN = timedelta(minutes=5)
CHUNK_SIZE = 32 * CHUNK_MULTIPLE  # 8 MiB
RESUME_ATTEMPTS = 5
RETRY_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
METRICS_BATCH = 50
"""videos.list takes up to 50 ids a request (one quota unit whatever the count)."""
STATISTICS = (
    ("viewCount", "viewsCount"),
    ("likeCount", "likesCount"),
    ("commentCount", "commentsCount"),
)
"""VideoStatistics fields (discovery document) and the contract's names for them."""
COMMENT_PAGES = 5
"""Pages of 100 comment threads (newest first) read per poll of one video."""
COMMENTS_OFF = "commentsDisabled"
GONE_REASONS = frozenset({"videoNotFound"})


def google_reason(response: httpx.Response) -> tuple[str, str]:
    """(reason, message) of a Google JSON error; the status line when the body says nothing."""
    body = kit.json_object(response) or {}
    if isinstance(body.get("error"), dict):
        error = body["error"]
        errors = error.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        reason = str(first.get("reason") or error.get("status") or "")
        return reason, str(error.get("message") or first.get("message") or reason)
    if isinstance(body.get("error"), str):
        return str(body["error"]), str(body.get("error_description") or body["error"])
    return "", f"YouTube answered HTTP {response.status_code}"


def until_quota_day(now: datetime) -> float:
    """Seconds until the next midnight Pacific time, when YouTube's daily quota comes back."""
    pacific = now.astimezone(ZoneInfo(QUOTA_TIMEZONE))
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - pacific).total_seconds() + 60.0)


def video_resource(target: dict[str, Any], description: str) -> dict[str, Any]:
    """The Video resource for videos.insert, from the Blotato target (platform-rules.md)."""
    status: dict[str, Any] = {"privacyStatus": target["privacyStatus"]}
    if "isMadeForKids" in target:
        status["selfDeclaredMadeForKids"] = bool(target["isMadeForKids"])
    if "containsSyntheticMedia" in target:
        status["containsSyntheticMedia"] = bool(target["containsSyntheticMedia"])
    return {"snippet": {"title": target["title"], "description": description}, "status": status}


class GoogleOAuth(kit.AppOAuth):
    """Google's OAuth 2.0 web-server flow with PKCE and offline access (a refresh token)."""

    platform = "youtube"
    scopes = SCOPES
    # offline: a refresh token; consent: Google gives one again on a reconnect.
    authorize_extra: ClassVar[dict[str, str]] = {
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    }

    def __init__(self, app: OAuthApp, token_url: str, client: httpx.AsyncClient) -> None:
        super().__init__(app, client)
        self._token_url = token_url

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._token(kit.code_grant(code, redirect_uri, verifier))
        return kit.exchanged_credentials("Google", response, lambda r: google_reason(r)[1])

    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        response = await self._token(kit.refresh_grant(current))
        return kit.rotated_credentials("Google", response, google_reason, current, SPEC.prefix)

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        return await kit.post_token(
            self._client, "Google's", self._token_url, kit.with_client(form, self._app)
        )


@dataclass(frozen=True, slots=True)
class PreparedUpload:
    """What `prepare` hands to `send` and `reconcile`: the resumable upload session (one
    session makes at most one video) and the file it uploads."""

    session: str
    url: str
    size: int


class YouTubePublisher(kit.HttpPublisher):
    platform: ClassVar[str] = "youtube"
    metrics_batch: int = METRICS_BATCH

    def __init__(
        self,
        *,
        api_url: str,
        token_url: str,
        app: OAuthApp | None,
        timeout: float = 60.0,
        chunk_size: int = CHUNK_SIZE,
        resume_pause: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if chunk_size % CHUNK_MULTIPLE:
            raise ValueError("YouTube upload chunks are multiples of 256 KiB")
        self._api = api_url.rstrip("/")
        self._chunk_size = chunk_size
        self._resume_pause = resume_pause
        self._client = kit.new_client(timeout, transport)
        self._oauth = GoogleOAuth(app, token_url, self._client) if app is not None else None
        self.oauth = self._oauth
        self._http = kit.PlatformHttp.with_tokens(
            "YouTube",
            self._client,
            lambda answer, creates: None if answer.status_code < 300 else self._refused(answer),
            self._oauth,
            REFRESH_MARGIN,
        )

    # -- accounts ----------------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        """The token's channel, and its playlists as subaccounts (kind `playlist`)."""
        token = kit.given_token(credentials, "A YouTube account")
        headers = kit.bearer(token)
        response = await self._get(
            "/youtube/v3/channels", {"part": "snippet", "mine": "true"}, headers
        )
        channels = response.json().get("items") or []
        if not channels:
            raise kit.Permanent("This Google account has no YouTube channel")
        channel = channels[0]
        snippet = channel.get("snippet") or {}
        playlists: list[kit.ConnectedSubaccount] = []
        page: str | None = None
        while True:
            params = {"part": "snippet", "mine": "true", "maxResults": "50"}
            if page:
                params["pageToken"] = page
            body = (await self._get("/youtube/v3/playlists", params, headers)).json()
            for item in body.get("items") or []:
                title = str((item.get("snippet") or {}).get("title") or item["id"])
                playlists.append(kit.ConnectedSubaccount("playlist", str(item["id"]), title))
            page = body.get("nextPageToken")
            if not page:
                break
        title = str(snippet.get("title") or channel["id"])
        thumbnail = ((snippet.get("thumbnails") or {}).get("default") or {}).get("url")
        return kit.ConnectedAccount(
            external_id=str(channel["id"]),
            username=str(snippet.get("customUrl") or title),
            credentials=dict(credentials),
            fullname=title,
            profile_image_url=thumbnail,
            subaccounts=tuple(playlists),
        )

    async def _get(
        self, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> httpx.Response:
        response = await self._http.send(
            "GET", f"{self._api}{path}", params=params, headers=headers
        )
        if response.status_code != 200:
            raise kit.Permanent(google_reason(response)[1])
        return response

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self, ctx: kit.PublishContext, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        """One authorised call; a 401 refreshes the token and tries once more (YouTube did
        not act on a request it refused to authorise). Transport errors raise httpx's."""
        return await self._http.authorised(ctx, method, url, sort_errors=False, **kwargs)

    @staticmethod
    def _refused(response: httpx.Response) -> kit.PublishError:
        """YouTube's refusal of a call that created nothing, as the engine's error class."""
        reason, message = google_reason(response)
        status = response.status_code
        if reason == "quotaExceeded":
            return kit.Retryable(
                f"YouTube quota exhausted for today ({message}); waiting for the quota day",
                retry_after=until_quota_day(utcnow()),
            )
        if reason == "uploadLimitExceeded":
            return kit.Retryable(f"YouTube upload limit reached ({message})", retry_after=86400.0)
        if status == 429 or status >= 500 or reason in RETRY_REASONS:
            return kit.Retryable(message, retry_after=kit.retry_after(response.headers))
        if status == 401:
            return kit.AccountDisconnected(f"YouTube refused the account's token: {message}")
        return kit.Permanent(message)

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """`videos.list?part=statistics`, 50 ids a request. A video YouTube leaves out of the
        answer was deleted (or made private, which hides it from the API just the same)."""
        results: dict[str, kit.MetricsResult] = {}
        for batch in kit.chunked(posts, METRICS_BATCH):
            ids = ",".join(dict.fromkeys(post.remote_id for post in batch))
            response = await self._http.authorised(
                ctx,
                "GET",
                f"{self._api}/youtube/v3/videos",
                params={"part": "statistics", "id": ids},
            )
            if response.status_code != 200:
                raise self._refused(response)
            found = {
                str(item.get("id")): item.get("statistics") or {}
                for item in response.json().get("items") or []
            }
            for post in batch:
                statistics = found.get(post.remote_id)
                if statistics is None:
                    results[post.post_id] = kit.PostGone("Post no longer exists on youtube")
                else:
                    results[post.post_id] = kit.MetricsSnapshot(
                        kit.counts(statistics, STATISTICS), dict(statistics)
                    )
        return results

    # -- publishing --------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        """Open a resumable upload session (nothing is created until its last byte)."""
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for YouTube")
        item = ctx.items[position]
        file = await ctx.media.file(item.media_urls[0])
        if not file.is_video:
            raise kit.Permanent("YouTube takes exactly one video")
        query = {
            "uploadType": "resumable",
            "part": "snippet,status",
            "notifySubscribers": "true" if ctx.target.get("shouldNotifySubscribers") else "false",
        }
        try:
            response = await self._call(
                ctx,
                "POST",
                f"{self._api}/upload/youtube/v3/videos?{urlencode(query)}",
                json=video_resource(ctx.target, item.text),
                headers={
                    "X-Upload-Content-Length": str(file.size),
                    "X-Upload-Content-Type": file.content_type,
                },
            )
        except httpx.TransportError as exc:
            raise kit.Retryable(f"YouTube unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200 or "location" not in response.headers:
            raise self._refused(response)
        return kit.stored(PreparedUpload(response.headers["location"], file.url, file.size))

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        """The upload. A token refresh that cannot be done mid-upload may come after the last
        byte left, so it is an unknown outcome here, never a retry with a new session."""
        try:
            video = await self._upload(ctx, kit.loaded(PreparedUpload, prepared), offset=0)
        except kit.Retryable as exc:
            raise kit.OutcomeUnknown(
                f"the YouTube upload stopped ({exc.message}); its session may have completed"
            ) from exc
        return await self._published(ctx, video)

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """Ask the stored session: the video if the upload completed, else finish the upload
        (the same session, so still at most one video); None if the session is gone."""
        if not prepared.get("session"):
            return None
        upload = kit.loaded(PreparedUpload, prepared)
        state = await self._session_state(ctx, upload)
        if isinstance(state, dict):
            return await self._published(ctx, state)
        if state is None:
            return None
        return await self._published(ctx, await self._upload(ctx, upload, offset=state))

    async def _upload(
        self, ctx: kit.PublishContext, upload: PreparedUpload, *, offset: int
    ) -> dict[str, Any]:
        """PUT the bytes from `offset` in chunks; after an interruption, resume where the
        session says it stopped. Returns the Video resource YouTube answers at the end."""
        media = ctx.media
        if media is None:
            raise kit.Permanent("This server cannot read media files for YouTube")
        file = await media.file(upload.url)
        total = upload.size
        resumes = 0
        while True:
            try:
                result = await self._put_from(ctx, media, file, upload, offset)
            except (httpx.TransportError, _ServerBusy) as exc:
                resumes += 1
                if resumes > RESUME_ATTEMPTS:
                    raise kit.OutcomeUnknown(
                        f"the YouTube upload kept breaking ({exc}); the session may have completed"
                    ) from exc
                await asyncio.sleep(self._resume_pause)
                state = await self._session_state(ctx, upload)
                if isinstance(state, dict):
                    return state
                if state is None:
                    raise kit.OutcomeUnknown("the YouTube upload session is gone") from exc
                offset = state
                continue
            if isinstance(result, dict):
                return result
            offset = result
            if offset >= total:
                raise kit.OutcomeUnknown("YouTube took every byte but did not say what it made")

    async def _put_from(
        self,
        ctx: kit.PublishContext,
        media: kit.MediaSource,
        file: kit.MediaFile,
        upload: PreparedUpload,
        offset: int,
    ) -> dict[str, Any] | int:
        """Send chunks from `offset` until YouTube answers with the video (a dict) or asks
        for more from another offset than expected (an int)."""
        total = upload.size
        async for start, chunk in kit.chunks_from(media, file, offset, self._chunk_size):
            end = start + len(chunk) - 1
            response = await self._call(
                ctx,
                "PUT",
                upload.session,
                content=chunk,
                headers={
                    "Content-Range": f"bytes {start}-{end}/{total}",
                    "Content-Type": file.content_type,
                },
            )
            if response.status_code in (200, 201):
                video: dict[str, Any] = response.json()
                return video
            if response.status_code == 308:
                received = _received(response)
                if received != end + 1:
                    return received
                continue
            if response.status_code >= 500:
                raise _ServerBusy(google_reason(response)[1])
            raise kit.Permanent(google_reason(response)[1])
        return total

    async def _session_state(
        self, ctx: kit.PublishContext, upload: PreparedUpload
    ) -> dict[str, Any] | int | None:
        """The video (upload complete), the next offset to send (308), or None when the
        session no longer exists (404/410)."""
        total = upload.size
        try:
            response = await self._call(
                ctx,
                "PUT",
                upload.session,
                content=b"",
                headers={"Content-Range": f"bytes */{total}"},
            )
        except httpx.TransportError as exc:
            raise kit.OutcomeUnknown(
                f"YouTube could not say how far the upload got ({type(exc).__name__})"
            ) from exc
        if response.status_code in (200, 201):
            video: dict[str, Any] = response.json()
            return video
        if response.status_code == 308:
            return _received(response)
        if response.status_code in (404, 410):
            return None
        raise kit.OutcomeUnknown(
            f"YouTube answered {response.status_code} about the upload session "
            f"({google_reason(response)[1]})"
        )

    async def _published(self, ctx: kit.PublishContext, video: dict[str, Any]) -> kit.SentItem:
        """The sent item for a created video, after its thumbnail and playlists. Those
        cannot undo the video, so their failures are kept as warnings on the item."""
        video_id = str(video["id"])
        warnings: list[str] = []
        thumbnail = ctx.target.get("thumbnailUrl")
        if thumbnail:
            warnings += await self._thumbnail(ctx, video_id, str(thumbnail))
        for playlist in ctx.target.get("playlistIds") or []:
            warnings += await self._add_to_playlist(ctx, video_id, str(playlist))
        data: dict[str, Any] = {"warnings": warnings} if warnings else {}
        return kit.SentItem(video_id, f"https://www.youtube.com/watch?v={video_id}", data)

    async def _thumbnail(self, ctx: kit.PublishContext, video_id: str, url: str) -> list[str]:
        if ctx.media is None:
            return ["thumbnail not set: this server cannot read media files"]
        try:
            file = await ctx.media.file(url)
            data = await ctx.media.read(file)
            response = await self._call(
                ctx,
                "POST",
                f"{self._api}/upload/youtube/v3/thumbnails/set?"
                + urlencode({"videoId": video_id, "uploadType": "media"}),
                content=data,
                headers={"Content-Type": file.content_type},
            )
        except (httpx.TransportError, kit.Permanent, kit.Retryable) as exc:
            return [f"thumbnail not set: {exc}"]
        if response.status_code != 200:
            return [f"thumbnail not set: {google_reason(response)[1]}"]
        return []

    async def _add_to_playlist(
        self, ctx: kit.PublishContext, video_id: str, playlist: str
    ) -> list[str]:
        """Insert unless the video is already there (a reconcile may run this twice)."""
        base = f"{self._api}/youtube/v3/playlistItems"
        try:
            listed = await self._call(
                ctx,
                "GET",
                base,
                params={"part": "id", "playlistId": playlist, "videoId": video_id},
            )
            if listed.status_code == 200 and listed.json().get("items"):
                return []
            response = await self._call(
                ctx,
                "POST",
                f"{base}?part=snippet",
                json={
                    "snippet": {
                        "playlistId": playlist,
                        "resourceId": {"kind": "youtube#video", "videoId": video_id},
                    }
                },
            )
        except (httpx.TransportError, kit.Permanent, kit.Retryable) as exc:
            return [f"not added to playlist {playlist}: {exc}"]
        if response.status_code != 200:
            return [f"not added to playlist {playlist}: {google_reason(response)[1]}"]
        return []

    # -- comments ----------------------------------------------------------------------------

    async def _comments_call(
        self,
        ctx: kit.AccountContext,
        method: str,
        path: str,
        *,
        creates: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One comments call, its refusal read as the engine needs: comments turned off named
        as such, and a 5xx to an insert an unknown outcome (YouTube may have made it)."""
        response = await self._http.authorised(
            ctx, method, f"{self._api}/youtube/v3/{path}", creates=creates, **kwargs
        )
        if response.status_code < 300:
            return response
        reason, message = google_reason(response)
        if reason == COMMENTS_OFF:
            raise kit.Permanent(f"Comments are turned off on this YouTube video: {message}")
        if reason in GONE_REASONS:
            raise _VideoGone(message)
        if reason == "insufficientPermissions":
            raise kit.Permanent(
                "The YouTube account was connected without permission to read and post "
                f"comments ({COMMENTS_SCOPE}): reconnect it. YouTube said: {message}"
            )
        if creates and response.status_code >= 500 and response.status_code != 503:
            raise kit.OutcomeUnknown(
                f"YouTube answered {response.status_code} to the comment ({message})"
            )
        raise self._refused(response)

    async def list_comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, since: datetime | None
    ) -> Sequence[kit.RemoteComment] | kit.PostGone:
        """The video's comment threads, newest first, up to `COMMENT_PAGES` pages, with all
        their replies (a thread carries at most 5 inline; the rest by comments.list). YouTube
        nests one level only, so a reply's parent is always a top-level comment."""
        params = {
            "part": "snippet,replies",
            "videoId": post.remote_id,
            "maxResults": "100",
            "order": "time",
            "textFormat": "plainText",
        }
        comments: list[kit.RemoteComment] = []
        me = ctx.account.external_id
        for _ in range(COMMENT_PAGES):
            try:
                response = await self._comments_call(ctx, "GET", "commentThreads", params=params)
            except _VideoGone as gone:
                return kit.PostGone(gone.message)
            body = response.json()
            for thread in body.get("items") or []:
                top = (thread.get("snippet") or {}).get("topLevelComment") or {}
                comments.append(_comment(top, None, me))
                replies = (thread.get("replies") or {}).get("comments") or []
                if int(thread["snippet"].get("totalReplyCount") or 0) > len(replies):
                    replies = await self._replies(ctx, str(top["id"]))
                comments.extend(_comment(reply, str(top["id"]), me) for reply in replies)
            page = body.get("nextPageToken")
            if not page:
                break
            params["pageToken"] = str(page)
        return comments

    async def _replies(self, ctx: kit.AccountContext, parent: str) -> list[dict[str, Any]]:
        params = {
            "part": "snippet",
            "parentId": parent,
            "maxResults": "100",
            "textFormat": "plainText",
        }
        replies: list[dict[str, Any]] = []
        for _ in range(COMMENT_PAGES):
            body = (await self._comments_call(ctx, "GET", "comments", params=params)).json()
            replies.extend(body.get("items") or [])
            page = body.get("nextPageToken")
            if not page:
                break
            params["pageToken"] = str(page)
        return replies

    async def send_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str:
        """commentThreads.insert for a top-level comment, comments.insert with
        `snippet.parentId` for a reply; the answer's comment id."""
        if comment.parent_platform_comment_id is None:
            resource = {
                "snippet": {
                    "videoId": post.remote_id,
                    "topLevelComment": {"snippet": {"textOriginal": comment.text}},
                }
            }
            path = "commentThreads"
        else:
            resource = {
                "snippet": {
                    "parentId": comment.parent_platform_comment_id,
                    "textOriginal": comment.text,
                }
            }
            path = "comments"
        response = await self._comments_call(
            ctx, "POST", path, creates=True, params={"part": "snippet"}, json=resource
        )
        made = response.json()
        if path == "commentThreads":
            made = made["snippet"]["topLevelComment"]
        return str(made["id"])

    async def find_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str | None:
        """The channel's comment with this text: among the parent's replies, or among the
        video's newest top-level comments."""
        parent = comment.parent_platform_comment_id
        me = ctx.account.external_id
        if parent is not None:
            found: Sequence[kit.RemoteComment] = [
                _comment(reply, parent, me) for reply in await self._replies(ctx, parent)
            ]
        else:
            listed = await self.list_comments(ctx, post, None)
            found = [] if isinstance(listed, kit.PostGone) else listed
        for candidate in found:
            if (
                candidate.is_author
                and candidate.parent_platform_comment_id == parent
                and candidate.text.strip() == comment.text.strip()
            ):
                return candidate.platform_comment_id
        return None


class _VideoGone(kit.Permanent):
    """YouTube says the video is not there (deleted, or made private by its owner)."""


def _comment(resource: dict[str, Any], parent: str | None, me: str) -> kit.RemoteComment:
    snippet = resource.get("snippet") or {}
    author = str((snippet.get("authorChannelId") or {}).get("value") or "")
    return kit.RemoteComment(
        platform_comment_id=str(resource["id"]),
        parent_platform_comment_id=parent,
        text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
        # YouTube always sends publishedAt; when first seen if it ever does not.
        created_at=parse_time(snippet.get("publishedAt")) or utcnow(),
        is_author=author == me,
        author_id=author or None,
        author_name=snippet.get("authorDisplayName"),
    )


class _ServerBusy(Exception):
    """A 5xx in the middle of an upload: the session stays valid; ask it and resume."""


def _received(response: httpx.Response) -> int:
    """The next offset from a 308's `Range: bytes=0-N` (no Range: nothing received yet)."""
    value = response.headers.get("range", "")
    if not value.startswith("bytes=0-"):
        return 0
    return int(value.removeprefix("bytes=0-")) + 1


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> YouTubePublisher:
    return YouTubePublisher(
        api_url=settings.youtube_api_url,
        token_url=settings.youtube_token_url,
        app=SPEC.oauth_app(settings),
        transport=transport,
    )


RULES = kit.PlatformRules(
    name="youtube",
    content_platforms=("youtube",),
    # PR, BR 3 (fn2 client): the description is ≤ 5000 bytes, without < or >.
    text_limits=(kit.TextLimit(5000, kit.Count.UTF8_BYTES),),
    text_forbidden_chars="<>",
    media=kit.MediaCount(1, 1),  # PR: exactly 1 video
    # PR: exactly one video; YouTube takes MP4, MOV and WebM.
    files=kit.FileRules(image_types=frozenset(), max_videos=1),
    fields=(
        # PR, BR 3: title 1–100 characters, no < or >.
        kit.FieldRule(
            "title",
            kit.Kind.STRING,
            required=True,
            non_blank=True,
            max_length=100,
            forbidden_chars="<>",
        ),
        kit.FieldRule(
            "privacyStatus",
            kit.Kind.ENUM,
            required=True,
            choices=("private", "public", "unlisted"),
        ),
        kit.boolean("shouldNotifySubscribers", required=True),
        kit.boolean("isMadeForKids"),
        kit.boolean("containsSyntheticMedia"),
        kit.FieldRule("thumbnailUrl", kit.Kind.HTTP_URL),  # BR 3 (newer docs)
        kit.FieldRule("playlistIds", kit.Kind.STRING_LIST),  # BR 3: maximum NOT FOUND
    ),
)
"""What a post to youtube may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="youtube",
    label="YouTube",
    build=build,
    rules=RULES,
    # Playlists are connected subaccounts, but a post names one by `playlistId` unchecked.
    subaccount=Subaccount("playlist"),
    # platform-notes 9: videos.insert has its own bucket, 100 calls a day by default.
    budgets=PlatformBudgets(app=Budget(100, DAY)),
    comments=CommentRules(kit.TextLimit(10_000, kit.Count.CODE_POINTS)),  # contract section 10
)
