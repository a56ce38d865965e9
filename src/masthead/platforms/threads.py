"""Threads (Meta): OAuth with long-lived tokens, media containers, threads_publish, threads.

Publishing one item is two calls: `POST /{user}/threads` makes a *container* (nothing is
visible yet; Threads downloads the media from Masthead's public URL), then
`POST /{user}/threads_publish?creation_id=` makes it a post. The container is made and polled
until `FINISHED` in `prepare`, so its id is stored with the sending mark before anything
visible happens. A container is published at most once, so it is this item's idempotency key:
after a lost answer or a crash, Masthead asks the container's status instead of publishing
again (`PUBLISHED`: find the post; `FINISHED`: publish that same container; `ERROR` or
`EXPIRED`: it never became a post). Facts used here are in shared/spec/platform-notes.md
sections 2.3, 2.5 and 11, and in Meta's Threads docs (posts, troubleshooting, long-lived
tokens); Meta publishes no machine-readable spec of the Threads API.
"""

from __future__ import annotations

import asyncio
import logging
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
from masthead.domain.reply_tree import top_level_parents
from masthead.platforms import kit
from masthead.platforms.meta import MISSING_OBJECT, graph_error, insight_values, regain_seconds
from masthead.platforms.seams import stored
from masthead.platforms.spec import PlatformSpec
from masthead.timeutil import iso, parse_time, utcnow

log = logging.getLogger(__name__)

VERSION = "v1.0"
SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_read_replies",
    "threads_manage_insights",
)
"""basic: /me; content_publish: containers and threads_publish; read_replies: finding a
published reply again after a lost answer (`/{user}/replies`); manage_insights: the posts'
metrics (analytics)."""
METRICS_BATCH = 25
"""Posts per metrics call: Threads takes one post per insights request."""
INSIGHTS = "views,likes,replies,reposts,quotes,shares"
"""Media insights metrics (Threads insights reference)."""
INSIGHT_NAMES = (
    ("views", "viewsCount"),
    ("likes", "likesCount"),
    ("replies", "repliesCount"),
    ("reposts", "threadsRepostsCount"),
    ("quotes", "threadsQuotesCount"),
    ("shares", "sharesCount"),
)
REFRESH_WHEN_LEFT = timedelta(days=50)
"""Long-lived tokens live 60 days and can be refreshed once they are 24 hours old: refresh on
the first publish after about 10 days, so an account may stay idle for 50 days."""
MIN_TOKEN_AGE = timedelta(hours=24)
REFRESH_RETRY_SECONDS = 3600.0
"""After Meta refuses a refresh of a token that is still good, wait this long to ask again
(in this process), rather than asking before every call."""
RATE_LIMIT_WAIT = 600.0
"""Seconds to wait after a Meta rate-limit answer (Meta's bodies give no reset time)."""
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, 80001})
"""App, user, page and business-use-case throttles (platform-notes 2.3 and 11)."""
TRANSIENT_CODES = frozenset({1, 2})
"""`API Unknown` and `API Service`: temporary, Meta says retry."""
TOKEN_CODES = frozenset({190})
MAX_CAROUSEL = 20
STATUS_FIELDS = "status,error_message"
MEDIA_FIELDS = "id,permalink,text,timestamp,media_type"
REPLY_FIELDS = "id,permalink,text,timestamp,media_type,replied_to"
CONVERSATION_FIELDS = "id,text,timestamp,username,replied_to,is_reply_owned_by_me"
CONVERSATION_PAGES = 5
"""Pages of 100 replies read per poll of one post (`/{media-id}/conversation`)."""
GONE_SUBCODE = 33
"""Meta's "Object with ID … does not exist" (code 100, subcode 33)."""
RECONCILE_WINDOW = timedelta(minutes=10)
DOWNLOAD_HINT = (
    "Threads downloads media from Masthead's public URL ({url}): MASTHEAD_PUBLIC_URL must be "
    "reachable from the internet"
)


class MetaError:
    """Threads' reading of Meta's error body, which `meta.graph_error` parses for both."""

    def __init__(self, response: httpx.Response) -> None:
        error = graph_error(response)
        self.status = error.status
        self.code = error.code
        self.subcode = error.subcode
        self.transient = error.transient
        self.message = error.message or f"Threads answered HTTP {self.status}"
        if error.user_message and error.user_message not in self.message:
            self.message = f"{self.message} ({error.user_message})"

    @property
    def words(self) -> str:
        """Meta's message with its code, the form a user or operator can search for."""
        if self.code is None:
            return self.message
        code = f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)
        return f"{self.message} [Threads error {code}]"

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or self.code in RATE_LIMIT_CODES

    @property
    def token_refused(self) -> bool:
        return self.code in TOKEN_CODES

    @property
    def temporary(self) -> bool:
        return self.status >= 500 or self.transient or self.code in TRANSIENT_CODES


def _same_text(ours: str, theirs: str) -> bool:
    def canonical(text: str) -> str:
        return unicodedata.normalize("NFC", text).strip()

    return canonical(ours) == canonical(theirs)


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadsCredentials(kit.OAuthCredentials):
    """A Threads account's long-lived token (no refresh token: the token itself is
    refreshed), when it was issued, and the Threads user it belongs to."""

    issued_at: str | None = None
    user_id: str | None = None


def long_lived_credentials(body: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Stored credentials from a long-lived token answer (`access_token`, `expires_in`)."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise kit.Permanent("Threads' token answer has no access_token")
    expires_in = body.get("expires_in")
    return ThreadsCredentials(
        access_token=access,
        issued_at=iso(now),
        expires_at=iso(now + timedelta(seconds=expires_in))
        if isinstance(expires_in, int | float) and expires_in > 0
        else None,
    ).to_stored()


class ThreadsOAuth(kit.OAuthProvider):
    """Threads' authorization window, then code → short-lived token (1 hour) → long-lived
    token (60 days). Meta's flow has no PKCE; the app secret authenticates the exchange."""

    platform = "threads"
    scopes = SCOPES

    def __init__(self, app: OAuthApp, client_secret: str, publisher: ThreadsPublisher) -> None:
        self._app = app
        self._secret = client_secret
        self._publisher = publisher

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        return kit.authorize_url(
            self._app.authorize_url,
            client_id=self._app.client_id,
            redirect_uri=redirect_uri,
            scopes=self.scopes,
            state=state,
            code_challenge=None,
            scope_separator=",",
        )

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        response = await self._publisher.token_request(
            "POST",
            "/oauth/access_token",
            data={
                "client_id": self._app.client_id,
                "client_secret": self._secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        if response.status_code != 200:
            raise kit.Permanent(f"Threads refused the authorization: {MetaError(response).words}")
        short = str(response.json().get("access_token") or "")
        if not short:
            raise kit.Permanent("Threads' token answer has no access_token")
        long_lived = await self._publisher.exchange_for_long_lived(short)
        if long_lived is None:
            raise kit.Permanent("Threads refused to exchange the token for a long-lived one")
        return long_lived


@dataclass(frozen=True, slots=True)
class PreparedThread:
    """What `prepare` hands to `send` and `reconcile`."""

    container_id: str
    """The FINISHED container that `threads_publish` turns into the post."""
    since: int | None = None
    """When sending began, less the reconcile window (Unix seconds)."""
    children: list[str] | None = None
    """A carousel's item containers."""


class ThreadsPublisher(kit.HttpPublisher):
    platform: ClassVar[str] = "threads"
    metrics_batch: int = METRICS_BATCH

    def __init__(
        self,
        *,
        api_url: str,
        app: OAuthApp | None,
        timeout: float = 60.0,
        poll_seconds: float = 2.0,
        processing_limit: float = 300.0,
        rate_limit_wait: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._app = app
        self._client = kit.new_client(timeout, transport)
        self._http = kit.PlatformHttp("Threads", self._client, self._classify)
        self._poll = poll_seconds
        self._processing_limit = processing_limit
        self._rate_limit_wait = rate_limit_wait
        self._oauth = (
            ThreadsOAuth(app, app.client_secret, self)
            if app is not None and app.client_secret
            else None
        )
        self.oauth = self._oauth
        self._refreshing: dict[int, asyncio.Lock] = {}
        self._refresh_refused: dict[int, float] = {}
        """account → monotonic time of Meta's last refusal to refresh its (still good) token."""
        self._blocked_until: dict[str, float] = {}
        """account → unix time before which Meta said this account's calls are throttled."""

    # -- tokens ------------------------------------------------------------------------------

    async def token_request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to Threads' token endpoints (unversioned paths, no Authorization header)."""
        return await self._http.send(method, f"{self._api}{path}", **kwargs)

    async def exchange_for_long_lived(self, short_lived: str) -> dict[str, Any] | None:
        """`GET /access_token?grant_type=th_exchange_token`: None when Meta refuses (the token
        may already be long-lived, or no app secret is configured)."""
        if self._app is None or not self._app.client_secret:
            return None
        response = await self.token_request(
            "GET",
            "/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": self._app.client_secret,
                "access_token": short_lived,
            },
        )
        if response.status_code != 200:
            log.info("Threads did not exchange a token: %s", MetaError(response).words)
            return None
        return long_lived_credentials(response.json(), now=utcnow())

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        """Whose token this is (`/me`). A token given without its expiry is exchanged for a
        long-lived one when it is short-lived (what the authorization window gives)."""
        token, user = await self._http.whose(
            credentials,
            "A Threads account",
            f"{self._api}/{VERSION}/me",
            {"fields": "id,username,name,threads_profile_picture_url"},
            lambda answer: MetaError(answer).words,
        )
        stored = dict(credentials)
        if not stored.get("expires_at"):
            # A short-lived token becomes a long-lived one; a long-lived one of unknown age
            # is refreshed to learn its end, or, when it is too new for that, refreshed on
            # the first publish a day from now.
            fresh = await self.exchange_for_long_lived(token) or await self._refreshed(token)
            if fresh is not None:
                stored |= fresh
            else:
                stored.setdefault("issued_at", iso(utcnow()))
        stored["user_id"] = str(user["id"])
        return kit.ConnectedAccount(
            external_id=str(user["id"]),
            username=str(user["username"]),
            credentials=stored,
            fullname=str(user.get("name") or user["username"]),
            profile_image_url=user.get("threads_profile_picture_url"),
        )

    @staticmethod
    def _due_for_refresh(stored: dict[str, Any], now: datetime) -> bool:
        """Fewer than 50 days left (or an unknown end), and at least a day old."""
        credentials = ThreadsCredentials.from_stored(stored)
        ends = parse_time(credentials.expires_at)
        issued = parse_time(credentials.issued_at)
        if ends is None:
            return issued is not None and now - issued >= MIN_TOKEN_AGE
        if ends - now > REFRESH_WHEN_LEFT:
            return False
        return issued is None or now - issued >= MIN_TOKEN_AGE

    async def _refresh_request(self, token: str) -> httpx.Response:
        return await self.token_request(
            "GET",
            "/refresh_access_token",
            params={"grant_type": "th_refresh_token", "access_token": token},
        )

    async def _refreshed(self, token: str) -> dict[str, Any] | None:
        """The refreshed credentials, None when Meta refuses (too new, or short-lived)."""
        response = await self._refresh_request(token)
        if response.status_code != 200:
            return None
        return long_lived_credentials(response.json(), now=utcnow())

    async def _access_token(self, ctx: kit.AccountScope) -> str:
        """The stored token, refreshed first (`th_refresh_token`) when fewer than 50 of its
        60 days are left. A refresh Meta refuses while the token is still good is tried again
        on the next publish; a token past its end disconnects the account."""
        store = kit.store_of(ctx, "Threads")
        credentials = await store.load()
        now = utcnow()
        refused = self._refresh_refused.get(ctx.account.id)
        resting = refused is not None and time.monotonic() - refused < REFRESH_RETRY_SECONDS
        if self._due_for_refresh(credentials, now) and not resting:
            lock = self._refreshing.setdefault(ctx.account.id, asyncio.Lock())
            async with lock:
                credentials = await store.load()
                if self._due_for_refresh(credentials, utcnow()):
                    refreshed = await self._refresh(store, credentials)
                    if refreshed is credentials:
                        self._refresh_refused[ctx.account.id] = time.monotonic()
                    else:
                        self._refresh_refused.pop(ctx.account.id, None)
                    credentials = refreshed
        typed = ThreadsCredentials.from_stored(credentials)
        ends = parse_time(typed.expires_at)
        if ends is not None and ends <= utcnow():
            raise kit.AccountDisconnected(
                f"The Threads token expired on {iso(ends)} (tokens last 60 days and are "
                "refreshed when the account publishes): reconnect the account"
            )
        token = str(typed.access_token or "")
        if not token:
            raise kit.AccountDisconnected("The Threads account has no token: reconnect it")
        return token

    async def _refresh(self, store: kit.CredentialStore, current: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._refresh_request(str(current.get("access_token") or ""))
        except kit.Retryable:
            return current  # still good for now; the next publish tries again
        if response.status_code != 200:
            error = MetaError(response)
            if error.token_refused:
                raise kit.AccountDisconnected(
                    f"Threads refused to refresh the account's token: {error.words}"
                )
            log.warning("Threads did not refresh a token: %s", error.words)
            return current
        new = {**current, **long_lived_credentials(response.json(), now=utcnow())}
        if await store.save(new, replaces=current):
            return new
        return await store.load()  # another worker refreshed at the same moment

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        ctx: kit.AccountScope,
        method: str,
        path: str,
        *,
        creates: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised call to the versioned API. Throttles Meta announced are obeyed
        before calling. Transport errors: Retryable when the request never left (or created
        nothing), OutcomeUnknown when it may have published (`creates`)."""
        wait = self._blocked_until.get(ctx.account.external_id, 0.0) - time.time()
        if wait > 0:
            raise kit.Retryable("Threads rate limit reached for this account", retry_after=wait)
        token = await self._access_token(ctx)
        response = await self._http.send(
            method,
            f"{self._api}/{VERSION}{path}",
            creates=creates,
            headers=kit.bearer(token),
            **kwargs,
        )
        if response.status_code >= 400:
            error = MetaError(response)
            if error.rate_limited:
                self._blocked_until[ctx.account.external_id] = time.time() + self._wait(response)
        return response

    def _wait(self, response: httpx.Response) -> float:
        after = kit.retry_after(response.headers) or regain_seconds(response.headers)
        if after is not None:
            return max(1.0, after)
        return RATE_LIMIT_WAIT if self._rate_limit_wait is None else self._rate_limit_wait

    def _classify(self, response: httpx.Response, creates: bool) -> kit.PublishError | None:
        """Meta's answer to a call that creates nothing visible, as the engine's classes
        (publishing reads its own answer: `_publish`)."""
        if response.status_code < 400:
            return None
        error = MetaError(response)
        if error.token_refused:
            return kit.AccountDisconnected(f"Threads refused the account's token: {error.words}")
        if error.rate_limited:
            return kit.Retryable(error.words, retry_after=self._wait(response))
        if error.temporary:
            return kit.Retryable(error.words)
        return kit.Permanent(error.words)

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """`GET /{media}/insights`, one request per post (Threads takes no list of ids)."""

        async def read(post: kit.PublishedPost) -> kit.MetricsResult:
            response = await self._call(
                ctx, "GET", f"/{post.remote_id}/insights", params={"metric": INSIGHTS}
            )
            error = MetaError(response) if response.status_code >= 400 else None
            if error is not None and (error.code, error.subcode) == MISSING_OBJECT:
                return kit.PostGone("Post no longer exists on threads")
            raw = insight_values(self._http.check(response).json())
            return kit.MetricsSnapshot(kit.counts(raw, INSIGHT_NAMES), raw)

        return await kit.each_post(posts, read)

    # -- containers --------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        """Make the item's container (and its carousel items) and wait until Threads says
        `FINISHED`. Creates nothing visible, so it is safe to run again."""
        item = ctx.items[position]
        since = int((utcnow() - RECONCILE_WINDOW).timestamp())
        params: dict[str, Any] = {}
        if item.text:
            params["text"] = item.text
        reply_control = ctx.target.get("replyControl")
        if reply_control:
            params["reply_control"] = str(reply_control)
        if position > 0:
            params["reply_to_id"] = ctx.previous[position - 1].remote_id
        files = await self._files(ctx, position)
        children: list[str] = []
        if not files:
            params["media_type"] = "TEXT"
        elif len(files) == 1:
            params.update(self._media_params(files[0]))
        else:
            for file in files:
                child = await self._create(
                    ctx, {**self._media_params(file), "is_carousel_item": "true"}
                )
                children.append(child)
            for child, file in zip(children, files, strict=True):
                await self._wait_finished(ctx, child, file)
            params.update({"media_type": "CAROUSEL", "children": ",".join(children)})
        container = await self._create(ctx, params)
        await self._wait_finished(ctx, container, files[0] if len(files) == 1 else None)
        return stored(PreparedThread(container, since, children or None))

    async def _files(self, ctx: kit.PublishContext, position: int) -> list[kit.MediaFile]:
        urls = ctx.items[position].media_urls
        if not urls:
            return []
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for Threads yet")
        if len(urls) > MAX_CAROUSEL:
            raise kit.Permanent(
                f"A Threads carousel holds at most {MAX_CAROUSEL} images and videos"
            )
        files = [await ctx.media.file(url) for url in urls]
        for file in files:
            if not (file.is_video or file.content_type.startswith("image/")):
                raise kit.Permanent(
                    f"Threads posts take images and videos, not {file.content_type}"
                )
        return files

    @staticmethod
    def _media_params(file: kit.MediaFile) -> dict[str, str]:
        """Threads pulls the file from Masthead's public URL of it (never the user's URL)."""
        if file.is_video:
            return {"media_type": "VIDEO", "video_url": file.url}
        return {"media_type": "IMAGE", "image_url": file.url}

    async def _create(self, ctx: kit.AccountScope, params: dict[str, Any]) -> str:
        response = await self._call(ctx, "POST", f"/{ctx.account.external_id}/threads", data=params)
        self._http.check(response)
        container = response.json().get("id")
        if not container:
            raise kit.Retryable("Threads made no container id")
        return str(container)

    async def _status(self, ctx: kit.AccountScope, container: str) -> dict[str, Any]:
        response = await self._call(ctx, "GET", f"/{container}", params={"fields": STATUS_FIELDS})
        self._http.check(response)
        body: dict[str, Any] = response.json()
        return body

    async def _wait_finished(
        self, ctx: kit.AccountScope, container: str, file: kit.MediaFile | None
    ) -> None:
        """Poll the container's `status` (first after `poll_seconds`, then twice as long each
        time, at most 30 s apart) until FINISHED, for up to `processing_limit` seconds."""
        deadline = time.monotonic() + self._processing_limit
        delay = self._poll
        while True:
            body = await self._status(ctx, container)
            status = str(body.get("status") or "")
            if status == "FINISHED":
                return
            if status == "ERROR":
                raise kit.Permanent(self._container_error(body, file))
            if status == "EXPIRED":
                raise kit.Retryable(f"Threads let container {container} expire; a new one is made")
            if status == "PUBLISHED":
                raise kit.Permanent(f"Threads container {container} was already published")
            if time.monotonic() + delay > deadline:
                raise kit.Retryable(f"Threads is still processing container {container}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    @staticmethod
    def _container_error(body: dict[str, Any], file: kit.MediaFile | None) -> str:
        reason = str(body.get("error_message") or "UNKNOWN")
        message = f"Threads could not make the post ({reason})"
        if file is not None:
            message += "; " + DOWNLOAD_HINT.format(url=file.url)
        return message

    # -- publishing --------------------------------------------------------------------------

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        container = kit.loaded(PreparedThread, prepared).container_id
        try:
            return await self._publish(ctx, container)
        except kit.OutcomeUnknown as exc:
            # The container says whether it became a post; it is never published twice.
            return await self._settle(ctx, position, prepared, str(exc.message))

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """After a crash between the sending mark and the stored answer."""
        if "container_id" not in prepared:
            return None
        try:
            return await self._settle(
                ctx, position, prepared, "the worker stopped while publishing"
            )
        except kit.OutcomeUnknown:
            return None
        except kit.NotSent:
            raise
        except kit.Retryable as exc:  # only a publish Meta refused before acting gets here
            raise kit.NotSent(exc.message, exc.retry_after) from exc

    async def _publish(self, ctx: kit.PublishContext, container: str) -> kit.SentItem:
        return await self._sent(ctx, await self._publish_id(ctx, container), container)

    async def _publish_id(self, ctx: kit.AccountScope, container: str) -> str:
        """threads_publish of one container: the new post's id."""
        response = await self._call(
            ctx,
            "POST",
            f"/{ctx.account.external_id}/threads_publish",
            creates=True,
            data={"creation_id": container},
        )
        if response.status_code >= 400:
            error = MetaError(response)
            if error.token_refused:
                raise kit.AccountDisconnected(f"Threads refused the account's token: {error.words}")
            if error.rate_limited:  # refused before acting
                raise kit.Retryable(error.words, retry_after=self._wait(response))
            if error.temporary:  # Meta may have acted before failing: the container knows
                raise kit.OutcomeUnknown(f"Threads answered {error.words} to threads_publish")
            raise kit.Permanent(error.words)
        media_id = response.json().get("id")
        if not media_id:
            raise kit.OutcomeUnknown("Threads answered threads_publish without an id")
        return str(media_id)

    async def _settle(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any], cause: str
    ) -> kit.SentItem:
        """What became of a container whose publish answer was lost. Raises OutcomeUnknown
        when Threads cannot tell, NotSent when it certainly never became a post."""
        container = kit.loaded(PreparedThread, prepared).container_id
        deadline = time.monotonic() + self._processing_limit
        delay = self._poll
        republished = False
        while True:
            try:
                body = await self._status(ctx, container)
            except (kit.Retryable, kit.Permanent) as exc:
                raise kit.OutcomeUnknown(
                    f"{cause}, and Threads could not say whether container {container} was "
                    f"published ({exc.message})"
                ) from exc
            status = str(body.get("status") or "")
            if status == "PUBLISHED":
                found = await self._find(ctx, position, prepared)
                if found is None:
                    raise kit.OutcomeUnknown(
                        f"{cause}; Threads says container {container} was published, but the "
                        "post could not be found on the account"
                    )
                return found
            if status == "FINISHED" and not republished:
                # Not published: this same container can still become the one post.
                republished = True
                try:
                    return await self._publish(ctx, container)
                except kit.OutcomeUnknown:
                    pass  # look at the container again
            elif status == "ERROR":
                raise kit.NotSent(self._container_error(body, None))
            elif status == "EXPIRED":
                raise kit.NotSent(f"Threads container {container} expired before it was published")
            if time.monotonic() + delay > deadline:
                raise kit.OutcomeUnknown(
                    f"{cause}; Threads still shows container {container} as {status or 'unknown'}"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _sent(self, ctx: kit.AccountScope, media_id: str, container: str) -> kit.SentItem:
        return kit.SentItem(
            media_id, await self._permalink(ctx, media_id), {"container_id": container}
        )

    async def _permalink(self, ctx: kit.AccountScope, media_id: str) -> str:
        """The post's `permalink`. The post exists whatever this answers, so a failure here
        falls back to the profile's URL rather than failing a published post."""
        for attempt in range(3):
            try:
                response = await self._call(
                    ctx, "GET", f"/{media_id}", params={"fields": "id,permalink"}
                )
            except (kit.Retryable, kit.Permanent) as exc:
                log.warning("Threads permalink of %s: %s", media_id, exc.message)
            else:
                if response.status_code == 200 and response.json().get("permalink"):
                    return str(response.json()["permalink"])
                log.warning("Threads permalink of %s: %s", media_id, MetaError(response).words)
            await asyncio.sleep(0.5 * (attempt + 1))
        return f"https://www.threads.com/@{ctx.account.username}"

    async def _find(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """The account's post that this container became: same text, same parent (replies
        through `/{user}/replies`, first posts through `/{user}/threads`), made since the
        send began. None when there is no single such post."""
        parent = ctx.previous[position - 1].remote_id if position > 0 else None
        edge, fields = ("replies", REPLY_FIELDS) if parent else ("threads", MEDIA_FIELDS)
        params: dict[str, Any] = {"fields": fields, "limit": 50}
        since = kit.loaded(PreparedThread, prepared).since
        if since:
            params["since"] = int(since)
        try:
            response = await self._call(
                ctx, "GET", f"/{ctx.account.external_id}/{edge}", params=params
            )
        except (kit.Retryable, kit.Permanent):
            return None
        if response.status_code != 200:
            log.warning("Threads %s lookup: %s", edge, MetaError(response).words)
            return None
        earlier = {item.remote_id for item in ctx.previous}
        text = ctx.items[position].text
        matches = []
        for media in response.json().get("data") or []:
            media_id = str(media.get("id"))
            if media_id in earlier or not _same_text(text, str(media.get("text") or "")):
                continue
            if parent is not None and str((media.get("replied_to") or {}).get("id")) != parent:
                continue
            matches.append(media)
        if len(matches) != 1:
            return None
        media = matches[0]
        url = media.get("permalink") or await self._permalink(ctx, str(media["id"]))
        container = kit.loaded(PreparedThread, prepared).container_id
        return kit.SentItem(str(media["id"]), str(url), {"container_id": container})

    # -- comments (replies) ------------------------------------------------------------------

    async def list_comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, since: datetime | None
    ) -> Sequence[kit.RemoteComment] | kit.PostGone:
        """Every reply below the post (`/{media-id}/conversation`, all depths, newest first,
        up to `CONVERSATION_PAGES` pages), each under its top-level reply. Threads names a
        reply's author only by username, and says itself whether it is the account's."""
        params: dict[str, Any] = {
            "fields": CONVERSATION_FIELDS,
            "reverse": "true",
            "limit": 100,
        }
        replies: list[dict[str, Any]] = []
        for _ in range(CONVERSATION_PAGES):
            response = await self._call(
                ctx, "GET", f"/{post.remote_id}/conversation", params=params
            )
            if response.status_code >= 400:
                error = MetaError(response)
                if error.code == 100 and error.subcode == GONE_SUBCODE:
                    return kit.PostGone(f"Threads no longer has this post: {error.words}")
            body = self._http.check(response).json()
            replies.extend(body.get("data") or [])
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params["after"] = after
        tops = top_level_parents(
            post.remote_id,
            {str(r["id"]): (r.get("replied_to") or {}).get("id") for r in replies},
        )
        return [
            kit.RemoteComment(
                platform_comment_id=str(reply["id"]),
                parent_platform_comment_id=tops[str(reply["id"])],
                text=str(reply.get("text") or ""),
                # Asked for in `fields`; when first seen if Threads ever leaves it out.
                created_at=parse_time(reply.get("timestamp")) or utcnow(),
                is_author=bool(reply.get("is_reply_owned_by_me")),
                author_username=reply.get("username"),
            )
            for reply in replies
        ]

    async def send_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str:
        """A reply container (`reply_to_id`: the post, or the comment named as parent), then
        threads_publish. The container is made and waited for before the irreversible call;
        a lost publish answer is settled by looking for the reply."""
        parent = comment.parent_platform_comment_id or post.remote_id
        container = await self._create(
            ctx, {"media_type": "TEXT", "text": comment.text, "reply_to_id": parent}
        )
        await self._wait_finished(ctx, container, None)
        return await kit.sent_or_found(
            self._publish_id(ctx, container), lambda: self.find_comment(ctx, post, comment)
        )

    async def find_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str | None:
        """The account's reply with this text to this parent, among its newest replies
        (`/{user}/replies`)."""
        parent = comment.parent_platform_comment_id or post.remote_id
        response = await self._call(
            ctx,
            "GET",
            f"/{ctx.account.external_id}/replies",
            params={"fields": REPLY_FIELDS, "limit": 50},
        )
        for media in self._http.check(response).json().get("data") or []:
            replied = str((media.get("replied_to") or {}).get("id"))
            if replied == parent and _same_text(comment.text, str(media.get("text") or "")):
                return str(media["id"])
        return None


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> ThreadsPublisher:
    return ThreadsPublisher(
        api_url=settings.threads_api_url,
        app=SPEC.oauth_app(settings),
        timeout=settings.threads_timeout_seconds,
        poll_seconds=settings.threads_poll_seconds,
        processing_limit=settings.threads_processing_limit_seconds,
        transport=transport,
    )


RULES = kit.PlatformRules(
    name="threads",
    content_platforms=("threads",),
    # PR, PN 2.5: 500 characters, "Emojis are counted as the number of UTF-8 bytes".
    text_limits=(kit.TextLimit(500, kit.Count.EMOJI_AS_BYTES),),
    max_links=5,  # PN 2.5 (3rd-party): at most 5 links (distinct URLs, www. ones too)
    media=kit.MediaCount(0, 1),  # PR, BR 3: one image or one video per post
    # PN 6 (3rd-party specs): image JPEG/PNG <= 8 MB, video MOV/MP4 <= 1 GB and <= 5 min.
    files=kit.FileRules(
        image_types=frozenset({kit.JPEG, kit.PNG}),
        video_types=frozenset({kit.MP4, kit.MOV}),
        convertible=frozenset({kit.WEBP, kit.GIF}),
        max_image_bytes=8 * kit.MB,
        max_video_bytes=1024 * kit.MB,
        max_video_seconds=300,
    ),
    threads=True,
    fields=(
        # PR, BR 3: the three values Blotato documents.
        kit.FieldRule(
            "replyControl",
            kit.Kind.ENUM,
            choices=("everyone", "accounts_you_follow", "mentioned_only"),
        ),
    ),
)
"""What a post to threads may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="threads",
    label="Threads",
    build=build,
    rules=RULES,
    # platform-notes 6: 250 API-published posts per 24 h per profile (replies have their own).
    budgets=PlatformBudgets(account=Budget(250, DAY)),
    # A reply is a post: the same 500 characters, emoji counted in UTF-8 bytes.
    comments=CommentRules(kit.TextLimit(500, kit.Count.EMOJI_AS_BYTES)),  # contract section 10
)
