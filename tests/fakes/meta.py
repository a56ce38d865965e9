"""A fake Graph API on 127.0.0.1: Facebook Login, Pages, Instagram containers, faults.

Parameters of every call to a Page, an Instagram user, a container, a media, a video or a
post are checked against Meta's official codegen specs (`../shared/specs/meta/api_specs/`):
an unknown parameter or field, a missing required one or a wrong type is answered with
Meta's code 100 and recorded in `invalid`, which the tests assert stays empty. Like Meta, the
fake fetches every image and video from the URL it is given (Masthead's public media URL)
over real HTTP, and a file it cannot fetch or read fails the container (Instagram) or the
call (Facebook), so a wrong public URL fails the test as it fails in production.

State is kept (users, Pages and their tokens, Instagram accounts, containers with a
processing delay, published media, photos, videos, feed posts, comments and replies) so tests
assert on what Meta would show, e.g. that a post or a comment exists exactly once. Comment
webhook deliveries are built and signed with the app secret as Meta signs them
(`webhook_delivery`); Meta publishes no codegen spec of a comment node, so the parameters of
`/{comment-id}/replies` and `/{comment-id}/comments` are checked by hand (only `message`).

Faults are queued per operation with `fail_next(operation, fault)`. A fault is a Graph error
code (answered before acting, e.g. 190, 4, 2), `"server_error"` (a bare 500 before acting),
`"drop_after"` (acts, then drops the connection mid-answer) or `"slow_after"` (acts, then
answers only after `slow_seconds`, long enough for a test to kill the client in between).
Containers can be made to end in ERROR or EXPIRED with `container_outcomes`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.http import Dropped, FakeServer

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "meta" / "api_specs"
VERSION = "v21.0"
GENERIC_PARAMS = frozenset({"fields", "limit", "after", "before", "since", "until", "access_token"})
"""Parameters every Graph call takes besides its edge's: field selection, cursor and time paging."""


@cache
def spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPECS / "specs" / f"{name}.json").read_text())
    return loaded


def graph_error(
    code: int, message: str, *, subcode: int | None = None, status: int = 400
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": f"Ftrace{code}x{int(time.time() * 1000) % 100000}",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "Application request limit reached",
    17: "User request limit reached",
    100: "Invalid parameter",
    190: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    200: "Permissions error",
    368: "The action attempted has been deemed abusive or is otherwise disallowed",
    506: "Duplicate status message",
}


@dataclass
class FbUser:
    id: str
    name: str


@dataclass
class IgAccount:
    id: str
    username: str
    name: str
    page_id: str


@dataclass
class Page:
    id: str
    name: str
    owner: str
    token: str
    ig: IgAccount | None = None


@dataclass
class Token:
    kind: str  # "user" or "page"
    subject: str
    expires_at: float | None = None


@dataclass
class Container:
    id: str
    ig_id: str
    fields: dict[str, Any]
    status: str = "IN_PROGRESS"
    polls_left: int = 0
    outcome: str = "FINISHED"
    media_id: str | None = None


@dataclass
class IgMedia:
    id: str
    ig_id: str
    container_id: str
    media_type: str
    caption: str
    timestamp: float
    children: tuple[str, ...] = ()

    @property
    def permalink(self) -> str:
        return f"https://www.instagram.com/p/Fake{self.id}/"

    @property
    def product_type(self) -> str:
        return {"REELS": "REELS", "STORIES": "STORY"}.get(self.media_type, "FEED")


@dataclass
class Photo:
    id: str
    page_id: str
    url: str
    published: bool
    attached_to: str | None = None


@dataclass
class Video:
    id: str
    page_id: str
    edge: str  # video_reels or video_stories
    uploaded: bool = False
    published: bool = False
    description: str = ""
    post_id: str | None = None


@dataclass
class FeedPost:
    id: str
    page_id: str
    message: str
    created: float
    link: str | None = None
    photos: tuple[str, ...] = ()
    kind: str = "feed"


@dataclass
class Comment:
    id: str
    parent: str
    message: str
    author_id: str = ""
    username: str = ""
    created: float = field(default_factory=time.time)
    top: str | None = None
    """The top-level comment a reply answers (None for a comment on the post)."""


class FakeMeta(FakeServer):
    name = "fake Meta"
    first_id = 17_900_000_000_000_001
    authorize_path = f"/{VERSION}/dialog/oauth"

    def __init__(self, *, client_id: str = "meta-app", client_secret: str = "meta-secret") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, FbUser] = {}
        self.pages: dict[str, Page] = {}
        self.ig_accounts: dict[str, IgAccount] = {}
        self.tokens: dict[str, Token] = {}
        self.grants: dict[str, tuple[str, str, str]] = {}
        self.containers: dict[str, Container] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.photos: dict[str, Photo] = {}
        self.videos: dict[str, Video] = {}
        self.posts: dict[str, FeedPost] = {}
        self.comments: list[Comment] = []
        self.fetched: list[str] = []
        self.faults: dict[str, deque[int | str | None]] = defaultdict(deque)
        self.container_outcomes: deque[str] = deque()
        self.container_polls = 2
        self.slow_seconds = 30.0
        self.quota_total = 50
        self.quota_duration = 86400
        self.authorize_as: str | None = None
        self.insights: dict[str, dict[str, Any]] = {}
        """media, post or video id → its insights values by metric name (set by tests); a
        metric asked for and not here is left out of the answer, as Meta does."""
        self.shares: dict[str, int] = {}
        self.regain_minutes = 0
        """When set, a throttle fault says in X-Business-Use-Case-Usage when calls resume."""
        """post id → times shared (Meta leaves `shares` out of a post never shared)."""
        app = Starlette(
            routes=[
                Route(f"/{VERSION}/dialog/oauth", self._authorize, methods=["GET"]),
                Route(f"/{VERSION}/oauth/access_token", self._token, methods=["GET"]),
                Route(f"/video-upload/{VERSION}/{{video_id}}", self._upload, methods=["POST"]),
                Route(f"/{VERSION}/{{path:path}}", self._api, methods=["GET", "POST"]),
            ]
        )
        self.use(app)

    # -- lifecycle and test helpers ----------------------------------------------------------

    def add_user(self, name: str) -> FbUser:
        user = FbUser(self.next_id(), name)
        self.users[user.id] = user
        return user

    def add_page(self, owner: FbUser, name: str, *, instagram: str | None = None) -> Page:
        page = Page(self.next_id(), name, owner.id, f"EAAPage{self.next_id()}")
        self.tokens[page.token] = Token("page", page.id)
        if instagram is not None:
            page.ig = IgAccount(self.next_id(), instagram, instagram.title(), page.id)
            self.ig_accounts[page.ig.id] = page.ig
        self.pages[page.id] = page
        return page

    def user_token(self, user: FbUser, *, lifetime: float = 60 * 86400) -> str:
        token = f"EAAUser{self.next_id()}"
        self.tokens[token] = Token("user", user.id, time.time() + lifetime)
        return token

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def fail_next(self, operation: str, fault: int | str, *, after: int = 0) -> None:
        """Answer the `after`+1-th next call of `operation` with `fault`."""
        assert isinstance(fault, int) or fault in ("server_error", "drop_after", "slow_after")
        self.faults[operation].extend([None] * after + [fault])

    def media_of(self, ig: IgAccount) -> list[IgMedia]:
        return [m for m in self.ig_media.values() if m.ig_id == ig.id]

    def posts_of(self, page: Page) -> list[FeedPost]:
        return [p for p in self.posts.values() if p.page_id == page.id]

    def seed_media(self, ig: IgAccount, caption: str, *, at: float) -> IgMedia:
        """A post published earlier (it counts in the quota window)."""
        media = IgMedia(self.next_id(), ig.id, "", "IMAGE", caption, at)
        self.ig_media[media.id] = media
        return media

    def seed_comment(
        self, on: str, message: str, *, author_id: str, username: str = "fan", reply_to: str = ""
    ) -> Comment:
        """A comment by someone in the audience on a media or post `on` (or a reply)."""
        comment = Comment(self.next_id(), on, message, author_id, username, top=reply_to or None)
        self.comments.append(comment)
        return comment

    def comments_on(self, node: str) -> list[Comment]:
        return [c for c in self.comments if c.parent == node]

    def webhook_delivery(
        self, payload: dict[str, Any], *, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook POST as Meta sends it: the body signed with the app secret in
        `X-Hub-Signature-256` (`sha256=<hex HMAC-SHA256 of the raw body>`)."""
        body = json.dumps(payload).encode()
        key = (secret if secret is not None else self.client_secret).encode()
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        return body, {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": f"sha256={digest}",
        }

    def instagram_change(self, ig: IgAccount, media: IgMedia, comment: Comment) -> dict[str, Any]:
        """The `comments` field's change for `comment` (Instagram webhooks reference)."""
        value: dict[str, Any] = {
            "from": {"id": comment.author_id, "username": comment.username},
            "media": {"id": media.id, "media_product_type": "FEED"},
            "id": comment.id,
            "text": comment.message,
        }
        if comment.top:
            value["parent_id"] = comment.top
        return {
            "object": "instagram",
            "entry": [
                {
                    "id": ig.id,
                    "time": int(comment.created),
                    "changes": [{"field": "comments", "value": value}],
                }
            ],
        }

    def page_change(
        self, page: Page, post: FeedPost, comment: Comment, verb: str = "add"
    ) -> dict[str, Any]:
        """The `feed` field's change for `comment` (Page webhooks reference)."""
        return {
            "object": "page",
            "entry": [
                {
                    "id": page.id,
                    "time": int(comment.created),
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "from": {"id": comment.author_id, "name": comment.username},
                                "post_id": post.id,
                                "comment_id": comment.id,
                                "parent_id": comment.top or post.id,
                                "created_time": int(comment.created),
                                "item": "comment",
                                "verb": verb,
                                "message": comment.message,
                            },
                        }
                    ],
                }
            ],
        }

    # -- Facebook Login ----------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        """Stands in for the login dialog: the user `authorize_as` grants the app."""
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not q.get("state") or not redirect_uri:
            return graph_error(100, "Invalid login request")
        scopes = set(q.get("scope", "").replace(",", " ").split())
        needed = {"pages_manage_posts", "instagram_content_publish", "pages_show_list"}
        back = {"state": q["state"]}
        if self.authorize_as is None or not needed <= scopes:
            back |= {"error": "access_denied", "error_description": "Permissions error"}
        else:
            code = f"code-{self.next_id()}"
            self.grants[code] = (self.authorize_as, redirect_uri, q.get("code_challenge", ""))
            back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.record(request, "token", params=q)
        if q.get("client_id") != self.client_id or q.get("client_secret") != self.client_secret:
            return graph_error(101, "Error validating application. Invalid application ID.")
        with self._lock:
            if q.get("grant_type") == "fb_exchange_token":
                short = self.tokens.get(q.get("fb_exchange_token", ""))
                if short is None or short.kind != "user":
                    return graph_error(190, MESSAGES[190])
                token = self.user_token(self.users[short.subject])
                return JSONResponse(
                    {"access_token": token, "token_type": "bearer", "expires_in": 5183944}
                )
            grant = self.grants.pop(q.get("code", ""), None)
            if grant is None or grant[1] != q.get("redirect_uri"):
                return graph_error(100, "Invalid verification code format.", subcode=36007)
            digest = hashlib.sha256(q.get("code_verifier", "").encode()).digest()
            if grant[2] and base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant[2]:
                return graph_error(100, "Invalid code verifier")
            token = self.user_token(self.users[grant[0]], lifetime=3600)
            return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": 3600})

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _bearer(request: Request, params: dict[str, Any]) -> str:
        header = request.headers.get("authorization", "")
        for prefix in ("Bearer ", "OAuth "):
            if header.startswith(prefix):
                return header[len(prefix) :]
        return str(params.get("access_token") or "")

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            raw = await request.body()
            if raw and request.headers.get("content-type", "").startswith("application/json"):
                params |= json.loads(raw)
            elif raw:
                params |= dict((await request.form()).items())
        return params

    def _fault(self, operation: str) -> int | str | None:
        with self._lock:
            queue = self.faults.get(operation)
            return queue.popleft() if queue else None

    def _check(self, spec_name: str, method: str, edge: str | None, params: dict[str, Any]) -> str:
        """'' when `params` fit the official spec of `edge` (or of the node's fields)."""
        document = spec(spec_name)
        if edge is None:
            # An edge may be read inline as a field (`comments.summary(true).limit(0)`).
            known = {f["name"] for f in document["fields"]} | {
                str(a["endpoint"])
                for a in document["apis"]
                if a.get("method") == "GET" and "endpoint" in a
            }
            asked = {name.split(".")[0] for name in _top_fields(str(params.get("fields", "")))}
            unknown = asked - known
            return f"{spec_name} has no field(s) {sorted(unknown)}" if unknown else ""
        api = next(
            (a for a in document["apis"] if a.get("endpoint") == edge and a["method"] == method),
            None,
        )
        if api is None:
            return f"{spec_name} has no {method} /{edge}"
        declared = {p["name"]: p for p in api["params"]}
        for name, value in params.items():
            if name in GENERIC_PARAMS:
                continue
            if name not in declared:
                return f"{method} {spec_name}/{edge}: unknown parameter {name!r}"
            problem = _type_problem(declared[name]["type"], value)
            if problem:
                return f"{method} {spec_name}/{edge}: {name} {problem}"
        for name, param in declared.items():
            if param.get("required") and name not in params:
                return f"{method} {spec_name}/{edge}: {name} is required"
        return ""

    async def _fetch(self, url: str, kind: str) -> str:
        """Fetch `url` as Meta does; '' when it is a readable `kind` (image/video), else why."""
        self.fetched.append(url)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            return f"Media download has failed: {type(exc).__name__}"
        if response.status_code != 200:
            return f"Media download has failed: HTTP {response.status_code}"
        data = response.content
        if kind == "image" and not data.startswith(b"\xff\xd8\xff"):
            return "The image format is not supported (only JPEG)"
        if kind == "video" and data[4:8] != b"ftyp":
            return "The video format is not supported"
        return ""

    # -- the API -----------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        params = await self._params(request)
        parts = request.path_params["path"].strip("/").split("/")
        node, edge = parts[0], (parts[1] if len(parts) > 1 else None)
        token = self._tokens_subject(self._bearer(request, params))
        operation = self._operation(request.method, node, edge)
        self.record(request, operation, params=params)
        fault = self._fault(operation)
        if isinstance(fault, int):
            answer = graph_error(fault, MESSAGES.get(fault, f"Error {fault}"), status=400)
            if fault in (4, 17, 32, 613) and self.regain_minutes:
                answer.headers["x-business-use-case-usage"] = json.dumps(
                    {
                        node: [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "total_time": 100,
                                "estimated_time_to_regain_access": self.regain_minutes,
                            }
                        ]
                    }
                )
            return answer
        if fault == "server_error":
            return Response("Internal Server Error", status_code=500)
        if token is None:
            return graph_error(190, MESSAGES[190], subcode=460, status=400)
        params.pop("access_token", None)
        with_check = self._validate(request.method, node, edge, params)
        if with_check:
            self.invalid.append(with_check)
            return graph_error(100, f"Invalid parameter: {with_check}")
        response = await self._route(request.method, node, edge, params, token)
        if fault == "drop_after" and response.status_code < 300:
            return Dropped(200)
        if fault == "slow_after":
            await asyncio.sleep(self.slow_seconds)
        return response

    def _tokens_subject(self, raw: str) -> Token | None:
        token = self.tokens.get(raw)
        if token is None or (token.expires_at is not None and token.expires_at < time.time()):
            return None
        return token

    def _operation(self, method: str, node: str, edge: str | None) -> str:
        if node == "me":
            return "accounts" if edge == "accounts" else "me"
        if edge is not None:
            return {
                "media_publish": "publish",
                "media": "container" if method == "POST" else "media_list",
                "content_publishing_limit": "quota",
                "video_reels": "reels",
                "video_stories": "video_stories",
            }.get(edge, edge)
        if node in self.containers:
            return "status"
        if node in self.videos:
            return "video_status"
        return "node"

    def _validate(self, method: str, node: str, edge: str | None, params: dict[str, Any]) -> str:
        if node == "me":
            return self._check("Page", "GET", None, params) if edge == "accounts" else ""
        if node in self.pages:
            return self._check("Page", method, edge, params)
        if node in self.ig_accounts:
            return self._check("IGUser", method, edge, params)
        if node in self.containers:
            return self._check("ShadowIGMediaBuilder", method, edge, params)
        if node in self.ig_media:
            return self._check("IGMedia", method, edge, params)
        if node in self.videos:
            return self._check("AdVideo", method, edge, params)
        if node in self.posts:
            return self._check("PagePost", method, edge, params)
        if self._comment(node) is not None:
            extra = set(params) - GENERIC_PARAMS - ({"message"} if method == "POST" else set())
            return f"{method} comment/{edge}: unknown parameter(s) {sorted(extra)}" if extra else ""
        return ""

    async def _route(
        self, method: str, node: str, edge: str | None, params: dict[str, Any], token: Token
    ) -> Response:
        if node == "me":
            return self._me(edge, params, token)
        if node in self.pages:
            page = self.pages[node]
            if token.kind != "page" or token.subject != page.id:
                return graph_error(200, "(#200) Requires a Page access token of this Page")
            return await self._page(method, page, edge, params)
        if node in self.ig_accounts:
            ig = self.ig_accounts[node]
            if token.kind != "page" or token.subject != ig.page_id:
                return graph_error(200, "(#200) The token has no access to this account")
            return await self._instagram(method, ig, edge, params)
        if edge in ("comments", "replies") and self._commentable(node, edge):
            return self._comments(method, node, edge, params, token)
        if node in self.containers and method == "GET":
            return self._container_status(self.containers[node])
        if node in self.ig_media and method == "GET" and edge == "insights":
            return self._ig_insights(self.ig_media[node], params, token)
        if node in self.ig_media and method == "GET":
            media = self.ig_media[node]
            body = {"id": media.id, "permalink": media.permalink}
            if "media_product_type" in str(params.get("fields", "")):
                body["media_product_type"] = media.product_type
            return JSONResponse(body)
        inline_insights = "insights" in str(params.get("fields", ""))
        if method == "GET" and edge is None and inline_insights and node in self.posts:
            return self._post_metrics(node, params, token)
        if method == "GET" and edge is None and inline_insights and node in self.videos:
            return self._post_metrics(node, params, token)
        if node in self.videos and method == "GET":
            return self._video_status(self.videos[node])
        return graph_error(100, f"Unsupported request: object {node} does not exist", subcode=33)

    def _me(self, edge: str | None, params: dict[str, Any], token: Token) -> Response:
        if token.kind != "user":
            return graph_error(190, "A user access token is required", subcode=463)
        user = self.users[token.subject]
        if edge is None:
            return JSONResponse(
                {"id": user.id, "name": user.name, "picture": {"data": {"url": "https://p/x"}}}
            )
        data = []
        for page in self.pages.values():
            if page.owner != user.id:
                continue
            row: dict[str, Any] = {"id": page.id, "name": page.name, "access_token": page.token}
            if page.ig is not None and "instagram_business_account" in params.get("fields", ""):
                row["instagram_business_account"] = {
                    "id": page.ig.id,
                    "username": page.ig.username,
                    "name": page.ig.name,
                }
            data.append(row)
        return JSONResponse({"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})

    # -- Facebook Pages ----------------------------------------------------------------------

    async def _page(
        self, method: str, page: Page, edge: str | None, params: dict[str, Any]
    ) -> Response:
        if edge == "photos" and method == "POST":
            problem = await self._fetch(str(params.get("url", "")), "image")
            if problem:
                return graph_error(324, f"Missing or invalid image file: {problem}")
            photo = Photo(
                self.next_id(), page.id, str(params["url"]), params.get("published", True)
            )
            self.photos[photo.id] = photo
            return JSONResponse({"id": photo.id})
        if edge == "feed" and method == "POST":
            return self._feed_post(page, params)
        if edge == "feed" and method == "GET":
            since = float(params.get("since") or 0)
            data = [
                {"id": p.id, "message": p.message, "created_time": _iso(p.created)}
                for p in self.posts_of(page)
                if p.created >= since
            ]
            return JSONResponse({"data": data})
        if edge in ("video_reels", "video_stories") and method == "POST":
            return self._video_phase(page, edge, params)
        if edge == "photo_stories" and method == "POST":
            photo = self.photos.get(str(params.get("photo_id")))
            if photo is None or photo.page_id != page.id or photo.published:
                return graph_error(100, "Invalid photo_id")
            photo.published = True
            post = FeedPost(self.next_id(), page.id, "", time.time(), kind="photo_story")
            self.posts[post.id] = post
            return JSONResponse({"success": True, "post_id": post.id})
        return graph_error(100, f"Unsupported {method} /{edge}")

    def _feed_post(self, page: Page, params: dict[str, Any]) -> Response:
        attached = [str(item.get("media_fbid")) for item in params.get("attached_media") or []]
        for photo_id in attached:
            photo = self.photos.get(photo_id)
            if photo is None or photo.page_id != page.id or photo.published or photo.attached_to:
                return graph_error(100, f"Invalid attached media {photo_id}")
        message = str(params.get("message") or "")
        if not (message or params.get("link") or attached):
            return graph_error(100, "(#100) Missing message or attachment")
        duplicate = any(p.message == message and message for p in self.posts_of(page))
        if duplicate:
            return graph_error(506, MESSAGES[506])
        post = FeedPost(
            f"{page.id}_{self.next_id()}",
            page.id,
            message,
            time.time(),
            link=params.get("link"),
            photos=tuple(attached),
        )
        for photo_id in attached:
            self.photos[photo_id].attached_to = post.id
        self.posts[post.id] = post
        return JSONResponse({"id": post.id})

    def _video_phase(self, page: Page, edge: str, params: dict[str, Any]) -> Response:
        phase = params.get("upload_phase")
        if phase == "start":
            video = Video(self.next_id(), page.id, edge)
            self.videos[video.id] = video
            upload_url = f"{self.url}/video-upload/{VERSION}/{video.id}"
            return JSONResponse({"video_id": video.id, "upload_url": upload_url})
        video = self.videos.get(str(params.get("video_id")))
        if phase != "finish" or video is None or video.page_id != page.id:
            return graph_error(100, "Invalid upload_phase or video_id")
        if not video.uploaded:
            return graph_error(6000, "There was a problem uploading your video file")
        if video.published:
            return graph_error(100, "The video is already published")
        video.published = True
        video.description = str(params.get("description") or "")
        kind = "reel" if edge == "video_reels" else "video_story"
        post = FeedPost(self.next_id(), page.id, video.description, time.time(), kind=kind)
        self.posts[post.id] = post
        video.post_id = post.id
        if edge == "video_stories":
            return JSONResponse({"success": True, "post_id": post.id})
        return JSONResponse({"success": True})

    async def _upload(self, request: Request) -> Response:
        """The resumable upload host: Meta pulls the file named in the `file_url` header."""
        self.record(request, "upload")
        token = self._tokens_subject(self._bearer(request, {}))
        video = self.videos.get(request.path_params["video_id"])
        if token is None or video is None or token.subject != video.page_id:
            return graph_error(190, MESSAGES[190])
        problem = await self._fetch(request.headers.get("file_url", ""), "video")
        if problem:
            return JSONResponse(
                {"debug_info": {"type": "ProcessingFailedError", "message": problem}},
                status_code=400,
            )
        video.uploaded = True
        return JSONResponse({"success": True})

    def _video_status(self, video: Video) -> Response:
        uploading = "complete" if video.uploaded else "not_started"
        publishing = "complete" if video.published else "not_started"
        return JSONResponse(
            {
                "id": video.id,
                "status": {
                    "video_status": "ready" if video.uploaded else "upload_incomplete",
                    "uploading_phase": {"status": uploading},
                    "processing_phase": {"status": uploading},
                    "publishing_phase": {"status": publishing},
                },
            }
        )

    # -- comments and replies ----------------------------------------------------------------

    def _comment(self, node: str) -> Comment | None:
        return next((c for c in self.comments if c.id == node), None)

    def _commentable(self, node: str, edge: str) -> bool:
        """Instagram media (`/comments`) and comments (`/replies`), Facebook posts, reels
        (by video id) and comments (`/comments`)."""
        if node in self.ig_media:
            return edge == "comments"
        comment = self._comment(node)
        if comment is not None:
            on_instagram = comment.parent in self.ig_media
            return edge == ("replies" if on_instagram else "comments")
        return edge == "comments" and (node in self.posts or node in self.videos)

    def _comments(
        self, method: str, node: str, edge: str, params: dict[str, Any], token: Token
    ) -> Response:
        owner = self._owner_page(node)
        if owner is None or token.kind != "page" or token.subject != owner.id:
            return graph_error(200, "(#200) The token has no access to this object")
        me = owner.ig.id if owner.ig is not None and self._on_instagram(node) else owner.id
        parent = self._comment(node)
        if method == "POST":
            message = str(params.get("message") or "")
            if not message:
                return graph_error(100, "(#100) The parameter message is required")
            if parent is not None and parent.top is not None:
                return graph_error(100, "(#100) Replies can only answer a top-level comment")
            on = parent.parent if parent is not None else node
            username = owner.ig.username if owner.ig is not None and me == owner.ig.id else ""
            comment = Comment(
                self.next_id(), on, message, me, username or owner.name,
                top=parent.id if parent is not None else None,
            )  # fmt: skip
            self.comments.append(comment)
            return JSONResponse({"id": comment.id})
        if parent is not None:
            rows = [c for c in self.comments if c.top == parent.id]
        elif params.get("filter") == "stream":  # Facebook: replies too
            rows = self.comments_on(node)
        else:
            rows = [c for c in self.comments_on(node) if c.top is None]
        since = float(params.get("since") or 0)
        rows = [c for c in rows if c.created >= since]
        if params.get("order") == "reverse_chronological":
            rows = rows[::-1]
        fields = str(params.get("fields") or "id")
        return JSONResponse({"data": [self._comment_json(c, fields) for c in rows]})

    def _comment_json(self, comment: Comment, fields: str) -> dict[str, Any]:
        wanted = _top_fields(fields)
        row: dict[str, Any] = {"id": comment.id}
        values: dict[str, Any] = {
            "text": comment.message,
            "message": comment.message,
            "timestamp": _iso(comment.created),
            "created_time": _iso(comment.created),
            "username": comment.username,
            "from": {"id": comment.author_id, "username": comment.username},
        }
        if comment.top is not None:
            values["parent"] = {"id": comment.top}
        for name in wanted:
            if name in values:
                row[name] = values[name]
        if "replies" in wanted and comment.top is None:
            inner = fields[fields.index("replies{") + 8 : fields.rindex("}")]
            replies = [c for c in self.comments if c.top == comment.id]
            row["replies"] = {"data": [self._comment_json(c, inner) for c in replies]}
        return row

    def _on_instagram(self, node: str) -> bool:
        comment = self._comment(node)
        return (comment.parent if comment is not None else node) in self.ig_media

    def _owner_page(self, node: str) -> Page | None:
        comment = self._comment(node)
        target = comment.parent if comment is not None else node
        if target in self.ig_media:
            ig = self.ig_accounts.get(self.ig_media[target].ig_id)
            return self.pages.get(ig.page_id) if ig is not None else None
        post = self.posts.get(target) or self.videos.get(target)
        return self.pages.get(post.page_id) if post is not None else None

    # -- Instagram ---------------------------------------------------------------------------

    async def _instagram(
        self, method: str, ig: IgAccount, edge: str | None, params: dict[str, Any]
    ) -> Response:
        if edge == "content_publishing_limit":
            return JSONResponse(
                {
                    "data": [
                        {
                            "quota_usage": self._usage(ig),
                            "config": {
                                "quota_total": self.quota_total,
                                "quota_duration": self.quota_duration,
                            },
                        }
                    ]
                }
            )
        if edge == "media" and method == "GET":
            since = float(params.get("since") or 0)
            data = [
                {
                    "id": m.id,
                    "caption": m.caption,
                    "permalink": m.permalink,
                    "timestamp": _iso(m.timestamp),
                }
                for m in self.media_of(ig)
                if m.timestamp >= since
            ]
            return JSONResponse({"data": data})
        if edge == "media" and method == "POST":
            return await self._create_container(ig, params)
        if edge == "media_publish":
            return self._publish(ig, str(params.get("creation_id")))
        return graph_error(100, f"Unsupported {method} /{edge}")

    def _usage(self, ig: IgAccount) -> int:
        since = time.time() - self.quota_duration
        return sum(1 for m in self.media_of(ig) if m.timestamp >= since)

    async def _create_container(self, ig: IgAccount, params: dict[str, Any]) -> Response:
        kind = params.get("media_type", "IMAGE")
        if kind == "CAROUSEL":
            children = [self.containers.get(str(c)) for c in params.get("children") or []]
            if not 2 <= len(children) <= 10 or any(
                c is None or c.status != "FINISHED" or not c.fields.get("is_carousel_item")
                for c in children
            ):
                return graph_error(100, "Invalid children: 2 to 10 finished carousel items")
        elif not (params.get("image_url") or params.get("video_url")):
            return graph_error(100, "image_url or video_url is required", subcode=2207001)
        if kind in ("REELS", "VIDEO") and not params.get("video_url"):
            return graph_error(100, f"{kind} needs video_url")
        outcome = self.container_outcomes.popleft() if self.container_outcomes else "FINISHED"
        for name, what in (("image_url", "image"), ("video_url", "video"), ("cover_url", "image")):
            if params.get(name):
                problem = await self._fetch(str(params[name]), what)
                if problem:
                    outcome = f"ERROR:{problem}"
        container = Container(
            self.next_id(), ig.id, params, polls_left=self.container_polls, outcome=outcome
        )
        self.containers[container.id] = container
        return JSONResponse({"id": container.id})

    def _container_status(self, container: Container) -> Response:
        if container.status == "IN_PROGRESS":
            if container.polls_left > 0:
                container.polls_left -= 1
            else:
                container.status = container.outcome.partition(":")[0]
        body: dict[str, Any] = {"id": container.id, "status_code": container.status}
        if container.status == "ERROR":
            body["status"] = f"Error: {container.outcome.partition(':')[2] or 'unknown'}"
        return JSONResponse(body)

    def _publish(self, ig: IgAccount, creation_id: str) -> Response:
        container = self.containers.get(creation_id)
        if container is None or container.ig_id != ig.id:
            return graph_error(100, "Invalid creation_id", subcode=2207027)
        if container.status == "PUBLISHED":
            return graph_error(100, "The media has already been published", subcode=2207026)
        if container.status != "FINISHED":
            return graph_error(9007, "The media is not ready for publishing", subcode=2207027)
        if self._usage(ig) >= self.quota_total:
            return graph_error(9, "Application request limit reached", subcode=2207042)
        fields = container.fields
        media = IgMedia(
            self.next_id(),
            ig.id,
            container.id,
            str(fields.get("media_type", "IMAGE")),
            str(fields.get("caption") or ""),
            time.time(),
            tuple(str(c) for c in fields.get("children") or ()),
        )
        self.ig_media[media.id] = media
        container.status = "PUBLISHED"
        container.media_id = media.id
        return JSONResponse({"id": media.id})

    # -- analytics ---------------------------------------------------------------------------

    def add_post(self, page: Page, *, shares: int | None = None, **insights: Any) -> FeedPost:
        """A published Page feed post with its insights and share count."""
        post = FeedPost(f"{page.id}_{self.next_id()}", page.id, "", time.time())
        self.posts[post.id] = post
        self.insights[post.id] = dict(insights)
        if shares is not None:
            self.shares[post.id] = shares
        return post

    def add_reel(self, page: Page, **insights: Any) -> Video:
        """A published Page reel (a video) with its video insights."""
        video = Video(self.next_id(), page.id, "video_reels", True, True)
        self.videos[video.id] = video
        self.insights[video.id] = dict(insights)
        return video

    def _post_metrics(self, node: str, params: dict[str, Any], token: Token) -> Response:
        """GET /{post or video}?fields=...,insights.metric(...) (or video_insights): the
        asked edges inline. The codegen specs type `metric` as list<Object> with no values,
        so metric names are checked against Meta's Page post and video insights references."""
        video = self.videos.get(node)
        owner = video.page_id if video is not None else self.posts[node].page_id
        if token.kind != "page" or token.subject != owner:
            return graph_error(200, "(#200) Requires a Page access token of this Page")
        body: dict[str, Any] = {"id": node}
        known = VIDEO_INSIGHTS if video is not None else POST_INSIGHTS
        for field_ in _top_fields(str(params.get("fields", ""))):
            name, _, rest = field_.partition(".")
            if name in ("insights", "video_insights"):
                asked = [m for m in rest.removeprefix("metric(").removesuffix(")").split(",") if m]
                unknown = [m for m in asked if m not in known] or (["none"] if not asked else [])
                if unknown or name != ("video_insights" if video else "insights"):
                    self.invalid.append(f"{name} of {node}: unknown metric(s) {unknown}")
                    return graph_error(100, "(#100) The value must be a valid insights metric")
                rows = _insight_rows(node, self.insights.get(node, {}), asked)
                body[name] = {"data": rows}
            elif name == "comments":
                if "summary(true)" not in rest:
                    self.invalid.append(f"comments of {node} read without summary(true)")
                total = sum(1 for c in self.comments if c.parent == node)
                body["comments"] = {
                    "data": [],
                    "summary": {"order": "ranked", "total_count": total},
                }
            elif name == "shares" and node in self.shares:
                body["shares"] = {"count": self.shares[node]}
        return JSONResponse(body)

    def add_media(self, ig: IgAccount, media_type: str, **insights: int) -> IgMedia:
        """A published media (`IMAGE`, `CAROUSEL`, `REELS`, `STORIES`) with its insights."""
        media = IgMedia(self.next_id(), ig.id, "", media_type, "", time.time())
        self.ig_media[media.id] = media
        self.insights[media.id] = dict(insights)
        return media

    def _ig_insights(self, media: IgMedia, params: dict[str, Any], token: Token) -> Response:
        """GET /{ig-media}/insights: every metric must be in the official enum and served for
        the media's product type; values come from `insights` (absent ones are left out)."""
        ig = self.ig_accounts[media.ig_id]
        if token.kind != "page" or token.subject != ig.page_id:
            return graph_error(200, "(#200) The token has no access to this media")
        asked = [m for m in str(params.get("metric", "")).split(",") if m]
        unknown = [
            m for m in asked if m not in enum_values("shadowigmediainsights_metric_enum_param")
        ]
        if unknown or not asked:
            self.invalid.append(f"IGMedia/insights: unknown metric(s) {unknown or 'none asked'}")
            return graph_error(
                100, f"(#100) metric[0] must be one of the following values: {unknown}"
            )
        unsupported = [m for m in asked if m not in IG_PRODUCT_METRICS[media.product_type]]
        if unsupported:
            self.invalid.append(f"IGMedia/insights: {unsupported} not for {media.product_type}")
            return graph_error(
                100,
                f"(#100) The Media Insights API does not support the {unsupported[0]} metric for "
                "this media product type.",
            )
        return JSONResponse(
            {"data": _insight_rows(media.id, self.insights.get(media.id, {}), asked)}
        )


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _top_fields(fields: str) -> set[str]:
    """Top-level names of a `fields` selection (`a,b{c,d},e` → a, b, e); an edge's
    modifiers stay with it (`insights.metric(x,y)`)."""
    names, depth, parens, current = set(), 0, 0, ""
    for char in fields:
        parens += {"(": 1, ")": -1}.get(char, 0)
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0 and parens == 0:
            names.add(current.strip())
            current = ""
        elif depth == 0:
            current += char
    if current.strip():
        names.add(current.strip())
    return names


def _type_problem(kind: str, value: Any) -> str:
    """Why `value` is not of the codegen type `kind` ('' when it is)."""
    if kind == "bool":
        ok = isinstance(value, bool) or value in ("true", "false")
    elif kind in ("string", "datetime"):
        ok = isinstance(value, str | int) and not isinstance(value, bool)
    elif kind in ("unsigned int", "int"):
        ok = (isinstance(value, int) and not isinstance(value, bool)) or str(value).isdigit()
    elif kind == "list<string>":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif kind in ("list<Object>", "list<map>"):
        ok = isinstance(value, list) and all(isinstance(v, dict) for v in value)
    elif kind in ("map", "Object"):
        ok = isinstance(value, dict)
    else:
        ok = True  # enums and other named types: the value is not checked here
    return "" if ok else f"is not a {kind}: {value!r}"


# -- analytics -------------------------------------------------------------------------------

IG_PRODUCT_METRICS = {
    "FEED": frozenset(
        {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}
        | {"profile_visits", "profile_activity", "follows"}
    ),
    "REELS": frozenset(
        {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}
        | {"ig_reels_avg_watch_time", "ig_reels_video_view_total_time", "reels_skip_rate"}
    ),
    "STORY": frozenset(
        {"views", "reach", "shares", "total_interactions", "follows", "profile_visits"}
        | {"profile_activity", "replies", "navigation"}
    ),
}
"""The media insights metrics Meta serves per media_product_type (media insights reference);
a request with any other metric is refused whole with code 100."""


@cache
def enum_values(name: str) -> frozenset[str]:
    """The values of one of the codegen specs' enum types (`enum_types.json`, a list)."""
    listed: list[dict[str, Any]] = json.loads((SPECS / "specs" / "enum_types.json").read_text())
    return frozenset(next(e["values"] for e in listed if e["name"] == name))


POST_INSIGHTS = frozenset(
    {"post_media_view", "post_total_media_view_unique", "post_clicks"}
    | {"post_reactions_by_type_total", "post_reactions_like_total", "post_video_views"}
)
"""Page post insights metrics still served (Page post insights reference; the impressions
metrics were retired in 2025 and are refused as invalid)."""
VIDEO_INSIGHTS = frozenset(
    {"blue_reels_play_count", "fb_reels_total_plays", "post_impressions_unique"}
    | {"post_video_likes_by_reaction_type", "post_video_social_actions", "post_video_views"}
)
"""Video insights metrics of a reel (video insights reference, reels metrics)."""


def _insight_rows(owner: str, values: dict[str, Any], asked: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "period": "lifetime",
            "values": [{"value": values[name]}],
            "title": name.replace("_", " ").title(),
            "id": f"{owner}/insights/{name}/lifetime",
        }
        for name in asked
        if name in values
    ]
