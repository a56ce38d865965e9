"""X (Twitter): OAuth 2.0 with PKCE, v2 chunked media upload, posts and threads via /2/tweets.

X has no idempotency key, so a `POST /2/tweets` whose answer was lost is reconciled by looking
for the post among the account's recent posts (same text, same parent), never by posting
again. Facts used here are in shared/spec/platform-notes.md section 1.
"""

from __future__ import annotations

import asyncio
import base64
import html
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from masthead.config import OAuthApp, Settings
from masthead.domain.budgets import DAY, Budget, PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.domain.inputs import ascii_int
from masthead.domain.reply_tree import top_level_parents
from masthead.platforms import kit
from masthead.platforms.spec import PlatformSpec
from masthead.timeutil import iso, parse_time, utcnow

SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
REFRESH_MARGIN = timedelta(minutes=5)
"""Access tokens live 2 hours; refresh a little before, so a long upload does not outlive one."""
CHUNK_SIZE = 4 * 1024 * 1024
PROCESSING_LIMIT_SECONDS = 600.0
RECONCILE_WINDOW = timedelta(minutes=10)
"""Reconcile looks at the account's posts created since this long before the send began."""
_URL = re.compile(r"https?://\S+")
SEARCH_PAGES = 5
"""Pages of 100 replies read per poll of one conversation (search/recent)."""
_REPLY_FIELDS = {
    "post.fields": "conversation_id,created_at",
    "expansions": "author_id,referenced_posts",
}
"""What a reply is read with (X's OpenAPI: author and parent come by expansion)."""
METRICS_BATCH = 100
"""GET /2/tweets takes up to 100 ids (the OpenAPI's `maxItems`)."""
NON_PUBLIC_DAYS = timedelta(days=30)
"""X serves `non_public_metrics` (clicks, profile visits) of one's own posts for 30 days."""
NOT_FOUND = "/2/problems/resource-not-found"
NOT_AUTHORIZED = "/2/problems/not-authorized-for-resource"
"""The end of the problem `type` (api.x.com in the OpenAPI, api.twitter.com in older answers)."""
PUBLIC_METRICS = {
    "impression_count": "impressionsCount",
    "like_count": "likesCount",
    "reply_count": "repliesCount",
    "bookmark_count": "savesCount",
    "repost_count": "twitterRetweetsCount",
    "quote_count": "twitterQuotesCount",
}
NON_PUBLIC_METRICS = {
    "impression_count": "impressionsCount",
    "url_link_clicks": "clicksCount",
    "user_profile_clicks": "profileVisitsCount",
}


def media_category(file: kit.MediaFile) -> str:
    if file.content_type == "image/gif":
        return "tweet_gif"
    if file.is_video:
        return "tweet_video"
    return "tweet_image"


def x_message(response: httpx.Response) -> str:
    """X's own words for a refusal: the problem `detail`, an `errors[0].message`, or an OAuth
    `error_description`; the status line when the body says nothing."""
    body = kit.json_object(response)
    if body is not None:
        for key in ("detail", "error_description", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message") or errors[0].get("detail")
            if message:
                return str(message)
        if isinstance(body.get("error"), str):
            return str(body["error"])
    return f"X answered HTTP {response.status_code}"


def _same_text(ours: str, theirs: str) -> bool:
    """X returns text HTML-escaped, NFC-normalised and with links wrapped in t.co."""

    def canonical(text: str) -> str:
        return _URL.sub("<url>", unicodedata.normalize("NFC", html.unescape(text))).strip()

    return canonical(ours) == canonical(theirs)


class XOAuth(kit.AppOAuth):
    """X's OAuth 2.0 authorization code flow with PKCE (public or confidential client)."""

    platform = "twitter"
    scopes = SCOPES

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._token(kit.code_grant(code, redirect_uri, verifier))
        return kit.exchanged_credentials("X", response, x_message)

    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        """X rotates the refresh token: the answer's one replaces the stored one."""
        response = await self._token(kit.refresh_grant(current))
        if response.status_code == 429 or response.status_code >= 500:
            raise kit.Retryable(f"X could not refresh the token: {x_message(response)}")
        if response.status_code == 401:  # the app's credentials, not the account's
            raise kit.Permanent(
                f"X refused this server's app credentials (MASTHEAD_X_CLIENT_ID and "
                f"MASTHEAD_X_CLIENT_SECRET): {x_message(response)}"
            )
        if response.status_code != 200:
            raise kit.RefreshTokenSpent(x_message(response))
        return kit.credentials_from_token_response(response.json(), previous=current)

    async def _token(self, form: dict[str, str]) -> httpx.Response:
        """Confidential clients authenticate with Basic auth, public ones name their client id."""
        auth = (
            httpx.BasicAuth(self._app.client_id, self._app.client_secret)
            if self._app.client_secret
            else None
        )
        url = f"{self._app.api_url}/2/oauth2/token"
        form = {**form, "client_id": self._app.client_id}
        return await kit.post_token(self._client, "X", url, form, auth=auth)


@dataclass(frozen=True, slots=True)
class PreparedTweet:
    """What `prepare` hands to `send` and `reconcile`."""

    since: str | None = None
    """When sending began, less the reconcile window: reconcile looks at posts since."""
    media_ids: list[str] | None = None
    """The uploaded media's ids, in order."""


class TwitterPublisher(kit.HttpPublisher):
    platform: ClassVar[str] = "twitter"

    def __init__(
        self,
        *,
        api_url: str,
        app: OAuthApp | None,
        timeout: float = 30.0,
        chunk_size: int = CHUNK_SIZE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._chunk_size = chunk_size
        self._api = api_url.rstrip("/")
        self._client = kit.new_client(timeout, transport)
        self._oauth = XOAuth(app, self._client) if app is not None else None
        self.oauth = self._oauth
        self._http = kit.PlatformHttp.with_tokens(
            "X", self._client, self._classify, self._oauth, REFRESH_MARGIN
        )
        self._resets: dict[tuple[str, str], float] = {}
        """(account, endpoint) → unix time before which X said no calls are left."""

    # -- accounts and tokens -----------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        _, answer = await self._http.whose(
            credentials,
            "An X account",
            f"{self._api}/2/users/me",
            {"user.fields": "name,profile_image_url,username"},
            x_message,
        )
        user = answer["data"]
        return kit.ConnectedAccount(
            external_id=str(user["id"]),
            username=str(user["username"]),
            credentials=dict(credentials),
            fullname=str(user.get("name") or user["username"]),
            profile_image_url=user.get("profile_image_url"),
        )

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        ctx: kit.AccountScope,
        method: str,
        path: str,
        *,
        endpoint: str,
        creates: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised call. Waits are obeyed before the call (x-rate-limit-remaining 0
        until x-rate-limit-reset); a 401 refreshes the token and tries once more (X did not
        act on a request it refused to authorise). Transport errors: Retryable when the request
        never left, OutcomeUnknown when it may have created something (`creates`)."""
        key = (ctx.account.external_id, endpoint)
        wait = self._resets.get(key, 0.0) - time.time()
        if wait > 0:
            raise kit.Retryable(f"X rate limit for {endpoint} exhausted", retry_after=wait)
        response = await self._http.authorised(
            ctx, method, f"{self._api}{path}", creates=creates, stale=self._noted(key), **kwargs
        )
        self._note_limits(key, response)
        return response

    def _noted(self, key: tuple[str, str]) -> kit.Stale:
        """The default 401 test, noting X's rate-limit headers on the answer it reads."""

        async def stale(ctx: kit.AccountScope, response: httpx.Response) -> bool:
            self._note_limits(key, response)
            return response.status_code == 401

        return stale

    def _note_limits(self, key: tuple[str, str], response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-remaining")
        reset = ascii_int(response.headers.get("x-rate-limit-reset", ""))
        if remaining == "0" and reset is not None:
            self._resets[key] = float(reset)
        else:
            self._resets.pop(key, None)

    @staticmethod
    def _reset_after(response: httpx.Response) -> float | None:
        """Seconds until the rate-limit window X named ends (a 429's wait)."""
        reset = ascii_int(response.headers.get("x-rate-limit-reset", ""))
        if reset is not None:
            return max(1.0, reset - time.time())
        return None

    def _classify(self, response: httpx.Response, creates: bool) -> kit.PublishError | None:
        """X's answer in the engine's terms (platform-notes 1.6 and 11). A 429 waits for the
        window X named; a 5xx waits only for Retry-After (the window can be 15 minutes off
        and says nothing about an outage)."""
        if response.status_code < 300:
            return None
        message = x_message(response)
        wait = self._reset_after(response) if response.status_code == 429 else None
        return kit.refusal("X", response, message, creates=creates, throttle_wait=wait)

    # -- media -------------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        """Upload the item's media (nothing visible is created) and note when sending began,
        so a reconcile knows which of the account's posts to look at."""
        since = iso(utcnow() - RECONCILE_WINDOW)
        urls = ctx.items[position].media_urls
        if not urls:
            return kit.stored(PreparedTweet(since))
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for X yet")
        ids = []
        for url in urls:
            ids.append(await self._upload(ctx, ctx.media, await ctx.media.file(url)))
        return kit.stored(PreparedTweet(since, ids))

    async def _upload(
        self, ctx: kit.PublishContext, media: kit.MediaSource, file: kit.MediaFile
    ) -> str:
        response = await self._call(
            ctx,
            "POST",
            "/2/media/upload/initialize",
            endpoint="media",
            json={
                "media_type": file.content_type,
                "total_bytes": file.size,
                "media_category": media_category(file),
            },
        )
        self._http.check(response)
        media_id = str(response.json()["data"]["id"])
        index = 0
        async for chunk in media.chunks(file, self._chunk_size):
            response = await self._call(
                ctx,
                "POST",
                f"/2/media/upload/{media_id}/append",
                endpoint="media",
                json={"media": base64.b64encode(chunk).decode("ascii"), "segment_index": index},
            )
            self._http.check(response)
            index += 1
        response = await self._call(
            ctx, "POST", f"/2/media/upload/{media_id}/finalize", endpoint="media"
        )
        self._http.check(response)
        await self._wait_processed(ctx, media_id, response.json()["data"])
        return media_id

    async def _wait_processed(self, ctx: kit.PublishContext, media_id: str, data: Any) -> None:
        """Video and GIFs are processed after finalize; a post may attach them only once X
        says `succeeded`. Poll after the `check_after_secs` X asks for."""
        deadline = time.monotonic() + PROCESSING_LIMIT_SECONDS
        while True:
            info = data.get("processing_info") or {}
            state = info.get("state", "succeeded")
            if state == "succeeded":
                return
            if state == "failed":
                raise kit.Permanent(f"X could not process the media {media_id} (state: failed)")
            if time.monotonic() > deadline:
                raise kit.Retryable(f"X is still processing media {media_id}")
            await asyncio.sleep(max(0.0, float(info.get("check_after_secs") or 1)))
            response = await self._call(
                ctx,
                "GET",
                "/2/media/upload",
                endpoint="media-status",
                params={"media_id": media_id, "command": "STATUS"},
            )
            self._http.check(response)
            data = response.json()["data"]

    # -- posts -------------------------------------------------------------------------------

    def _sent(self, ctx: kit.PublishContext, tweet_id: str) -> kit.SentItem:
        return kit.SentItem(tweet_id, f"https://x.com/{ctx.account.username}/status/{tweet_id}")

    @staticmethod
    def _parent(ctx: kit.PublishContext, position: int) -> str | None:
        return ctx.previous[position - 1].remote_id if position > 0 else None

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        body: dict[str, Any] = {"text": ctx.items[position].text}
        media_ids = kit.loaded(PreparedTweet, prepared).media_ids
        if media_ids:
            body["media"] = {"media_ids": list(media_ids)}
        parent = self._parent(ctx, position)
        if parent is not None:
            body["reply"] = {"in_reply_to_tweet_id": parent}
        try:
            tweet_id = await self._tweet(ctx, body)
        except kit.OutcomeUnknown as unknown:
            return await kit.found_or_unknown(unknown, self.reconcile(ctx, position, prepared))
        return self._sent(ctx, tweet_id)

    async def _tweet(self, ctx: kit.AccountScope, body: dict[str, Any]) -> str:
        """`POST /2/tweets` (a post, a thread's next post or a reply): the new post's id. A
        lost answer is OutcomeUnknown, which the caller settles by looking for the post."""
        response = await self._call(
            ctx, "POST", "/2/tweets", endpoint="tweets", creates=True, json=body
        )
        self._http.check(response, creates=True)
        data = response.json().get("data")
        if not isinstance(data, dict) or "id" not in data:
            raise kit.Permanent(x_message(response))
        return str(data["id"])

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """The account's post with this item's text in this thread's conversation, created
        since the send began; None when X does not show one (the outcome stays unknown).
        X refuses duplicate text from one account, so text and conversation identify it."""
        params: dict[str, Any] = {
            "max_results": 100,
            "post.fields": "created_at,conversation_id",
        }
        since = kit.loaded(PreparedTweet, prepared).since
        if since:
            params["start_time"] = since
        timeline = f"/2/users/{ctx.account.external_id}/tweets"
        response = await kit.answer_or_none(
            self._call(ctx, "GET", timeline, endpoint="timeline", params=params)
        )
        if response is None:
            return None
        root = ctx.previous[0].remote_id if position > 0 else None
        earlier = {item.remote_id for item in ctx.previous}
        for tweet in response.json().get("data") or []:
            tweet_id = str(tweet["id"])
            conversation = str(tweet.get("conversation_id") or tweet_id)
            if tweet_id in earlier or conversation != (root or tweet_id):
                continue
            if _same_text(ctx.items[position].text, str(tweet.get("text", ""))):
                return self._sent(ctx, tweet_id)
        return None

    # -- comments (replies) ------------------------------------------------------------------

    async def list_comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, since: datetime | None
    ) -> Sequence[kit.RemoteComment] | kit.PostGone:
        """The replies in the post's conversation (search/recent: the last 7 days, up to
        `SEARCH_PAGES` pages; all of them, so that a deep reply's top-level ancestor is
        known). An app without search in its X plan is refused with 403: capture is off for
        X, and posting replies still works."""
        params: dict[str, Any] = {
            "query": f"conversation_id:{post.remote_id}",
            "max_results": 100,
            **_REPLY_FIELDS,
            "user.fields": "name,username",
        }
        tweets: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        for _ in range(SEARCH_PAGES):
            response = await self._call(
                ctx, "GET", "/2/tweets/search/recent", endpoint="search", params=params
            )
            if response.status_code == 403:
                raise kit.Permanent(
                    "Reading X replies needs an X API plan with search (GET "
                    "/2/tweets/search/recent); this app has none, so comment capture is off "
                    f"for X (replies can still be posted). X said: {x_message(response)}"
                )
            body = self._http.check(response).json()
            tweets.extend(body.get("data") or [])
            for user in (body.get("includes") or {}).get("users") or []:
                users[str(user["id"])] = user
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["next_token"] = next_token
        if not tweets and await self._gone(ctx, post.remote_id):
            return kit.PostGone("X no longer has this post")
        return flatten_replies(post.remote_id, ctx.account.external_id, tweets, users)

    async def _gone(self, ctx: kit.AccountScope, tweet_id: str) -> bool:
        """Whether X says the post no longer exists (a 200 whose only content is a Not Found
        error); asked only when a conversation shows no replies."""
        response = await self._call(ctx, "GET", f"/2/tweets/{tweet_id}", endpoint="lookup")
        body = self._http.check(response).json()
        errors = body.get("errors") or []
        return "data" not in body and any(
            str(e.get("type", "")).endswith("/resource-not-found") for e in errors
        )

    async def send_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str:
        """An X reply to the post, or to the comment named as parent. X refuses some (its
        words: "Reply to this conversation is not allowed…"): permanent."""
        parent = comment.parent_platform_comment_id or post.remote_id
        body: dict[str, Any] = {"text": comment.text, "reply": {"in_reply_to_tweet_id": parent}}
        return await kit.sent_or_found(
            self._tweet(ctx, body), lambda: self.find_comment(ctx, post, comment)
        )

    async def find_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str | None:
        """The account's reply with this text to this parent, among its recent posts (the
        timeline needs no search plan). X refuses duplicate text from one account, so text
        and parent identify it."""
        parent = comment.parent_platform_comment_id or post.remote_id
        response = await self._call(
            ctx,
            "GET",
            f"/2/users/{ctx.account.external_id}/tweets",
            endpoint="timeline",
            params={"max_results": 100, **_REPLY_FIELDS},
        )
        for tweet in self._http.check(response).json().get("data") or []:
            if _replied_to(tweet) == parent and _same_text(comment.text, str(tweet["text"])):
                return str(tweet["id"])
        return None

    # -- metrics -----------------------------------------------------------------------------

    metrics_batch: int = METRICS_BATCH

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """`GET /2/tweets?ids=` for up to 100 posts; the non-public metrics only for posts
        young enough to have them (asking for them on an older post fails that post)."""
        cutoff = utcnow() - NON_PUBLIC_DAYS
        recent = [p for p in posts if p.published_at > cutoff]
        older = [p for p in posts if p.published_at <= cutoff]
        found: dict[str, kit.MetricsResult] = {}
        for group, fields in (
            (recent, "public_metrics,non_public_metrics"),
            (older, "public_metrics"),
        ):
            if group:
                found.update(await self._lookup(ctx, group, fields))
        return found

    async def _lookup(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost], fields: str
    ) -> dict[str, kit.MetricsResult]:
        response = await self._call(
            ctx,
            "GET",
            "/2/tweets",
            endpoint="lookup",
            params={"ids": ",".join(p.remote_id for p in posts), "post.fields": fields},
        )
        self._http.check(response)
        body = response.json()
        by_remote = {p.remote_id: p.post_id for p in posts}
        found: dict[str, kit.MetricsResult] = {}
        for tweet in body.get("data") or []:
            post_id = by_remote.get(str(tweet.get("id")))
            if post_id is not None:
                found[post_id] = x_snapshot(tweet)
        for problem in body.get("errors") or []:
            post_id = by_remote.get(str(problem.get("resource_id") or problem.get("value")))
            kind = str(problem.get("type", ""))
            if post_id is None or post_id in found:
                continue
            if kind.endswith(NOT_FOUND):
                found[post_id] = kit.PostGone(str(problem.get("detail") or "Not Found"))
            elif kind.endswith(NOT_AUTHORIZED):  # X refuses this post alone
                found[post_id] = kit.MetricsUnavailable(str(problem.get("detail") or kind))
        return found


def _replied_to(tweet: dict[str, Any]) -> str | None:
    for ref in tweet.get("referenced_posts") or []:
        if ref.get("type") == "replied_to":
            return str(ref["id"])
    return None


def flatten_replies(
    root: str, account_id: str, tweets: Sequence[dict[str, Any]], users: dict[str, dict[str, Any]]
) -> list[kit.RemoteComment]:
    """Replies as comments one level deep, each under its top-level reply."""
    tops = top_level_parents(root, {str(t["id"]): _replied_to(t) for t in tweets})
    comments = []
    for tweet in tweets:
        author = str(tweet.get("author_id") or "")
        user = users.get(author, {})
        comments.append(
            kit.RemoteComment(
                platform_comment_id=str(tweet["id"]),
                parent_platform_comment_id=tops[str(tweet["id"])],
                text=html.unescape(str(tweet.get("text", ""))),
                # Asked for in post.fields; when first seen if X ever leaves it out.
                created_at=parse_time(tweet.get("created_at")) or utcnow(),
                is_author=author == account_id,
                author_id=author or None,
                author_username=user.get("username"),
                author_name=user.get("name"),
            )
        )
    return comments


def x_snapshot(tweet: Mapping[str, Any]) -> kit.MetricsSnapshot:
    """A post's metrics in the contract's names: public ones, then the owner-only ones
    (their impression count is the owner's, so it wins)."""
    metrics: dict[str, kit.Metric] = {}
    raw: dict[str, Any] = {}
    for field, names in (
        ("public_metrics", PUBLIC_METRICS),
        ("non_public_metrics", NON_PUBLIC_METRICS),
    ):
        block = tweet.get(field)
        if not isinstance(block, dict):
            continue
        raw[field] = block
        metrics |= kit.counts(block, names.items())
    return kit.MetricsSnapshot(metrics, raw)


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> TwitterPublisher:
    return TwitterPublisher(
        api_url=settings.x_api_url, app=SPEC.oauth_app(settings), transport=transport
    )


RULES = kit.PlatformRules(
    name="twitter",
    content_platforms=("twitter",),
    # PR + specs/x/twitter-text/config/v3.json: maxWeightedTweetLength 280, URLs 23.
    text_limits=(kit.TextLimit(280, kit.Count.X_WEIGHTED),),
    # PR, PN 1.3: up to 4 photos, or 1 GIF, or 1 video (types unknown until download).
    media=kit.MediaCount(0, 4),
    # PN 1.3 (X docs): image <= 5 MB, GIF <= 15 MB, video <= 512 MB and 0.5-140 s.
    files=kit.FileRules(
        video_types=frozenset({kit.MP4, kit.MOV}),
        max_image_bytes=5 * kit.MB,
        max_gif_bytes=15 * kit.MB,
        max_video_bytes=512 * kit.MB,
        min_video_seconds=0.5,
        max_video_seconds=140,
        gif_alone=True,
    ),
    threads=True,  # PR: additionalPosts for twitter, bluesky, threads
)
"""What a post to twitter may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="twitter",
    label="X",
    build=build,
    rules=RULES,
    settings_prefix="x",
    doc="x",
    # platform-notes 1.5: POST /2/tweets 100 per 15 min per user, 10,000 per 24 h per app.
    budgets=PlatformBudgets(account=Budget(100, 900), app=Budget(10_000, DAY)),
    # The contract's "Comments": a reply is a post, weighed as one.
    comments=CommentRules(kit.TextLimit(280, kit.Count.X_WEIGHTED)),
    # Contract section 9: X reads cost money, so fewer checkpoints.
    analytics_checkpoints=(timedelta(hours=24), timedelta(days=7), timedelta(days=30)),
)
