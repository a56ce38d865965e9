"""A fake Threads API (graph.threads.net) on 127.0.0.1: OAuth, containers, publishing, faults.

Meta publishes no machine-readable description of the Threads API (the business SDK's specs
in `../shared/specs/meta/` hold only `ThreadsUser.json`, two fields of an Instagram user), so
every request is checked against `ENDPOINTS` below, written from Meta's Threads reference
(posts, create-replies, troubleshooting, long-lived tokens): parameter names, which are
required, enum values, the 500-character text limit, the fields each node has. A request that
does not conform is answered as Meta answers it (400, `OAuthException`, code 100) and recorded
in `invalid`, which the tests assert stays empty. The container statuses are the ones Meta's
troubleshooting page lists (the shared specs' Instagram container node, `ShadowIGMediaBuilder`,
types its `status` as a plain string, so there is no enum to check them against).

Like Meta, the fake downloads every `image_url` and `video_url` itself over HTTP when the
container is made (in the background: the container is IN_PROGRESS until then), so a URL that
the outside world cannot fetch ends in a container `ERROR`, as it would in production.
State (tokens, containers, posts, reply chains) is kept so tests assert on what Threads would
show, e.g. that a post exists exactly once.

Faults are queued per operation with `fail_next(operation, fault)`; operations are `token`,
`exchange`, `refresh`, `me`, `create`, `status`, `publish`, `media`, `list`, `insights` and
`conversation` (every reply below a post, as comments are read).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import regex  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.http import Dropped, FakeServer

VERSION = "v1.0"
LONG_LIVED_SECONDS = 5_184_000  # 60 days
SHORT_LIVED_SECONDS = 3_600
ALL_SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_read_replies",
    "threads_manage_replies",
    "threads_manage_insights",
)
CONTAINER_STATUSES = ("EXPIRED", "ERROR", "FINISHED", "IN_PROGRESS", "PUBLISHED")
"""Meta's troubleshooting page: the statuses `GET /{container-id}?fields=status` answers."""
REPLY_CONTROLS = (
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
)
MEDIA_TYPES = ("TEXT", "IMAGE", "VIDEO", "CAROUSEL")
TEXT_LIMIT = 500
"""Characters, as Threads counts them: "Emojis are counted as the number of UTF-8 bytes"."""


def _threads_length(text: str) -> int:
    return sum(
        len(g.encode())
        if regex.search(r"\p{Extended_Pictographic}|\p{Regional_Indicator}", g)
        else 1
        for g in regex.findall(r"\X", text)
    )


@dataclass(frozen=True)
class Param:
    required: bool = False
    choices: tuple[str, ...] = ()
    boolean: bool = False
    integer: bool = False


ENDPOINTS: dict[str, dict[str, Param]] = {
    "create": {
        "media_type": Param(required=True, choices=MEDIA_TYPES),
        "text": Param(),
        "image_url": Param(),
        "video_url": Param(),
        "is_carousel_item": Param(boolean=True),
        "children": Param(),
        "reply_to_id": Param(),
        "reply_control": Param(choices=REPLY_CONTROLS),
        "alt_text": Param(),
        "link_attachment": Param(),
        "quote_post_id": Param(),
        "topic_tag": Param(),
        "allowlisted_country_codes": Param(),
        "location_id": Param(),
        "auto_publish_text": Param(boolean=True),
    },
    "publish": {"creation_id": Param(required=True)},
    "insights": {"metric": Param(required=True), "since": Param(), "until": Param()},
    "status": {"fields": Param()},
    "media": {"fields": Param()},
    "me": {"fields": Param()},
    "conversation": {
        "fields": Param(),
        "reverse": Param(boolean=True),
        "limit": Param(integer=True),
        "before": Param(),
        "after": Param(),
    },
    "list": {
        "fields": Param(),
        "since": Param(integer=True),
        "until": Param(integer=True),
        "limit": Param(integer=True),
        "before": Param(),
        "after": Param(),
    },
}
FIELDS: dict[str, frozenset[str]] = {
    "me": frozenset({"id", "username", "name", "threads_profile_picture_url", "threads_biography"}),
    "status": frozenset({"id", "status", "error_message"}),
    "media": frozenset(
        {
            "id",
            "media_product_type",
            "media_type",
            "media_url",
            "permalink",
            "owner",
            "username",
            "text",
            "timestamp",
            "shortcode",
            "thumbnail_url",
            "children",
            "is_quote_post",
            "has_replies",
            "root_post",
            "replied_to",
            "is_reply",
            "is_reply_owned_by_me",
            "hide_status",
            "reply_audience",
        }
    ),
}
MEDIA_INSIGHTS = ("views", "likes", "replies", "reposts", "quotes", "shares")
"""The metrics of `GET /{threads-media-id}/insights` (Threads insights reference)."""
FAULTS = frozenset(
    {
        "rate_limit",
        "throttled",
        "unavailable",
        "server_error_after",
        "drop_after",
        "slow_after",
        "expired_token",
        "permission",
    }
)
"""rate_limit: 400 with code 4 (app limit); throttled: 429 with code 17 (user limit);
unavailable: 500 with code 2 before acting; server_error_after: acts, then 500 with code 1;
drop_after: acts, then drops the connection mid-answer; slow_after: acts, then answers only
after `slow_seconds` (long enough for a test to kill the client in between); expired_token:
400 with code 190; permission: 400 with code 10, a refusal for good."""


def meta_error(
    status: int,
    message: str,
    code: int,
    subcode: int | None = None,
    *,
    transient: bool = False,
    kind: str = "OAuthException",
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class User:
    id: str
    username: str
    name: str


@dataclass
class Token:
    user_id: str
    kind: str  # "short" or "long"
    issued_at: float
    expires_at: float
    scopes: tuple[str, ...]


@dataclass
class Grant:
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]


@dataclass
class Fetch:
    url: str
    status: int | None
    content_type: str
    sha256: str | None


@dataclass
class Container:
    id: str
    user_id: str
    params: dict[str, str]
    status: str = "IN_PROGRESS"
    error_message: str | None = None
    polls_left: int = 0
    media_id: str | None = None
    fetch: Fetch | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def media_type(self) -> str:
        return self.params["media_type"]


@dataclass
class Post:
    id: str
    user_id: str
    container_id: str
    media_type: str
    text: str
    timestamp: datetime
    shortcode: str
    permalink: str
    reply_to: str | None
    root: str
    reply_control: str
    media: tuple[Fetch, ...] = ()


class FakeThreads(FakeServer):
    fault_names = FAULTS
    name = "fake Threads"
    first_id = 17_841_400_000_000_001
    authorize_path = "/oauth/authorize"

    def __init__(
        self, *, client_id: str = "threads-app-id", client_secret: str = "threads-app-secret"
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.grants: dict[str, Grant] = {}
        self.containers: dict[str, Container] = {}
        self.posts: dict[str, Post] = {}
        self.insights: dict[str, dict[str, int]] = {}
        """post id → its insights values by metric (set by tests); a metric not here is
        left out of the answer, as Meta does."""
        self.fetches: list[Fetch] = []
        self.container_faults: deque[tuple[str, str | None]] = deque()
        """Terminal statuses for the next containers made: ("ERROR", message) or
        ("EXPIRED", None); a container gets one when it would otherwise be FINISHED."""
        self.authorize_as: str | None = None
        self.deny_authorization = False
        self.processing_polls = 0
        """Status polls a video container stays IN_PROGRESS after its download."""
        self.min_refresh_age = 24 * 3600.0
        self._tasks: set[asyncio.Task[None]] = set()
        app = Starlette(
            routes=[
                Route("/oauth/authorize", self._authorize, methods=["GET"]),
                Route("/oauth/access_token", self._code_token, methods=["POST"]),
                Route("/access_token", self._exchange, methods=["GET"]),
                Route("/refresh_access_token", self._refresh, methods=["GET"]),
                Route(f"/{VERSION}/{{path:path}}", self._api, methods=["GET", "POST"]),
            ]
        )
        self.use(app)

    # -- lifecycle and test helpers ----------------------------------------------------------

    def add_user(self, username: str, name: str | None = None) -> User:
        user = User(self.next_id(), username, name or username.title())
        self.users[user.id] = user
        return user

    def issue_token(
        self,
        user: User,
        *,
        kind: str = "long",
        age: float = 0.0,
        lifetime: float | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
    ) -> dict[str, Any]:
        """A token as Threads would give it, issued `age` seconds ago (for accounts added
        directly and for tests of refreshing)."""
        lifetime = lifetime or (LONG_LIVED_SECONDS if kind == "long" else SHORT_LIVED_SECONDS)
        token = f"TH{kind[0].upper()}{secrets.token_hex(12)}"
        issued = time.time() - age
        self.tokens[token] = Token(user.id, kind, issued, issued + lifetime, scopes)
        body: dict[str, Any] = {"access_token": token}
        if kind == "long":
            body |= {"token_type": "bearer", "expires_in": int(issued + lifetime - time.time())}
        else:
            body["user_id"] = int(user.id)
        return body

    def expire_tokens(self) -> None:
        """Meta ends tokens early at times (the user changed password, removed the app)."""
        for token in self.tokens.values():
            token.expires_at = 0.0

    def posts_by(self, user: User) -> list[Post]:
        return [p for p in self.posts.values() if p.user_id == user.id]

    # -- OAuth -------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        """Stands in for the authorization window: the user `authorize_as` grants (or not)."""
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        scopes = tuple(s for s in q.get("scope", "").split(",") if s)
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != self.client_id
            or not redirect_uri
            or "threads_basic" not in scopes
            or any(s not in ALL_SCOPES for s in scopes)
        ):
            self.invalid.append(f"authorize: {dict(q)}")
            return meta_error(400, "Invalid request: check client_id, scope and redirect_uri", 100)
        back: dict[str, str] = {}
        if q.get("state"):
            back["state"] = q["state"]
        if self.deny_authorization or self.authorize_as is None:
            back |= {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions error",
            }
        else:
            code = f"AQ{secrets.token_urlsafe(24)}"
            self.grants[code] = Grant(self.authorize_as, redirect_uri, scopes)
            back["code"] = code
        # Meta appends `#_` to the redirect; a browser never sends the fragment on.
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}#_", status_code=302)

    async def _code_token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        self._record(request, "token", form)
        fault = self._fault("token")
        if fault is not None:
            return fault
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return meta_error(400, "Error validating client secret.", 1)
        if form.get("grant_type") != "authorization_code":
            self.invalid.append(f"token: grant_type {form.get('grant_type')!r}")
            return meta_error(400, "Unsupported grant_type", 100)
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return meta_error(400, "Invalid verification code format.", 100, 36007)
        user = self.users[grant.user_id]
        return JSONResponse(self.issue_token(user, kind="short", scopes=grant.scopes))

    async def _exchange(self, request: Request) -> Response:
        q = dict(request.query_params)
        self._record(request, "exchange", q)
        fault = self._fault("exchange")
        if fault is not None:
            return fault
        if q.get("grant_type") != "th_exchange_token" or q.get("client_secret") != (
            self.client_secret
        ):
            return meta_error(400, "Error validating client secret.", 1)
        token = self.tokens.get(q.get("access_token", ""))
        if token is None or token.expires_at <= time.time():
            return self._expired()
        if token.kind != "short":
            return meta_error(400, "(#100) Only short-lived tokens can be exchanged", 100)
        return JSONResponse(self.issue_token(self.users[token.user_id], scopes=token.scopes))

    async def _refresh(self, request: Request) -> Response:
        q = dict(request.query_params)
        self._record(request, "refresh", q)
        fault = self._fault("refresh")
        if fault is not None:
            return fault
        if q.get("grant_type") != "th_refresh_token":
            self.invalid.append(f"refresh: grant_type {q.get('grant_type')!r}")
            return meta_error(400, "Unsupported grant_type", 100)
        token = self.tokens.get(q.get("access_token", ""))
        if token is None or token.expires_at <= time.time():
            return self._expired()
        if token.kind != "long" or time.time() - token.issued_at < self.min_refresh_age:
            # The fake's own words: Meta documents the rule, not its message.
            return meta_error(400, "(#100) The token must be long-lived and 24 hours old", 100)
        return JSONResponse(self.issue_token(self.users[token.user_id], scopes=token.scopes))

    @staticmethod
    def _expired() -> JSONResponse:
        return meta_error(
            400,
            "Error validating access token: Session has expired on Tuesday, 01-Dec-26 "
            "10:00:00 PST. The current time is Wednesday, 02-Dec-26 10:00:00 PST.",
            190,
            463,
        )

    # -- the API -----------------------------------------------------------------------------

    def _record(self, request: Request, operation: str, params: dict[str, str]) -> None:
        shown = {k: v for k, v in params.items() if k not in ("access_token", "client_secret")}
        self.record(request, operation, params=shown)

    def _take(self, operation: str) -> str | None:
        queue = self.faults[operation]
        return queue.popleft() if queue else None

    def _fault(self, operation: str) -> Response | None:
        """For the token endpoints, which only have faults that come before acting."""
        return self._before(self._take(operation))

    def _before(self, fault: str | None) -> Response | None:
        """The answer to a fault that comes before Meta acts (None for the others)."""
        if fault == "rate_limit":
            return meta_error(400, "(#4) Application request limit reached", 4, transient=True)
        if fault == "throttled":
            return meta_error(429, "(#17) User request limit reached", 17, transient=True)
        if fault == "unavailable":
            return meta_error(
                500,
                "An unexpected error has occurred. Please retry your request later.",
                2,
                transient=True,
            )
        if fault == "expired_token":
            return self._expired()
        if fault == "permission":
            return meta_error(400, "(#10) Application does not have permission for this action", 10)
        return None

    @staticmethod
    def _operation(method: str, parts: list[str]) -> str:
        if parts == ["me"]:
            return "me"
        if len(parts) == 2 and parts[1] == "threads" and method == "POST":
            return "create"
        if len(parts) == 2 and parts[1] == "threads_publish":
            return "publish"
        if len(parts) == 2 and parts[1] == "insights":
            return "insights"
        if len(parts) == 2 and parts[1] == "conversation":
            return "conversation"
        if len(parts) == 2 and parts[1] in ("threads", "replies"):
            return "list"
        return "node"

    def _validate(self, operation: str, params: dict[str, str]) -> str | None:
        spec = ENDPOINTS[operation]
        for name, value in params.items():
            if name == "access_token":
                continue
            rule = spec.get(name)
            if rule is None:
                return f"(#100) Unknown parameter: {name}"
            if rule.choices and value not in rule.choices:
                return f"(#100) Param {name} must be one of {{{', '.join(rule.choices)}}}"
            if rule.boolean and value not in ("true", "false"):
                return f"(#100) Param {name} must be a boolean"
            if rule.integer and not value.lstrip("-").isdigit():
                return f"(#100) Param {name} must be an integer"
        for name, rule in spec.items():
            if rule.required and not params.get(name):
                return f"(#100) The parameter {name} is required"
        if "fields" in params:
            known = FIELDS.get(operation, FIELDS["media"])
            for name in params["fields"].split(","):
                if name.strip() not in known:
                    return f"(#100) Tried accessing nonexisting field ({name.strip()})"
        if operation == "create":
            return self._validate_container(params)
        return None

    @staticmethod
    def _validate_container(p: dict[str, str]) -> str | None:
        kind = p["media_type"]
        text = p.get("text", "")
        if _threads_length(text) > TEXT_LIMIT:
            return f"(#100) Param text must be at most {TEXT_LIMIT} characters long"
        if kind == "TEXT" and not text:
            return "(#100) The parameter text is required for media_type TEXT"
        if kind == "IMAGE" and not p.get("image_url"):
            return "(#100) The parameter image_url is required for media_type IMAGE"
        if kind == "VIDEO" and not p.get("video_url"):
            return "(#100) The parameter video_url is required for media_type VIDEO"
        if kind in ("TEXT", "CAROUSEL") and ("image_url" in p or "video_url" in p):
            return f"(#100) media_type {kind} takes no image_url or video_url"
        if kind == "CAROUSEL":
            children = [c for c in p.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 20:
                return "(#100) A carousel needs between 2 and 20 children"
        if p.get("is_carousel_item") == "true":
            if kind not in ("IMAGE", "VIDEO"):
                return "(#100) Only IMAGE and VIDEO containers can be carousel items"
            if any(k in p for k in ("text", "reply_to_id", "reply_control")):
                return "(#100) Carousel items take no text, reply_to_id or reply_control"
        return None

    async def _api(self, request: Request) -> Response:
        raw = await request.body()
        params = dict(request.query_params) | dict(parse_qsl(raw.decode()))
        parts = [p for p in request.path_params["path"].split("/") if p]
        operation = self._operation(request.method, parts)
        token_text = request.headers.get("authorization", "").removeprefix("Bearer ") or (
            params.get("access_token", "")
        )
        token = self.tokens.get(token_text)
        if token is None or token.expires_at <= time.time():
            self._record(request, operation, params)
            if token is None:
                return meta_error(
                    400, "Invalid OAuth access token - Cannot parse access token", 190
                )
            return self._expired()
        user = self.users[token.user_id]
        if operation == "node":
            node = parts[0] if len(parts) == 1 else ""
            with self._lock:
                if node in self.containers:
                    operation = "status"
                elif node in self.posts:
                    operation = "media"
                else:
                    self._record(request, "node", params)
                    return self._missing(node)
        if operation == "conversation" and parts[0] not in self.posts:
            self._record(request, operation, params)
            return self._missing(parts[0])
        self._record(request, operation, params)
        problem = self._validate(operation, params)
        if problem is not None:
            self.invalid.append(f"{request.method} {request.url.path}: {problem}")
            return meta_error(400, problem, 100)
        if parts[0] not in ("me", user.id) and operation in ("create", "publish", "list"):
            return meta_error(400, "(#10) Not allowed to act for this user", 10)
        needed = {
            "create": "threads_content_publish",
            "publish": "threads_content_publish",
        }.get(operation, "threads_basic")
        if (operation == "list" and parts[1] == "replies") or operation == "conversation":
            needed = "threads_read_replies"
        if operation == "insights":
            needed = "threads_manage_insights"
        if needed not in token.scopes:
            return meta_error(400, f"(#10) Application does not have permission: {needed}", 10)
        after = self._take(operation)
        refused = self._before(after)
        if refused is not None:
            return refused
        with self._lock:
            response = self._handle(operation, parts, params, user)
        if after == "drop_after" and response.status_code < 300:
            return Dropped(200)
        if after == "slow_after":
            await asyncio.sleep(self.slow_seconds)
        if after == "server_error_after":
            return meta_error(500, "An unknown error has occurred.", 1, transient=True)
        return response

    def _handle(
        self, operation: str, parts: list[str], params: dict[str, str], user: User
    ) -> Response:
        if operation == "me":
            return JSONResponse(
                self._pick(
                    {
                        "id": user.id,
                        "username": user.username,
                        "name": user.name,
                        "threads_profile_picture_url": f"https://scontent.invalid/{user.id}.jpg",
                    },
                    params,
                )
            )
        if operation == "create":
            return self._create(user, params)
        if operation == "publish":
            return self._publish(user, params["creation_id"])
        if operation == "status":
            return self._status(user, parts[0], params)
        if operation == "media":
            return JSONResponse(self._pick(self._media_view(self.posts[parts[0]]), params))
        if operation == "insights":
            return self._insights(user, parts[0], params["metric"])
        if operation == "conversation":
            return self._conversation(user, parts[0], params)
        return self._list(user, parts[1], params)

    @staticmethod
    def _missing(node: str) -> Response:
        return meta_error(
            400,
            f"Unsupported get request. Object with ID '{node}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support "
            "this operation",
            100,
            33,
            kind="GraphMethodException",
        )

    @staticmethod
    def _pick(view: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        wanted = [f.strip() for f in params.get("fields", "id").split(",")] + ["id"]
        return {k: v for k, v in view.items() if k in wanted}

    # -- analytics ---------------------------------------------------------------------------

    def add_post(self, user: User, **insights: int) -> Post:
        """A published text post of `user` with these insights (`views=12`...)."""
        post_id = self.next_id()
        post = Post(
            post_id,
            user.id,
            "",
            "TEXT",
            "",
            datetime.now(UTC),
            f"S{post_id}",
            f"https://www.threads.net/@{user.username}/post/S{post_id}",
            None,
            post_id,
            "everyone",
        )
        self.posts[post_id] = post
        self.insights[post_id] = dict(insights)
        return post

    def _insights(self, user: User, media_id: str, metric: str) -> Response:
        """GET /{media}/insights: every metric must be one of the media insights metrics."""
        asked = [m for m in metric.split(",") if m]
        unknown = [m for m in asked if m not in MEDIA_INSIGHTS]
        if unknown:
            self.invalid.append(f"insights: unknown metric(s) {unknown}")
            return meta_error(400, f"(#100) Param metric must be one of {MEDIA_INSIGHTS}", 100)
        post = self.posts.get(media_id)
        if post is None:
            return meta_error(
                400,
                f"Unsupported get request. Object with ID '{media_id}' does not exist",
                100,
                33,
                kind="GraphMethodException",
            )
        if post.user_id != user.id:
            return meta_error(400, "(#10) Not allowed to read this media's insights", 10)
        values = self.insights.get(media_id, {})
        rows = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "title": name,
                "id": f"{media_id}/insights/{name}/lifetime",
            }
            for name in asked
            if name in values
        ]
        return JSONResponse({"data": rows})

    # -- containers --------------------------------------------------------------------------

    def _create(self, user: User, params: dict[str, str]) -> Response:
        p = {k: v for k, v in params.items() if k != "access_token"}
        reply_to = p.get("reply_to_id")
        if reply_to is not None:
            parent = self.posts.get(reply_to)
            if parent is None:
                return meta_error(
                    400, f"(#100) The reply_to_id {reply_to} is not a Threads post", 100
                )
            root = self.posts[parent.root]
            if root.user_id != user.id:
                return meta_error(
                    400, "(#10) You can only reply to threads whose root post you own", 10
                )
        container = Container(self.next_id(), user.id, p)
        kind = container.media_type
        if kind == "TEXT":
            self._settle(container)
        elif kind == "CAROUSEL":
            for child_id in p["children"].split(","):
                child = self.containers.get(child_id)
                if (
                    child is None
                    or child.user_id != user.id
                    or child.params.get("is_carousel_item") != "true"
                ):
                    return meta_error(400, f"(#100) Invalid carousel child {child_id}", 100)
                if child.status != "FINISHED":
                    return meta_error(
                        400, f"(#100) Carousel child {child_id} is {child.status}", 100
                    )
            self._settle(container)
        else:
            task = asyncio.get_running_loop().create_task(self._download(container))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.containers[container.id] = container
        return JSONResponse({"id": container.id})

    def _settle(self, container: Container, polls: int = 0) -> None:
        """What a container becomes once its media is in: FINISHED, or a queued fault."""
        if container.params.get("is_carousel_item") != "true" and self.container_faults:
            container.status, container.error_message = self.container_faults.popleft()
            return
        container.status, container.polls_left = "FINISHED", polls
        if polls:
            container.status = "IN_PROGRESS"

    async def _download(self, container: Container) -> None:
        """Meta cURLs the media URL; what it gets decides the container's fate."""
        video = container.media_type == "VIDEO"
        url = container.params["video_url" if video else "image_url"]
        fetch = Fetch(url, None, "", None)
        try:
            async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
                response = await client.get(url)
            fetch = Fetch(
                url,
                response.status_code,
                response.headers.get("content-type", ""),
                hashlib.sha256(response.content).hexdigest(),
            )
        except httpx.HTTPError:
            pass
        wanted = ("video/mp4", "video/quicktime") if video else ("image/jpeg", "image/png")
        with self._lock:
            self.fetches.append(fetch)
            if fetch.status == 200 and fetch.content_type.split(";")[0] in wanted:
                container.fetch = fetch
                self._settle(container, self.processing_polls if video else 0)
            else:
                # The documented reasons name video only; for an image Meta says UNKNOWN.
                container.status = "ERROR"
                container.error_message = "FAILED_DOWNLOADING_VIDEO" if video else "UNKNOWN"

    def _status(self, user: User, container_id: str, params: dict[str, str]) -> Response:
        container = self.containers[container_id]
        if container.user_id != user.id:
            return meta_error(400, "(#10) Not your container", 10)
        if container.status == "IN_PROGRESS" and container.polls_left > 0:
            container.polls_left -= 1
            if container.polls_left == 0:
                container.status = "FINISHED"
        view: dict[str, Any] = {"id": container.id, "status": container.status}
        if container.error_message:
            view["error_message"] = container.error_message
        return JSONResponse(self._pick(view, params))

    def _publish(self, user: User, creation_id: str) -> Response:
        container = self.containers.get(creation_id)
        if container is None or container.user_id != user.id:
            return meta_error(400, f"(#100) Invalid creation_id {creation_id}", 100, 4279009)
        if container.params.get("is_carousel_item") == "true":
            return meta_error(400, "(#100) A carousel item cannot be published alone", 100)
        if container.status == "PUBLISHED":
            # The fake's own words: a container becomes one post at most.
            return meta_error(400, "(#100) The container has already been published", 100)
        if container.status == "IN_PROGRESS":
            return meta_error(
                400,
                "The media is not ready for publishing, please wait for a moment",
                9007,
                2207027,
            )
        if container.status != "FINISHED":
            return meta_error(
                400, f"(#100) The container is {container.status} and cannot be published", 100
            )
        post_id = self.next_id()
        shortcode = secrets.token_urlsafe(8).replace("-", "a").replace("_", "b")
        p = container.params
        reply_to = p.get("reply_to_id")
        media: list[Fetch] = []
        for child_id in [c for c in p.get("children", "").split(",") if c]:
            child = self.containers[child_id]
            child.status = "PUBLISHED"
            media.extend([child.fetch] if child.fetch else [])
        media.extend([container.fetch] if container.fetch else [])
        post = Post(
            id=post_id,
            user_id=user.id,
            container_id=container.id,
            media_type={"TEXT": "TEXT_POST", "CAROUSEL": "CAROUSEL_ALBUM"}.get(
                container.media_type, container.media_type
            ),
            text=p.get("text", ""),
            timestamp=datetime.now(UTC),
            shortcode=shortcode,
            permalink=f"https://www.threads.com/@{user.username}/post/{shortcode}",
            reply_to=reply_to,
            root=self.posts[reply_to].root if reply_to else post_id,
            reply_control=p.get("reply_control", "everyone"),
            media=tuple(media),
        )
        self.posts[post_id] = post
        container.status, container.media_id = "PUBLISHED", post_id
        return JSONResponse({"id": post_id})

    def _media_view(self, post: Post) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": post.id,
            "media_product_type": "THREADS",
            "media_type": post.media_type,
            "permalink": post.permalink,
            "owner": {"id": post.user_id},
            "username": self.users[post.user_id].username,
            "text": post.text,
            "timestamp": post.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "shortcode": post.shortcode,
            "is_quote_post": False,
            "is_reply": post.reply_to is not None,
        }
        if post.reply_to is not None:
            view["replied_to"] = {"id": post.reply_to}
            view["root_post"] = {"id": post.root}
        return view

    def _list(self, user: User, edge: str, params: dict[str, str]) -> Response:
        since = int(params["since"]) if "since" in params else 0
        limit = int(params.get("limit", "25"))
        replies = edge == "replies"
        found = [
            post
            for post in reversed(self.posts.values())
            if post.user_id == user.id
            and (post.reply_to is not None) == replies
            and post.timestamp.timestamp() >= since
        ][:limit]
        data = [self._pick(self._media_view(post), params) for post in found]
        return JSONResponse({"data": data, "paging": {"cursors": {"before": "B", "after": "A"}}})

    def _conversation(self, user: User, media_id: str, params: dict[str, str]) -> Response:
        """Every reply below the post at any depth, oldest first unless `reverse`, paged by
        an `after` cursor; `is_reply_owned_by_me` as the caller sees it."""
        found = [p for p in self.posts.values() if p.root == media_id and p.id != media_id]
        if params.get("reverse") == "true":
            found.reverse()
        start, size = int(params.get("after") or 0), int(params.get("limit", "25"))
        data = []
        for post in found[start : start + size]:
            view = self._media_view(post)
            view["is_reply_owned_by_me"] = post.user_id == user.id
            data.append(self._pick(view, params))
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + size)}}
        if start + size < len(found):
            paging["next"] = f"https://graph.threads.net/{VERSION}/{media_id}/conversation"
        return JSONResponse({"data": data, "paging": paging})

    # -- views for tests ---------------------------------------------------------------------

    def post(self, user: User, text: str, *, reply_to: str | None = None) -> Post:
        """`user` posts in the app: a new post, or a reply to the post `reply_to`."""
        post_id = self.next_id()
        shortcode = f"sc{post_id}"
        post = Post(
            id=post_id,
            user_id=user.id,
            container_id="",
            media_type="TEXT_POST",
            text=text,
            timestamp=datetime.now(UTC),
            shortcode=shortcode,
            permalink=f"https://www.threads.com/@{user.username}/post/{shortcode}",
            reply_to=reply_to,
            root=self.posts[reply_to].root if reply_to else post_id,
            reply_control="everyone",
        )
        self.posts[post_id] = post
        return post

    def thread_of(self, root_id: str) -> list[Post]:
        """The root post and its chain of replies, in order."""
        chain = [self.posts[root_id]]
        while True:
            nxt = [p for p in self.posts.values() if p.reply_to == chain[-1].id]
            if not nxt:
                return chain
            chain.append(nxt[0])
