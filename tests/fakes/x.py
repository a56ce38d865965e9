"""A fake X API v2 on 127.0.0.1: OAuth 2.0 with PKCE, users, chunked media, posts, faults.

Every request to `/2/...` (except the token endpoint, which the OpenAPI does not describe) is
validated against X's official OpenAPI (`../shared/specs/x/xdk/specs/openapi.json`) with
openapi-core; a request that does not conform is answered 400 and recorded in `invalid`, which
the tests assert stays empty. The fake's own successful answers are checked the same way.
State (tokens, media, posts, reply chains) is kept so tests assert on what X would show, e.g.
that a post exists exactly once.

Faults are queued per operation with `fail_next(operation, fault)`; operations are `tweets`,
`lookup` (GET /2/tweets: metrics), `post` (GET /2/tweets/{id}), `media`, `media-status`,
`timeline`, `search`, `me` and `token`. Replies are read by search (`search_enabled = False`
stands for an X plan without it). Metrics: each post carries `public_metrics` (and, to its
author within 30 days, `non_public_metrics`); a post removed (`delete_tweet`) or marked
`deleted` answers as not found, `revoke` ends a user's tokens, and the `missing_metric`
fault answers without the non-public block.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.http import Dropped, FakeServer, IssuedTokens
from tests.fakes.openapi import Contract

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
OPENAPI = SPECS / "x" / "xdk" / "specs" / "openapi.json"
API_ORIGIN = "https://api.x.com"
CONTRACT = Contract(OPENAPI, API_ORIGIN)
"""The server the OpenAPI names; requests are validated as if they had been sent there."""

DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
REPLY_NOT_ALLOWED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
SEARCH_FORBIDDEN = (
    "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
    "from a Twitter developer App that is attached to a Project. You can create a project via "
    "the developer portal."
)
"""X's 403 to an app whose plan has no access to search."""
SCOPE_NEEDED = {
    "tweets": "tweet.write",
    "lookup": "tweet.read",
    "timeline": "tweet.read",
    "search": "tweet.read",
    "post": "tweet.read",
    "me": "users.read",
    "media": "media.write",
    "media-status": "media.write",
}
FAULTS = frozenset(
    {
        "rate_limit",
        "last_call",
        "unavailable",
        "server_error_after",
        "drop_after",
        "slow_after",
        "missing_metric",
    }
)
"""rate_limit: 429 with a reset; last_call: acts, and says no calls are left until the reset;
unavailable: 503 before acting; server_error_after: acts, then answers 500; drop_after: acts,
then drops the connection mid-answer; slow_after: acts, then answers only after `slow_seconds`
(long enough for a test to kill the client in between); missing_metric: a lookup answers
without `non_public_metrics`."""


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "type": kind, "status": status}, status_code=status
    )


@dataclass
class User:
    id: str
    username: str
    name: str


@dataclass
class Grant:
    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]


@dataclass
class Media:
    id: str
    user_id: str
    media_type: str
    category: str
    total_bytes: int
    segments: dict[int, bytes] = field(default_factory=dict)
    state: str = "uploading"
    """uploading → (pending → in_progress →) succeeded | failed."""
    polls_left: int = 0

    @property
    def data(self) -> bytes:
        return b"".join(self.segments[i] for i in sorted(self.segments))


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: datetime
    conversation_id: str
    reply_to: str | None = None
    media_ids: tuple[str, ...] = ()
    public_metrics: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "repost_count",
                "reply_count",
                "like_count",
                "quote_count",
                "bookmark_count",
                "impression_count",
            ),
            0,
        )
    )
    non_public_metrics: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("impression_count", "url_link_clicks", "user_profile_clicks"), 0
        )
    )
    deleted: bool = False
    withheld: bool = False
    """X will not show it (a suspended or protected author): looked up, it is a
    not-authorized-for-resource problem."""


class FakeX(FakeServer):
    fault_names = FAULTS
    name = "fake X"
    contract = CONTRACT
    first_id = 1_860_000_000_000_000_001
    authorize_path = "/i/oauth2/authorize"

    def __init__(self, *, client_id: str = "masthead-client", client_secret: str = "shh") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, User] = {}
        self.tokens = IssuedTokens()
        self.refresh_tokens: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.grants: dict[str, Grant] = {}
        self.media: dict[str, Media] = {}
        self.tweets: dict[str, Tweet] = {}
        self.authorize_as: str | None = None
        self.deny_authorization = False
        self.restrict_replies = False
        self.search_enabled = True
        self.processing_result = "succeeded"
        self.processing_polls = 1
        self.token_delay = 0.0
        self.lookup_seconds = 0.0
        """How long each metrics lookup takes (a crash test kills workers while they wait)."""
        app = Starlette(
            routes=[
                Route("/i/oauth2/authorize", self._authorize, methods=["GET"]),
                Route("/2/oauth2/token", self._token, methods=["POST"]),
                Route("/2/{path:path}", self._api, methods=["GET", "POST"]),
            ]
        )
        self.use(app)

    # -- lifecycle and test helpers ----------------------------------------------------------

    def add_user(self, username: str, name: str | None = None) -> User:
        user = User(self.next_id(), username, name or username.title())
        self.users[user.id] = user
        return user

    def issue_tokens(
        self, user: User, *, lifetime: float = 7200.0, scopes: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """A token pair as the token endpoint would give it (for accounts added directly)."""
        access, refresh = f"at-{self.next_id()}", f"rt-{self.next_id()}"
        granted = scopes or (
            "tweet.read",
            "tweet.write",
            "users.read",
            "media.write",
            "offline.access",
        )
        self.tokens.issue(access, user.id, lifetime, granted)
        self.refresh_tokens[refresh] = (user.id, granted)
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": int(lifetime),
            "scope": " ".join(granted),
        }

    def expire_access_tokens(self) -> None:
        """X ends access tokens before their announced end at times (revocation, rotation)."""
        self.tokens.expire()

    def revoke(self, user: User) -> None:
        """The user revoked the app: their access and refresh tokens stop working."""
        with self._lock:
            for token in [t for t, found in self.tokens.items() if found.user_id == user.id]:
                del self.tokens[token]
            for token in [t for t, (uid, _) in self.refresh_tokens.items() if uid == user.id]:
                del self.refresh_tokens[token]

    def add_tweet(self, user: User, text: str, age: timedelta = timedelta(0)) -> Tweet:
        """A post that exists on X (published `age` ago), as if Masthead had sent it."""
        tweet_id = self.next_id()
        tweet = Tweet(tweet_id, user.id, text, datetime.now(UTC) - age, tweet_id)
        self.tweets[tweet_id] = tweet
        return tweet

    def tweets_by(self, user: User) -> list[Tweet]:
        return [t for t in self.tweets.values() if t.author_id == user.id]

    def post(self, user: User, text: str, *, to: str | None = None) -> Tweet:
        """`user` posts in the app: a new post, or a reply to the post `to`."""
        tweet_id = self.next_id()
        conversation = self.tweets[to].conversation_id if to else tweet_id
        tweet = Tweet(tweet_id, user.id, text, datetime.now(UTC), conversation, to)
        self.tweets[tweet_id] = tweet
        return tweet

    def delete_tweet(self, tweet_id: str) -> None:
        del self.tweets[tweet_id]

    # -- OAuth -------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        """Stands in for the consent screen: the user `authorize_as` grants (or denies)."""
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != self.client_id
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not q.get("state")
            or not redirect_uri
        ):
            return problem(400, "Bad Request", "Invalid authorization request")
        back = {"state": q["state"]}
        if self.deny_authorization or self.authorize_as is None:
            back["error"] = "access_denied"
        else:
            code = f"code-{self.next_id()}"
            self.grants[code] = Grant(
                self.authorize_as,
                q["client_id"],
                redirect_uri,
                q["code_challenge"],
                tuple(q.get("scope", "").split()),
            )
            back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return user == self.client_id and secret == self.client_secret
        return form.get("client_id") == self.client_id

    async def _token(self, request: Request) -> Response:
        raw = await request.body()
        form = dict(parse_qsl(raw.decode()))
        self.record(request, "token", raw)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        invalid = JSONResponse(
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
            status_code=400,
        )
        if not self._client_ok(request, form):
            return JSONResponse(
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization",
                },
                status_code=401,
            )
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.grants.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if (
                    grant is None
                    or grant.redirect_uri != form.get("redirect_uri")
                    or grant.challenge != challenge
                ):
                    return invalid
                user_id, scopes = grant.user_id, grant.scopes
            elif form.get("grant_type") == "refresh_token":
                found = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if found is None:  # single-use: a spent refresh token is refused
                    return invalid
                user_id, scopes = found
            else:
                return invalid
            body = self.issue_tokens(self.users[user_id], scopes=scopes)
        if "offline.access" not in scopes:
            self.refresh_tokens.pop(body.pop("refresh_token"))
        return JSONResponse(body)

    # -- the API -----------------------------------------------------------------------------

    @staticmethod
    def _operation(method: str, path: str) -> str:
        if path == "/2/tweets":
            return "lookup" if method == "GET" else "tweets"
        if path == "/2/tweets/search/recent":
            return "search"
        if path.startswith("/2/tweets/"):
            return "post"
        if path == "/2/users/me":
            return "me"
        if path.startswith("/2/users/"):
            return "timeline"
        if path == "/2/media/upload" and method == "GET":
            return "media-status"
        return "media"

    def _limits(self, response: Response, remaining: int = 99, reset: float | None = None) -> None:
        response.headers["x-rate-limit-limit"] = "100"
        response.headers["x-rate-limit-remaining"] = str(remaining)
        response.headers["x-rate-limit-reset"] = str(int(reset or time.time() + 900))

    async def _api(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        operation = self._operation(request.method, path)
        self.record(request, operation, body)
        problem_text = CONTRACT.request_problem(request, body)
        if problem_text is not None:
            self.invalid.append(problem_text)
            return problem(
                400, "Invalid Request", problem_text, "https://api.x.com/2/problems/invalid-request"
            )
        token = self.tokens.bearer(request)
        if token is None:
            return problem(401, "Unauthorized", "Unauthorized")
        if SCOPE_NEEDED[operation] not in token.scopes:
            return problem(403, "Forbidden", f"Missing scope {SCOPE_NEEDED[operation]}")
        user = self.users[token.user_id]
        fault = self.faults[operation].popleft() if self.faults[operation] else None
        if fault == "rate_limit":
            response: Response = problem(429, "Too Many Requests", "Too Many Requests")
            self._limits(response, 0, time.time() + self.rate_limit_seconds)
            return response
        if fault == "unavailable":
            return problem(503, "Service Unavailable", "Service Unavailable")
        request.state.fault = fault
        response = await self._handle(request, operation, user, body)
        if response.status_code < 300:
            self.invalid.extend(CONTRACT.answer_problems(request, body, response))
        if fault == "drop_after" and response.status_code < 300:
            return Dropped(201, b'{"data":')
        if fault == "slow_after":
            await asyncio.sleep(self.slow_seconds)
        if fault == "server_error_after":
            return problem(500, "Internal Server Error", "Internal Server Error")
        if fault == "last_call":
            self._limits(response, 0, time.time() + self.rate_limit_seconds)
        else:
            self._limits(response)
        return response

    async def _handle(self, request: Request, operation: str, user: User, body: bytes) -> Response:
        path = request.url.path
        if operation == "me":
            return JSONResponse(
                {
                    "data": {
                        "id": user.id,
                        "username": user.username,
                        "name": user.name,
                        "profile_image_url": f"https://pbs.twimg.invalid/{user.id}.jpg",
                    }
                }
            )
        if operation == "tweets":
            return self._create_tweet(user, json.loads(body))
        if operation == "lookup":
            await asyncio.sleep(self.lookup_seconds)
            return self._lookup(request, user)
        if operation == "timeline":
            return self._timeline(request, user)
        if operation == "search":
            return self._search(request)
        if operation == "post":
            return self._post(request.url.path.rsplit("/", 1)[1])
        if operation == "media-status":
            return self._media_status(request.query_params["media_id"], user)
        if path == "/2/media/upload/initialize":
            payload = json.loads(body)
            media = Media(
                self.next_id(),
                user.id,
                payload["media_type"],
                payload.get("media_category", "tweet_image"),
                payload["total_bytes"],
            )
            self.media[media.id] = media
            return JSONResponse(
                {
                    "data": {
                        "id": media.id,
                        "media_key": f"3_{media.id}",
                        "expires_after_secs": 86400,
                    }
                }
            )
        media_id, _, command = path.removeprefix("/2/media/upload/").partition("/")
        found = self.media.get(media_id)
        if found is None or found.user_id != user.id:
            return problem(404, "Not Found Error", f"Could not find media {media_id}")
        if command == "append":
            payload = json.loads(body)
            found.segments[payload["segment_index"]] = base64.b64decode(payload["media"])
            return JSONResponse({"data": {"expires_at": int(time.time()) + 86400}})
        return self._finalize(found)

    def _finalize(self, media: Media) -> Response:
        if len(media.data) != media.total_bytes:
            return problem(
                400,
                "Invalid Request",
                f"Media size {len(media.data)} does not match total_bytes {media.total_bytes}",
            )
        if media.category == "tweet_image":
            media.state = "succeeded"
        else:
            media.state, media.polls_left = "pending", self.processing_polls
        return JSONResponse({"data": self._media_data(media)})

    def _media_data(self, media: Media) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": media.id,
            "media_key": f"7_{media.id}",
            "size": media.total_bytes,
            "expires_after_secs": 86400,
        }
        if media.category != "tweet_image":
            info: dict[str, Any] = {"state": media.state}
            if media.state in ("pending", "in_progress"):
                info["check_after_secs"] = 1
            data["processing_info"] = info
        return data

    def _media_status(self, media_id: str, user: User) -> Response:
        media = self.media.get(media_id)
        if media is None or media.user_id != user.id:
            return problem(404, "Not Found Error", f"Could not find media {media_id}")
        if media.state in ("pending", "in_progress"):
            if media.polls_left > 0:
                media.state, media.polls_left = "in_progress", media.polls_left - 1
            else:
                media.state = self.processing_result
        return JSONResponse({"data": self._media_data(media)})

    def _create_tweet(self, user: User, payload: dict[str, Any]) -> Response:
        text = payload.get("text", "")
        media_ids = tuple(payload.get("media", {}).get("media_ids", ()))
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.user_id != user.id or media.state != "succeeded":
                return problem(400, "Invalid Request", f"Your media IDs are invalid: {media_id}")
        reply_to = payload.get("reply", {}).get("in_reply_to_tweet_id")
        if reply_to is not None:
            if reply_to not in self.tweets:
                return problem(403, "Forbidden", "The post you are replying to does not exist.")
            if self.restrict_replies:
                return problem(403, "Forbidden", REPLY_NOT_ALLOWED)
        if any(t.author_id == user.id and t.text == text for t in self.tweets.values()):
            return problem(403, "Forbidden", DUPLICATE)
        tweet_id = self.next_id()
        conversation = self.tweets[reply_to].conversation_id if reply_to else tweet_id
        tweet = Tweet(tweet_id, user.id, text, datetime.now(UTC), conversation, reply_to, media_ids)
        self.tweets[tweet.id] = tweet
        return JSONResponse(
            {"data": {"id": tweet.id, "text": text, "edit_history_post_ids": [tweet.id]}},
            status_code=201,
            headers={"location": f"{API_ORIGIN}/2/tweets/{tweet.id}"},
        )

    def _lookup(self, request: Request, user: User) -> Response:
        """GET /2/tweets: the posts found, a not-found problem for each missing id and a
        not-authorized problem for each withheld one. The owner-only block is refused (the
        whole request, as X does) for another user's post or one older than 30 days."""
        ids = request.query_params["ids"].split(",")
        fields = set(request.query_params.get("post.fields", "").split(","))
        fault = request.state.fault
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for tweet_id in ids:
            tweet = self.tweets.get(tweet_id)
            if tweet is None or tweet.deleted:
                errors.append(
                    {
                        "value": tweet_id,
                        "detail": f"Could not find post with ids: [{tweet_id}].",
                        "title": "Not Found Error",
                        "resource_type": "post",
                        "parameter": "ids",
                        "resource_id": tweet_id,
                        "type": "https://api.x.com/2/problems/resource-not-found",
                    }
                )
                continue
            item: dict[str, Any] = {
                "id": tweet.id,
                "text": html.escape(tweet.text, quote=False),
                "edit_history_post_ids": [tweet.id],
            }
            if "public_metrics" in fields:
                item["public_metrics"] = dict(tweet.public_metrics)
            if "non_public_metrics" in fields:
                too_old = tweet.created_at < datetime.now(UTC) - timedelta(days=30)
                if tweet.author_id != user.id or too_old:
                    return problem(
                        403,
                        "Forbidden",
                        "Sorry, you are not authorized to access non_public_metrics on this post.",
                    )
                if fault != "missing_metric":
                    item["non_public_metrics"] = dict(tweet.non_public_metrics)
            if tweet.withheld:
                errors.append(
                    {
                        "value": tweet_id,
                        "detail": "Sorry, you are not authorized to see the Post with id:"
                        f" [{tweet_id}].",
                        "title": "Authorization Error",
                        "resource_type": "post",
                        "parameter": "ids",
                        "resource_id": tweet_id,
                        "type": "https://api.x.com/2/problems/not-authorized-for-resource",
                    }
                )
                continue
            data.append(item)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return JSONResponse(body)

    def _timeline(self, request: Request, user: User) -> Response:
        owner_id = request.url.path.split("/")[3]
        start = request.query_params.get("start_time")
        since = datetime.fromisoformat(start) if start else datetime.now(UTC) - timedelta(days=7)
        limit = int(request.query_params.get("max_results", "10"))
        found = [
            t
            for t in reversed(self.tweets.values())
            if t.author_id == owner_id and t.created_at >= since
        ][:limit]
        data = []
        for tweet in found:
            data.append(self._tweet_data(tweet, request.query_params))
        meta = {"result_count": len(data)}
        return JSONResponse({"data": data, "meta": meta} if data else {"meta": meta})

    @staticmethod
    def _tweet_data(tweet: Tweet, query: Mapping[str, str]) -> dict[str, Any]:
        """A post as X shows it: text HTML-escaped, the optional fields only when asked
        (in `post.fields`, or by expansion for the author and the referenced posts)."""
        asked = {*query.get("post.fields", "").split(","), *query.get("expansions", "").split(",")}
        item: dict[str, Any] = {
            "id": tweet.id,
            "text": html.escape(tweet.text, quote=False),
            "edit_history_post_ids": [tweet.id],
        }
        if "created_at" in asked:
            item["created_at"] = tweet.created_at.isoformat().replace("+00:00", "Z")
        if "conversation_id" in asked:
            item["conversation_id"] = tweet.conversation_id
        if "author_id" in asked:
            item["author_id"] = tweet.author_id
        if "referenced_posts" in asked and tweet.reply_to is not None:
            item["referenced_posts"] = [{"type": "replied_to", "id": tweet.reply_to}]
        return item

    def _search(self, request: Request) -> Response:
        """search/recent for `conversation_id:<id>` (the only query Masthead sends): the
        conversation's replies, newest first, paged by `next_token`."""
        if not self.search_enabled:
            return JSONResponse(
                {
                    "title": "Client Forbidden",
                    "detail": SEARCH_FORBIDDEN,
                    "reason": "client-not-enrolled",
                    "required_enrollment": "Appropriate Level of API Access",
                    "type": "https://api.x.com/2/problems/client-forbidden",
                },
                status_code=403,
            )
        q = request.query_params
        field, _, conversation = q["query"].partition(":")
        if field != "conversation_id" or not conversation.isdigit():
            return problem(400, "Invalid Request", f"Unsupported query in this fake: {q['query']}")
        found = [
            t
            for t in reversed(self.tweets.values())
            if t.conversation_id == conversation and t.id != conversation
        ]
        start, size = int(q.get("next_token") or 0), int(q.get("max_results", "10"))
        page = found[start : start + size]
        data = [self._tweet_data(t, q) for t in page]
        meta: dict[str, Any] = {"result_count": len(data)}
        if start + size < len(found):
            meta["next_token"] = str(start + size)
        body: dict[str, Any] = {"meta": meta}
        if data:
            body["data"] = data
            if "author_id" in q.get("expansions", ""):
                authors = {t.author_id for t in page}
                body["includes"] = {
                    "users": [
                        {"id": u.id, "username": u.username, "name": u.name}
                        for u in self.users.values()
                        if u.id in authors
                    ]
                }
        return JSONResponse(body)

    def _post(self, tweet_id: str) -> Response:
        """GET /2/tweets/{id}: X answers 200 with only an error for a post that is gone."""
        tweet = self.tweets.get(tweet_id)
        if tweet is None or tweet.deleted:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "value": tweet_id,
                            "detail": f"Could not find post with id: [{tweet_id}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": tweet_id,
                            "type": "https://api.x.com/2/problems/resource-not-found",
                        }
                    ]
                }
            )
        return JSONResponse({"data": self._tweet_data(tweet, {})})
