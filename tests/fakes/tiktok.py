"""A fake TikTok Content Posting API on 127.0.0.1: Login Kit OAuth with rotating refresh
tokens, user info, creator_info, video init (FILE_UPLOAD and PULL_FROM_URL, direct and inbox),
photo posts, chunked uploads with Content-Range, status polling and faults.

TikTok publishes no machine-readable schema (platform-notes §5, §9), so requests are checked
against the documented fields: required keys and their types, the privacy level among the
creator's options, the chunk rules (`UploadChunks`, the same object the publisher obeys) and
verified URL prefixes for pulls. A request that breaks them is recorded in `invalid` (tests
assert it stays empty) unless the test expects the refusal.

Faults, queued per operation with `fail_next(operation, fault)`; operations `creator_info`,
`init` (any of the three init endpoints), `status`, `chunk`, `token`: `rate_limit` (429
rate_limit_exceeded), `internal` (500 internal_error), `drop_after` (acts, then breaks the
connection), `hang_after` (acts, then answers only after `hang_seconds`). `video_query`
(analytics) takes `rate_limit` and `internal`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from masthead.domain.rules import UploadChunks
from masthead.platforms.tiktok import CHUNKS as TIKTOK_CHUNKS
from tests.fakes.http import Dropped, FakeServer

PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
FAULTS = frozenset({"rate_limit", "internal", "drop_after", "hang_after"})
VIDEO_INFO = {
    "title": str,
    "privacy_level": str,
    "disable_duet": bool,
    "disable_comment": bool,
    "disable_stitch": bool,
    "video_cover_timestamp_ms": int,
    "brand_content_toggle": bool,
    "brand_organic_toggle": bool,
    "is_aigc": bool,
}
PHOTO_INFO = {
    "title": str,
    "description": str,
    "privacy_level": str,
    "disable_comment": bool,
    "auto_add_music": bool,
    "brand_content_toggle": bool,
    "brand_organic_toggle": bool,
}


def envelope(
    data: dict[str, Any], code: str = "ok", message: str = "", status: int = 200
) -> Response:
    return JSONResponse(
        {"data": data, "error": {"code": code, "message": message, "log_id": "202612021234"}},
        status_code=status,
    )


@dataclass
class User:
    open_id: str
    username: str
    display_name: str
    privacy_options: list[str] = field(default_factory=lambda: list(PRIVACY))
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_duration: int = 600


@dataclass
class Publish:
    id: str
    open_id: str
    kind: str
    """video, photo."""
    mode: str
    """direct, inbox."""
    source: dict[str, Any]
    post_info: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    bytes_sent: int = 0
    photos: list[bytes] = field(default_factory=list)
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str | None = None
    post_id: str | None = None


class FakeTikTok(FakeServer):
    name = "fake TikTok"
    first_id = 7_400_000_000_000_000_001
    authorize_path = "/v2/auth/authorize/"

    def __init__(self, *, chunks: UploadChunks = TIKTOK_CHUNKS) -> None:
        super().__init__()
        self.client_id = "masthead-key"  # TikTok calls it the client key
        self.client_secret = "tiktok-shh"
        self.chunks = chunks
        self.users: dict[str, User] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.grants: dict[str, tuple[str, str]] = {}
        self.publishes: dict[str, Publish] = {}
        self.verified_prefixes: tuple[str, ...] = ()
        self.fail_reason: str | None = None
        """When set, finished publishes end FAILED with this reason (spam, moderation)."""
        self.private_post_ids = False
        """When True, published posts show no publicaly_available_post_id (private posts)."""
        self.processing_polls = 1
        self.hang_seconds = 30.0
        self.token_delay = 0.0
        """Seconds the token endpoint thinks before answering (to overlap two refreshes)."""
        self.calls: list[str] = []
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        """Per operation, what each next call does ("" = answer normally)."""
        self.authorize_as: str | None = None
        self.authorize_query: dict[str, str] = {}
        self.videos: dict[str, tuple[str, dict[str, int]]] = {}
        """video id → (owner's open_id, its counts by field name) for video/query."""
        self.video_list_denied: set[str] = set()
        """open_ids whose grant lacks the video.list scope."""
        self.video_query_ids: list[int] = []
        """How many ids each video/query asked for."""
        self._polls: dict[str, int] = defaultdict(int)
        app = Starlette(
            routes=[
                Route("/v2/auth/authorize/", self._authorize, methods=["GET"]),
                Route("/v2/oauth/token/", self._token, methods=["POST"]),
                Route("/v2/user/info/", self._user_info, methods=["GET"]),
                Route("/v2/post/publish/creator_info/query/", self._creator, methods=["POST"]),
                Route("/v2/post/publish/video/init/", self._video_init, methods=["POST"]),
                Route("/v2/post/publish/inbox/video/init/", self._inbox_init, methods=["POST"]),
                Route("/v2/post/publish/content/init/", self._content_init, methods=["POST"]),
                Route("/v2/post/publish/status/fetch/", self._status, methods=["POST"]),
                Route("/upload/{publish_id}", self._chunk, methods=["PUT"]),
                Route("/v2/video/query/", self._video_query, methods=["POST"]),
            ]
        )
        self.use(app)

    # -- lifecycle and helpers ---------------------------------------------------------------

    def add_user(self, username: str, **settings: Any) -> User:
        user = User(f"open-{self.next_id()}", username, username.title(), **settings)
        self.users[user.open_id] = user
        return user

    def issue_tokens(self, user: User) -> dict[str, Any]:
        access, refresh = f"act.{self.next_id()}", f"rft.{self.next_id()}"
        self.tokens[access] = (user.open_id, time.time() + 7200)
        self.refresh_tokens[refresh] = user.open_id
        return {
            "access_token": access,
            "expires_in": 7200,
            "open_id": user.open_id,
            "refresh_token": refresh,
            "refresh_expires_in": 15_552_000,
            "scope": "user.info.basic,user.info.profile,video.publish,video.upload,video.list",
            "token_type": "Bearer",
        }

    def expire_access_tokens(self) -> None:
        for token, (open_id, _) in list(self.tokens.items()):
            self.tokens[token] = (open_id, time.time() - 1)

    def fail_next(self, operation: str, fault: str, *, after: int = 0) -> None:
        """`fault` on the next call of `operation`, or on the one after `after` good calls."""
        assert fault in FAULTS, fault
        self.faults[operation].extend([""] * after + [fault])

    def published(self, user: User) -> list[Publish]:
        """What the creator's profile (or inbox) shows: publishes TikTok finished."""
        return [
            p
            for p in self.publishes.values()
            if p.open_id == user.open_id and p.status in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX")
        ]

    def add_video(self, user: User, **counts: int) -> str:
        """A public video of `user` with these counts (`view_count=12`...); its id."""
        video_id = self.next_id()
        self.videos[video_id] = (user.open_id, dict(counts))
        return video_id

    async def _video_query(self, request: Request) -> Response:
        """POST /v2/video/query/?fields=...: the user's videos among `filters.video_ids` (at
        most 20), with the fields asked for; others are left out of `videos`."""
        fields = [f for f in request.query_params.get("fields", "").split(",") if f]
        unknown = [f for f in fields if f not in VIDEO_QUERY_FIELDS]
        if not fields or unknown:
            return self._refuse("invalid_params", f"Invalid fields: {unknown}", expected=False)
        got = await self._json(request, "video_query")
        if isinstance(got, Response):
            return got
        user, body = got
        if user.open_id in self.video_list_denied:
            return envelope(
                {}, "scope_not_authorized", "The user did not authorize the scope video.list", 401
            )
        ids = (body.get("filters") or {}).get("video_ids") if isinstance(body, dict) else None
        if (
            set(body) - {"filters"}
            or not isinstance(ids, list)
            or not all(isinstance(i, str) for i in ids)
            or not 1 <= len(ids) <= VIDEO_QUERY_MAX_IDS
        ):
            return self._refuse(
                "invalid_params", f"filters.video_ids: 1 to 20 ids, got {body!r}", expected=False
            )
        self.video_query_ids.append(len(ids))
        videos = []
        for video_id in ids:
            owner, video_counts = self.videos.get(video_id, ("", {}))
            if owner != user.open_id:
                continue
            video: dict[str, Any] = {"id": video_id, **video_counts}
            videos.append({k: v for k, v in video.items() if k in fields})
        return envelope({"videos": videos, "cursor": 0, "has_more": False})

    def _fault(self, operation: str) -> str | None:
        queue = self.faults[operation]
        return queue.popleft() if queue else None

    def _refuse(
        self, code: str, message: str, status: int = 400, *, expected: bool = True
    ) -> Response:
        if not expected:
            self.invalid.append(f"{code}: {message}")
        return envelope({}, code, message, status)

    # -- OAuth -------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_query = q
        if q.get("client_key") != self.client_id or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        back = {"state": q.get("state", "")}
        if self.authorize_as is None:
            back["error"] = "access_denied"
        else:
            code = f"code-{self.next_id()}"
            self.grants[code] = (self.authorize_as, q["redirect_uri"])
            back["code"] = code
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        self.calls.append("token")
        await asyncio.sleep(self.token_delay)
        if (
            form.get("client_key") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is incorrect.",
                }
            )
        invalid = JSONResponse(
            {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired."}
        )
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.grants.pop(form.get("code", ""), None)
                if (
                    grant is None
                    or grant[1] != form.get("redirect_uri")
                    or not form.get("code_verifier")
                ):
                    return invalid
                return JSONResponse(self.issue_tokens(self.users[grant[0]]))
            if form.get("grant_type") == "refresh_token":
                open_id = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if open_id is None:  # rotated: a spent refresh token is refused
                    return invalid
                return JSONResponse(self.issue_tokens(self.users[open_id]))
        return invalid

    def _auth(self, request: Request) -> User | Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        found = self.tokens.get(token)
        if found is None or found[1] < time.time():
            return envelope(
                {}, "access_token_invalid", "The access token is invalid or not found.", 401
            )
        return self.users[found[0]]

    async def _json(
        self, request: Request, operation: str
    ) -> tuple[User, dict[str, Any]] | Response:
        user = self._auth(request)
        if isinstance(user, Response):
            return user
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self._refuse("invalid_params", "Content-Type must be JSON", expected=False)
        self.calls.append(operation)
        fault = self._fault(operation)
        if fault == "rate_limit":
            headers = {"Retry-After": "1"}
            answer = envelope({}, "rate_limit_exceeded", "API rate limit exceeded", 429)
            answer.headers.update(headers)
            return answer
        if fault == "internal":
            return envelope({}, "internal_error", "Something went wrong", 500)
        if fault:
            self.faults[operation].appendleft(fault)  # acted on below, answered by _after
        body = await request.json()
        return user, body

    async def _after(self, operation: str, answer: Response) -> Response:
        queue = self.faults[operation]
        fault = queue.popleft() if queue and queue[0] in ("drop_after", "hang_after") else None
        if fault == "hang_after":
            await asyncio.sleep(self.hang_seconds)
        if fault is not None:
            return Dropped(200, b'{"data":')
        return answer

    # -- API ---------------------------------------------------------------------------------

    async def _user_info(self, request: Request) -> Response:
        user = self._auth(request)
        if isinstance(user, Response):
            return user
        fields = set(request.query_params.get("fields", "").split(","))
        info = {
            "open_id": user.open_id,
            "union_id": f"union-{user.open_id}",
            "avatar_url": f"https://p16.tiktokcdn.example/{user.open_id}.jpeg",
            "display_name": user.display_name,
            "username": user.username,
        }
        return envelope({"user": {k: v for k, v in info.items() if k in fields}})

    async def _creator(self, request: Request) -> Response:
        got = await self._json(request, "creator_info")
        if isinstance(got, Response):
            return got
        user, _ = got
        return envelope(
            {
                "creator_avatar_url": f"https://p16.tiktokcdn.example/{user.open_id}.jpeg",
                "creator_username": user.username,
                "creator_nickname": user.display_name,
                "privacy_level_options": user.privacy_options,
                "comment_disabled": user.comment_disabled,
                "duet_disabled": user.duet_disabled,
                "stitch_disabled": user.stitch_disabled,
                "max_video_post_duration_sec": user.max_duration,
            }
        )

    def _check_info(self, user: User, info: Any, fields: dict[str, type]) -> Response | None:
        if not isinstance(info, dict):
            return self._refuse("invalid_params", "post_info is required", expected=False)
        for key, value in info.items():
            if key not in fields or type(value) is not fields[key]:
                return self._refuse("invalid_params", f"post_info.{key} is invalid", expected=False)
        if info.get("privacy_level") not in user.privacy_options:
            return self._refuse(
                "privacy_level_option_mismatch",
                "privacy_level is not one of the creator's privacy_level_options",
            )
        return None

    async def _video_init(self, request: Request) -> Response:
        got = await self._json(request, "init")
        if isinstance(got, Response):
            return got
        user, body = got
        refused = self._check_info(user, body.get("post_info"), VIDEO_INFO)
        return refused or await self._start_video(user, body, "direct")

    async def _inbox_init(self, request: Request) -> Response:
        got = await self._json(request, "init")
        if isinstance(got, Response):
            return got
        user, body = got
        if set(body) != {"source_info"}:
            return self._refuse(
                "invalid_params", "inbox init takes source_info only", expected=False
            )
        return await self._start_video(user, body, "inbox")

    async def _start_video(self, user: User, body: dict[str, Any], mode: str) -> Response:
        source = body.get("source_info") or {}
        publish = Publish(
            f"v_pub_file~v2-1.{self.next_id()}",
            user.open_id,
            "video",
            mode,
            source,
            body.get("post_info") or {},
        )
        data: dict[str, Any] = {"publish_id": publish.id}
        if source.get("source") == "FILE_UPLOAD":
            problem = self._chunk_problem(source)
            if problem:
                return self._refuse("invalid_params", problem, expected=False)
            data["upload_url"] = f"{self.url}/upload/{publish.id}"
            self.publishes[publish.id] = publish
        elif source.get("source") == "PULL_FROM_URL":
            url = str(source.get("video_url", ""))
            if not url.startswith(self.verified_prefixes) or not self.verified_prefixes:
                return self._refuse(
                    "url_ownership_unverified", "Please verify the URL ownership.", 403
                )
            self.publishes[publish.id] = publish
            publish.status = "PROCESSING_DOWNLOAD"
            async with httpx.AsyncClient() as client:
                publish.data += (await client.get(url)).content
            self._finish(publish)
        else:
            return self._refuse("invalid_params", "source_info.source is invalid", expected=False)
        return await self._after("init", envelope(data))

    def _chunk_problem(self, source: dict[str, Any]) -> str | None:
        size, chunk, count = (
            source.get("video_size"),
            source.get("chunk_size"),
            source.get("total_chunk_count"),
        )
        if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
            return "video_size, chunk_size and total_chunk_count are required integers"
        assert isinstance(size, int) and isinstance(chunk, int) and isinstance(count, int)
        rules = self.chunks
        if size < rules.minimum and (chunk != size or count != 1):
            return "a video under the minimum chunk size is uploaded whole"
        if count != max(1, size // chunk):
            return "total_chunk_count must be video_size // chunk_size"
        if count > 1 and not rules.minimum <= chunk <= rules.maximum:
            return "chunk_size out of range"
        if size - (count - 1) * chunk > rules.last_maximum:
            return "the last chunk is too large"
        return None

    async def _content_init(self, request: Request) -> Response:
        got = await self._json(request, "init")
        if isinstance(got, Response):
            return got
        user, body = got
        mode = {"DIRECT_POST": "direct", "MEDIA_UPLOAD": "inbox"}.get(body.get("post_mode", ""))
        if body.get("media_type") != "PHOTO" or mode is None:
            return self._refuse("invalid_params", "media_type/post_mode invalid", expected=False)
        info = body.get("post_info")
        if mode == "direct":
            refused = self._check_info(user, info, PHOTO_INFO)
            if refused:
                return refused
        source = body.get("source_info") or {}
        images = source.get("photo_images") or []
        if source.get("source") != "PULL_FROM_URL" or not 1 <= len(images) <= 35:
            return self._refuse("invalid_params", "photo_images invalid", expected=False)
        if not self.verified_prefixes or not all(
            str(u).startswith(self.verified_prefixes) for u in images
        ):
            return self._refuse("url_ownership_unverified", "Please verify the URL ownership.", 403)
        publish = Publish(
            f"p_pub_url~v2.{self.next_id()}", user.open_id, "photo", mode, source, info or {}
        )
        async with httpx.AsyncClient() as client:
            for url in images:
                answer = await client.get(str(url))
                if answer.status_code != 200 or answer.headers.get("content-type") not in (
                    "image/jpeg",
                    "image/webp",
                ):
                    publish.fail_reason = "picture_size_check_failed"
                publish.photos.append(answer.content)
        self.publishes[publish.id] = publish
        self._finish(publish)
        return await self._after("init", envelope({"publish_id": publish.id}))

    async def _chunk(self, request: Request) -> Response:
        publish = self.publishes.get(request.path_params["publish_id"])
        if publish is None:
            return Response(status_code=404)
        body = await request.body()
        self.calls.append("chunk")
        span = request.headers.get("content-range", "")
        first, _, rest = span.removeprefix("bytes ").partition("-")
        last, _, total = rest.partition("/")
        size = publish.source["video_size"]
        chunk = publish.source["chunk_size"]
        count = publish.source["total_chunk_count"]
        start = int(first) if first.isdigit() else -1
        index = start // chunk if start >= 0 else -1
        expected_len = chunk if index < count - 1 else size - (count - 1) * chunk
        if (
            total != str(size)
            or start != len(publish.data)
            or start % chunk
            or len(body) != expected_len
            or int(last or -1) != start + len(body) - 1
        ):
            if start < len(publish.data) and publish.status != "PROCESSING_UPLOAD":
                publish.bytes_sent += len(body)
                return Response(status_code=201)  # a repeat of a finished upload: no effect
            self.invalid.append(f"chunk {span} ({len(body)} bytes) after {len(publish.data)}")
            return self._refuse("invalid_params", f"bad Content-Range {span}", expected=True)
        fault = self._fault("chunk")
        if fault == "internal":
            return Response(status_code=500)
        publish.data += body
        publish.bytes_sent += len(body)
        if len(publish.data) < size:
            return Response(status_code=206)
        self._finish(publish)
        if fault in ("drop_after", "hang_after"):
            if fault == "hang_after":
                await asyncio.sleep(self.hang_seconds)
            return Dropped(200, b'{"data":')
        return Response(status_code=201)

    def _finish(self, publish: Publish) -> None:
        """The upload or download is complete: TikTok processes, then publishes or fails."""
        self._polls[publish.id] = 0
        publish.status = "PROCESSING"

    def _settle(self, publish: Publish) -> None:
        if publish.status != "PROCESSING":
            return
        self._polls[publish.id] += 1
        if self._polls[publish.id] <= self.processing_polls:
            return
        reason = publish.fail_reason or self.fail_reason
        if reason:
            publish.status, publish.fail_reason = "FAILED", reason
        elif publish.mode == "inbox":
            publish.status = "SEND_TO_USER_INBOX"
        else:
            publish.status = "PUBLISH_COMPLETE"
            private = self.private_post_ids or publish.post_info.get("privacy_level") == "SELF_ONLY"
            publish.post_id = None if private else self.next_id()

    async def _status(self, request: Request) -> Response:
        got = await self._json(request, "status")
        if isinstance(got, Response):
            return got
        user, body = got
        publish = self.publishes.get(str(body.get("publish_id")))
        if publish is None or publish.open_id != user.open_id:
            return self._refuse("invalid_params", "publish_id not found")
        self._settle(publish)
        shown = (
            "PROCESSING_UPLOAD"
            if publish.status == "PROCESSING" and publish.kind == "video"
            else publish.status
        )
        if publish.status == "PROCESSING" and publish.kind == "photo":
            shown = "PROCESSING_DOWNLOAD"
        data: dict[str, Any] = {"status": shown, "uploaded_bytes": len(publish.data)}
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        if publish.post_id:
            data["publicaly_available_post_id"] = [int(publish.post_id)]
        return envelope(data)


VIDEO_QUERY_FIELDS = frozenset(
    {"id", "create_time", "cover_image_url", "share_url", "video_description", "duration"}
    | {"height", "width", "title", "embed_html", "embed_link"}
    | {"like_count", "comment_count", "share_count", "view_count"}
)
"""The Video object's fields (Display API reference, `video/query`)."""
VIDEO_QUERY_MAX_IDS = 20
