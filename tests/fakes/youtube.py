"""A fake YouTube Data API v3 and Google OAuth on 127.0.0.1: channels, playlists, resumable
video uploads (308 + Range, `bytes */total` status queries), thumbnails and faults.

Every API request is checked against the official discovery document
(`../shared/specs/youtube/.../youtube.v3.json`): the method's path, its query parameters
(known, required ones present, booleans and integers well formed) and the JSON body against
the method's request schema (no unknown properties, types and enums as declared). A request
that does not conform is answered 400 and recorded in `invalid`, which tests assert is empty.

Each upload session counts every byte it is sent, so tests can assert that a resumed upload
sent each byte once, and each completed session makes exactly one video.
Faults are queued per operation with `fail_next(operation, fault)`; operations: `insert`
(opening a session), `upload` (a PUT of bytes), `thumbnail`, `playlistItems`, `token`, and for
comments `commentThreads.list`, `commentThreads.insert`, `comments.list`, `comments.insert`
(whose answers are checked against the discovery document's schemas too).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.http import Dropped, FakeServer

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
DISCOVERY = (
    SPECS / "youtube" / "googleapiclient" / "discovery_cache" / "documents" / "youtube.v3.json"
)
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
FULL_SCOPE = "https://www.googleapis.com/auth/youtube"
COMMENTS_SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
"""The only scope the discovery document names for commentThreads and comments."""
INLINE_REPLIES = 5
"""A comment thread carries at most this many of its replies; comments.list has them all."""
FAULTS = frozenset(
    {
        "quota",
        "unavailable",
        "break_half",
        "hang_half",
        "drop_after_complete",
        "server_error",
        "drop_after",
    }
)
"""quota: 403 quotaExceeded; unavailable: 503 before acting; break_half: an upload PUT whose
first half is stored before the connection breaks; hang_half: the same, but the answer never
comes (long enough for a test to kill the client); drop_after_complete: the last PUT completes
the video, then the connection breaks before the answer; server_error: 503 to a PUT, nothing
stored; drop_after: a comment insert acts, then the connection breaks before the answer."""
METRICS_FAULTS = frozenset({"rate_limit"})
"""Faults of `videos.list` (operation `videos`); rate_limit: 429 rateLimitExceeded with
Retry-After. `quota` and `unavailable` apply there too."""
VIDEOS_LIST_MAX_IDS = 50


@cache
def discovery() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(DISCOVERY.read_text())
    return result


def google_error(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": "youtube.quota", "reason": reason, "message": message}],
            }
        },
        status_code=status,
    )


def quota_exceeded() -> JSONResponse:
    return google_error(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your quota.",
    )


def _schema_errors(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    """A discovery schema check: $ref, types, enums, unknown properties."""
    doc = discovery()
    if "$ref" in schema:
        schema = doc["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where} is not an object"]
        errors: list[str] = []
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += _schema_errors(item, properties[key], f"{where}.{key}")
            elif "additionalProperties" in schema:
                errors += _schema_errors(item, schema["additionalProperties"], f"{where}.{key}")
            else:
                errors.append(f"{where}.{key} is not a property of the schema")
        return errors
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where} is not a string"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}={value!r} is not one of {schema['enum']}"]
        return []
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{where} is not a boolean"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where} is not an array"]
        return [e for i, v in enumerate(value) for e in _schema_errors(v, schema["items"], where)]
    return []


def validate(resource: str, method: str, query: dict[str, str], body: Any) -> list[str]:
    """The request against the discovery document's description of `resource.method`."""
    doc = discovery()
    spec = doc["resources"][resource]["methods"][method]
    params = spec.get("parameters", {})
    errors = []
    for name, value in query.items():
        described = params.get(name) or doc["parameters"].get(name)
        if described is None:
            errors.append(f"unknown query parameter {name}")
        elif described["type"] == "boolean" and value not in ("true", "false"):
            errors.append(f"{name}={value!r} is not a boolean")
        elif described["type"] == "integer" and not value.isdigit():
            errors.append(f"{name}={value!r} is not an integer")
    errors += [
        f"missing required {n}" for n, p in params.items() if p.get("required") and n not in query
    ]
    if "request" in spec:
        errors += _schema_errors(body, spec["request"], spec["request"]["$ref"])
    return errors


@dataclass
class Channel:
    id: str
    title: str
    handle: str


@dataclass
class Session:
    id: str
    channel_id: str
    resource: dict[str, Any]
    notify: bool
    total: int
    content_type: str
    data: bytearray = field(default_factory=bytearray)
    bytes_sent: int = 0
    """Every byte any PUT carried, duplicates included."""
    video_id: str | None = None


@dataclass
class Video:
    id: str
    channel_id: str
    resource: dict[str, Any]
    data: bytes
    notify: bool
    thumbnail: bytes | None = None


@dataclass
class Comment:
    id: str
    video_id: str
    author_channel_id: str
    author_name: str
    text: str
    parent_id: str | None
    published_at: str


class FakeYouTube(FakeServer):
    name = "fake YouTube"
    authorize_path = "/o/oauth2/v2/auth"

    def __init__(self, *, client_id: str = "masthead.apps.googleusercontent.com") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = "google-shh"
        self.channels: dict[str, Channel] = {}
        self.playlists: dict[str, tuple[str, str, list[str]]] = {}
        """id → (channel id, title, video ids)."""
        self.tokens: dict[str, tuple[str, float, tuple[str, ...]]] = {}
        self.refresh_tokens: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.grants: dict[str, tuple[str, str, str, tuple[str, ...]]] = {}
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, Video] = {}
        self.comments: dict[str, Comment] = {}
        self.comments_off: set[str] = set()
        """Videos whose owner turned comments off."""
        self.calls: list[str] = []
        self.faults: dict[str, deque[list[Any]]] = defaultdict(deque)
        self.authorize_as: str | None = None
        self.authorize_query: dict[str, str] = {}
        self.hang_seconds = 30.0
        self.statistics: dict[str, dict[str, str]] = {}
        """video id → its VideoStatistics as videos.list answers them (set by tests)."""
        self.videos_list_ids: list[int] = []
        """How many ids each videos.list request asked for."""
        app = Starlette(
            routes=[
                Route("/o/oauth2/v2/auth", self._authorize, methods=["GET"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/youtube/v3/channels", self._channels, methods=["GET"]),
                Route("/youtube/v3/playlists", self._playlists, methods=["GET"]),
                Route("/youtube/v3/playlistItems", self._playlist_items, methods=["GET", "POST"]),
                Route("/upload/youtube/v3/videos", self._insert, methods=["POST", "PUT"]),
                Route("/upload/youtube/v3/thumbnails/set", self._thumbnail, methods=["POST"]),
                Route("/youtube/v3/videos", self._videos_list, methods=["GET"]),
                Route("/youtube/v3/commentThreads", self._comment_threads, methods=["GET", "POST"]),
                Route("/youtube/v3/comments", self._comments, methods=["GET", "POST"]),
            ]
        )
        self.use(app)

    # -- lifecycle and helpers ---------------------------------------------------------------

    def start(self) -> None:
        discovery()
        super().start()

    def _next(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):06d}"

    def add_channel(self, title: str, *playlists: str) -> Channel:
        channel = Channel(self._next("UC"), title, f"@{title.lower().replace(' ', '')}")
        self.channels[channel.id] = channel
        for name in playlists:
            self.playlists[self._next("PL")] = (channel.id, name, [])
        return channel

    def issue_tokens(
        self,
        channel: Channel,
        scopes: tuple[str, ...] = (UPLOAD_SCOPE, FULL_SCOPE, COMMENTS_SCOPE),
    ) -> dict[str, Any]:
        access, refresh = self._next("ya29."), self._next("1//")
        self.tokens[access] = (channel.id, time.time() + 3599, scopes)
        self.refresh_tokens[refresh] = (channel.id, scopes)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 3599,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }

    def expire_access_tokens(self) -> None:
        for token, (channel, _, scopes) in list(self.tokens.items()):
            self.tokens[token] = (channel, time.time() - 1, scopes)

    def fail_next(self, operation: str, fault: str, *, after: int = 0) -> None:
        """`fault` on the next call of `operation`, or on the one after `after` good calls."""
        assert fault in FAULTS | METRICS_FAULTS, fault
        self.faults[operation].append([after, fault])

    def comment(
        self, video: Video, author: Channel, text: str, *, parent: str | None = None
    ) -> Comment:
        """`author` comments on `video` in the app (or replies to the comment `parent`)."""
        comment = Comment(
            self._next("Ug"),
            video.id,
            author.id,
            author.title,
            text,
            parent,
            datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        )
        self.comments[comment.id] = comment
        return comment

    def videos_of(self, channel: Channel) -> list[Video]:
        return [v for v in self.videos.values() if v.channel_id == channel.id]

    def _fault(self, operation: str) -> str | None:
        queue = self.faults[operation]
        if not queue:
            return None
        if queue[0][0] > 0:
            queue[0][0] -= 1
            return None
        return str(queue.popleft()[1])

    # -- OAuth -------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_query = q
        if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        back = {"state": q.get("state", "")}
        if self.authorize_as is None:
            back["error"] = "access_denied"
        else:
            code = self._next("4/")
            scopes = tuple(q.get("scope", "").split())
            self.grants[code] = (self.authorize_as, q["redirect_uri"], q["code_challenge"], scopes)
            back["code"] = code
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        self.calls.append("token")
        invalid = JSONResponse(
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
            status_code=400,
        )
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.grants.pop(form.get("code", ""), None)
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if grant is None or grant[1] != form.get("redirect_uri") or grant[2] != challenge:
                    return invalid
                return JSONResponse(self.issue_tokens(self.channels[grant[0]], grant[3]))
            if form.get("grant_type") == "refresh_token":
                found = self.refresh_tokens.get(form.get("refresh_token", ""))
                if found is None:
                    return invalid
                body = self.issue_tokens(self.channels[found[0]], found[1])
                self.refresh_tokens.pop(body.pop("refresh_token"))  # Google keeps the old one
                return JSONResponse(body)
        return invalid

    def _auth(self, request: Request, scope: str) -> str | Response:
        header = request.headers.get("authorization", "")
        found = self.tokens.get(header.removeprefix("Bearer "))
        if found is None or found[1] < time.time():
            return google_error(401, "authError", "Invalid Credentials")
        if scope not in found[2] and FULL_SCOPE not in found[2]:
            return google_error(403, "insufficientPermissions", "Insufficient Permission")
        return found[0]

    def _check(self, resource: str, method: str, request: Request, body: Any) -> Response | None:
        errors = validate(resource, method, dict(request.query_params), body)
        if errors:
            self.invalid += errors
            return google_error(400, "invalid", "; ".join(errors))
        return None

    # -- API ---------------------------------------------------------------------------------

    async def _channels(self, request: Request) -> Response:
        refused = self._check("channels", "list", request, None)
        channel_id = self._auth(request, FULL_SCOPE)
        if refused or isinstance(channel_id, Response):
            return refused or channel_id  # type: ignore[return-value]
        channel = self.channels[channel_id]
        snippet = {
            "title": channel.title,
            "customUrl": channel.handle,
            "thumbnails": {"default": {"url": f"https://yt3.example/{channel.id}.jpg"}},
        }
        return JSONResponse({"items": [{"id": channel.id, "snippet": snippet}]})

    async def _playlists(self, request: Request) -> Response:
        refused = self._check("playlists", "list", request, None)
        channel_id = self._auth(request, FULL_SCOPE)
        if refused or isinstance(channel_id, Response):
            return refused or channel_id  # type: ignore[return-value]
        items = [
            {"id": pid, "snippet": {"title": title}}
            for pid, (owner, title, _) in self.playlists.items()
            if owner == channel_id
        ]
        start = int(request.query_params.get("pageToken") or 0)
        size = int(request.query_params.get("maxResults") or 5)
        body: dict[str, Any] = {"items": items[start : start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return JSONResponse(body)

    async def _playlist_items(self, request: Request) -> Response:
        payload = json.loads(await request.body() or b"null")
        method = "insert" if request.method == "POST" else "list"
        refused = self._check("playlistItems", method, request, payload)
        channel_id = self._auth(request, FULL_SCOPE)
        if refused or isinstance(channel_id, Response):
            return refused or channel_id  # type: ignore[return-value]
        self.calls.append(f"playlistItems.{method}")
        if method == "list":
            found = self.playlists.get(request.query_params.get("playlistId", ""))
            video = request.query_params.get("videoId")
            ids = [v for v in (found[2] if found else []) if v == video]
            return JSONResponse({"items": [{"id": f"{video}-item"} for _ in ids]})
        snippet = payload["snippet"]
        playlist = self.playlists.get(snippet["playlistId"])
        if playlist is None or playlist[0] != channel_id:
            return google_error(404, "playlistNotFound", "Playlist not found.")
        playlist[2].append(snippet["resourceId"]["videoId"])
        return JSONResponse({"id": self._next("PLI"), "snippet": snippet})

    async def _insert(self, request: Request) -> Response:
        if request.method == "PUT":
            return await self._upload(request)
        payload = json.loads(await request.body() or b"null")
        query = {k: v for k, v in request.query_params.items() if k != "upload_id"}
        errors = validate("videos", "insert", query, payload)
        if query.get("uploadType") != "resumable":
            errors.append("only resumable uploads are expected")
        if errors:
            self.invalid += errors
            return google_error(400, "invalid", "; ".join(errors))
        channel_id = self._auth(request, UPLOAD_SCOPE)
        if isinstance(channel_id, Response):
            return channel_id
        self.calls.append("insert")
        fault = self._fault("insert")
        if fault == "quota":
            return quota_exceeded()
        if fault == "unavailable":
            answer = google_error(503, "backendError", "Backend Error")
            answer.headers["Retry-After"] = "1"
            return answer
        total = request.headers.get("x-upload-content-length", "")
        if not total.isdigit():
            self.invalid.append("X-Upload-Content-Length missing")
            return google_error(400, "invalid", "X-Upload-Content-Length missing")
        session = Session(
            self._next("up"),
            channel_id,
            payload,
            query.get("notifySubscribers", "true") == "true",
            int(total),
            request.headers.get("x-upload-content-type", "video/*"),
        )
        self.sessions[session.id] = session
        location = (
            f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={session.id}"
        )
        return Response(status_code=200, headers={"Location": location})

    def _incomplete(self, session: Session) -> Response:
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return Response(status_code=308, headers=headers)

    async def _upload(self, request: Request) -> Response:
        session = self.sessions.get(request.query_params.get("upload_id", ""))
        channel_id = self._auth(request, UPLOAD_SCOPE)
        if isinstance(channel_id, Response):
            return channel_id
        if session is None:
            return google_error(404, "notFound", "Upload session not found")
        body = await request.body()
        self.calls.append("upload")
        span = request.headers.get("content-range", "")
        if span == f"bytes */{session.total}":  # a status query
            if session.video_id:
                return JSONResponse(self.videos[session.video_id].resource, status_code=200)
            return self._incomplete(session)
        first, _, last = span.removeprefix("bytes ").partition("/")[0].partition("-")
        if (
            not first.isdigit()
            or int(first) != len(session.data)
            or len(body) != int(last) - int(first) + 1
        ):
            self.invalid.append(f"PUT {span} does not continue at byte {len(session.data)}")
            return google_error(400, "invalid", f"bad Content-Range {span}")
        fault = self._fault("upload")
        if fault == "server_error":
            return google_error(503, "backendError", "Backend Error")
        if fault in ("break_half", "hang_half"):
            keep = body[: len(body) // 2]
            session.data += keep
            session.bytes_sent += len(keep)
            if fault == "hang_half":
                await asyncio.sleep(self.hang_seconds)
            return Dropped(308, b'{"kind":')
        session.data += body
        session.bytes_sent += len(body)
        if len(session.data) < session.total:
            return self._incomplete(session)
        video = self._create(session)
        if fault == "drop_after_complete":
            return Dropped(200, b'{"kind":')
        return JSONResponse(video.resource, status_code=200)

    def _create(self, session: Session) -> Video:
        video_id = self._next("vid")
        resource = {
            "kind": "youtube#video",
            "id": video_id,
            "snippet": {**session.resource.get("snippet", {}), "channelId": session.channel_id},
            "status": {**session.resource.get("status", {}), "uploadStatus": "uploaded"},
        }
        video = Video(video_id, session.channel_id, resource, bytes(session.data), session.notify)
        self.videos[video_id] = video
        session.video_id = video_id
        return video

    # -- comments ----------------------------------------------------------------------------

    def _comment_resource(self, comment: Comment) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "videoId": comment.video_id,
            "channelId": self.videos[comment.video_id].channel_id,
            "textDisplay": comment.text,
            "textOriginal": comment.text,
            "authorDisplayName": comment.author_name,
            "authorChannelId": {"value": comment.author_channel_id},
            "publishedAt": comment.published_at,
            "updatedAt": comment.published_at,
        }
        if comment.parent_id is not None:
            snippet["parentId"] = comment.parent_id
        return {"kind": "youtube#comment", "id": comment.id, "snippet": snippet}

    def _replies_of(self, comment_id: str) -> list[Comment]:
        return [c for c in self.comments.values() if c.parent_id == comment_id]

    def _thread_resource(self, top: Comment) -> dict[str, Any]:
        replies = self._replies_of(top.id)
        thread: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "id": top.id,
            "snippet": {
                "videoId": top.video_id,
                "channelId": self.videos[top.video_id].channel_id,
                "topLevelComment": self._comment_resource(top),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            },
        }
        if replies:
            inline = [self._comment_resource(c) for c in replies[:INLINE_REPLIES]]
            thread["replies"] = {"comments": inline}
        return thread

    def _answer(self, schema: str, body: dict[str, Any]) -> Response:
        """A successful answer, checked against the discovery document's schema."""
        self.invalid += [f"answer: {e}" for e in _schema_errors(body, {"$ref": schema}, schema)]
        return JSONResponse(body)

    def _listed(self, schema: str, items: list[dict[str, Any]], q: Mapping[str, str]) -> Response:
        """One page of `items` (`pageToken` is the offset), as a list response."""
        start, size = int(q.get("pageToken") or 0), int(q.get("maxResults") or 20)
        kind = "youtube#" + schema[0].lower() + schema[1:]
        body: dict[str, Any] = {"kind": kind, "items": items[start : start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return self._answer(schema, body)

    def _comment_call(
        self, resource: str, request: Request, payload: Any
    ) -> tuple[str, str | None] | Response:
        """(caller's channel id, fault left for the handler) of a valid, authorised comments
        call, else the refusal."""
        method = "insert" if request.method == "POST" else "list"
        operation = f"{resource}.{method}"
        self.calls.append(operation)
        refused = self._check(resource, method, request, payload)
        if refused is not None:
            return refused
        header = request.headers.get("authorization", "")
        found = self.tokens.get(header.removeprefix("Bearer "))
        if found is None or found[1] < time.time():
            return google_error(401, "authError", "Invalid Credentials")
        if COMMENTS_SCOPE not in found[2]:
            return google_error(403, "insufficientPermissions", "Insufficient Permission")
        fault = self._fault(operation)
        if fault == "quota":
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            )
        if fault == "unavailable":
            return google_error(503, "backendError", "Backend Error")
        return found[0], fault

    def _video_refusal(self, video_id: str) -> Response | None:
        if video_id not in self.videos:
            return google_error(
                404,
                "videoNotFound",
                "The video identified by the <code>videoId</code> parameter could not be found.",
            )
        if video_id in self.comments_off:
            return google_error(
                403,
                "commentsDisabled",
                "The video identified by the <code>videoId</code> parameter has disabled comments.",
            )
        return None

    def _made(self, fault: str | None, schema: str, body: dict[str, Any]) -> Response:
        """The answer to an insert, or a broken connection after acting (`drop_after`)."""
        if fault == "drop_after":
            return Dropped(200, b'{"kind":')
        return self._answer(schema, body)

    async def _comment_threads(self, request: Request) -> Response:
        payload = json.loads(await request.body() or b"null")
        call = self._comment_call("commentThreads", request, payload)
        if isinstance(call, Response):
            return call
        channel_id, fault = call
        if request.method == "POST":
            snippet = payload["snippet"]
            refused = self._video_refusal(snippet["videoId"])
            if refused is not None:
                return refused
            text = snippet["topLevelComment"]["snippet"]["textOriginal"]
            top = self.comment(self.videos[snippet["videoId"]], self.channels[channel_id], text)
            return self._made(fault, "CommentThread", self._thread_resource(top))
        q = request.query_params
        refused = self._video_refusal(q["videoId"])
        if refused is not None:
            return refused
        tops = [
            c
            for c in reversed(self.comments.values())
            if c.video_id == q["videoId"] and c.parent_id is None
        ]
        return self._listed(
            "CommentThreadListResponse", [self._thread_resource(c) for c in tops], q
        )

    async def _comments(self, request: Request) -> Response:
        payload = json.loads(await request.body() or b"null")
        call = self._comment_call("comments", request, payload)
        if isinstance(call, Response):
            return call
        channel_id, fault = call
        if request.method == "POST":
            snippet = payload["snippet"]
            parent = self.comments.get(snippet["parentId"])
            if parent is None or parent.video_id not in self.videos:
                return google_error(
                    404,
                    "parentCommentNotFound",
                    "The parent comment specified for the comment could not be found.",
                )
            refused = self._video_refusal(parent.video_id)
            if refused is not None:
                return refused
            reply = self.comment(
                self.videos[parent.video_id],
                self.channels[channel_id],
                snippet["textOriginal"],
                parent=parent.id,
            )
            return self._made(fault, "Comment", self._comment_resource(reply))
        q = request.query_params
        replies = self._replies_of(q["parentId"])
        return self._listed("CommentListResponse", [self._comment_resource(c) for c in replies], q)

    async def _thumbnail(self, request: Request) -> Response:
        body = await request.body()
        refused = self._check("thumbnails", "set", request, None)
        channel_id = self._auth(request, UPLOAD_SCOPE)
        if refused or isinstance(channel_id, Response):
            return refused or channel_id  # type: ignore[return-value]
        self.calls.append("thumbnail")
        video = self.videos.get(request.query_params.get("videoId", ""))
        if video is None or video.channel_id != channel_id:
            return google_error(404, "videoNotFound", "Video not found.")
        video.thumbnail = body
        return JSONResponse({"kind": "youtube#thumbnailSetResponse", "items": [{}]})

    # -- analytics ---------------------------------------------------------------------------

    async def _videos_list(self, request: Request) -> Response:
        """videos.list by id: the channel's videos among the ids, with the parts asked for
        (only `id` and `statistics` are served); unknown or deleted ids are left out."""
        refused = self._check("videos", "list", request, None)
        if refused:
            return refused
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        parts = request.query_params.get("part", "").split(",")
        problems = [
            f"part {p} is not served by this fake" for p in parts if p not in ("id", "statistics")
        ]
        if not ids:
            problems.append("videos.list needs id (this fake serves lookups by id)")
        if len(ids) > VIDEOS_LIST_MAX_IDS:
            problems.append(f"videos.list takes at most {VIDEOS_LIST_MAX_IDS} ids, got {len(ids)}")
        if "maxResults" in request.query_params:
            problems.append("maxResults is not supported with id")
        if problems:
            self.invalid += problems
            return google_error(400, "invalidParameter", "; ".join(problems))
        channel_id = self._auth(request, FULL_SCOPE)
        if isinstance(channel_id, Response):
            return channel_id
        self.calls.append("videos.list")
        self.videos_list_ids.append(len(ids))
        fault = self._fault("videos")
        if fault == "quota":
            return quota_exceeded()
        if fault in ("rate_limit", "unavailable"):
            status, reason = (
                (429, "rateLimitExceeded") if fault == "rate_limit" else (503, "backendError")
            )
            answer = google_error(
                status, reason, "Too many requests" if status == 429 else "Backend Error"
            )
            answer.headers["Retry-After"] = "17"
            return answer
        items = []
        for video_id in ids:
            video = self.videos.get(video_id)
            if video is None:
                continue
            item: dict[str, Any] = {"kind": "youtube#video", "id": video_id}
            if "statistics" in parts:
                item["statistics"] = dict(self.statistics.get(video_id, {}))
            items.append(item)
        return JSONResponse({"kind": "youtube#videoListResponse", "items": items})

    def add_video(self, channel: Channel, title: str = "A video", **statistics: str) -> Video:
        """A video `channel` has (uploaded earlier, or by hand), with these statistics
        (`viewCount="12"`...)."""
        errors = _schema_errors(statistics, {"$ref": "VideoStatistics"}, "statistics")
        assert not errors, errors
        video_id = self._next("vid")
        snippet = {"channelId": channel.id, "title": title}
        resource = {"kind": "youtube#video", "id": video_id, "snippet": snippet}
        video = Video(video_id, channel.id, resource, b"", False)
        self.videos[video_id] = video
        self.statistics[video_id] = dict(statistics)
        return video
