"""The Bluesky publisher: app-password sessions, facets, images, reply threads, exactly once.

Invariant 2 rests on the record key. `prepare` chooses the post's rkey (a TID) and the engine
stores it with the sending mark; a repository holds at most one record per key, so whatever
happens to the answer of `createRecord`, asking `getRecord` for that key tells whether the post
exists, and creating it again under the same key can never make a second post (the reference
PDS answers a repeated key with a 500 and writes nothing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import httpx

from masthead.config import Settings
from masthead.domain.atproto_ids import new_tid, rkey_of
from masthead.domain.bluesky_facets import build_facets, find_spans, mentioned_handles
from masthead.domain.budgets import Budget, PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.net.client import safe_async_client
from masthead.net.guard import BlockedDestination
from masthead.platforms import kit
from masthead.platforms.bluesky_xrpc import (
    XrpcError,
    check_pds_endpoint,
    pds_of,
    resolve_did,
    token_expires_within,
    xrpc,
)
from masthead.platforms.spec import PlatformSpec
from masthead.timeutil import parse_time, utcnow

T = TypeVar("T")

POST = "app.bsky.feed.post"
METRICS_BATCH = 25
"""app.bsky.feed.getPosts takes up to 25 AT-URIs (its lexicon's `maxLength`)."""
POST_COUNTS = {
    "likeCount": "likesCount",
    "replyCount": "repliesCount",
    "repostCount": "blueskyRepostsCount",
    "quoteCount": "blueskyQuotesCount",
}
MAX_IMAGE_BYTES = 2_000_000
"""Lexicon app.bsky.embed.images#image (since 2026-04-08); the PDS refuses larger blobs."""
RENEW_MARGIN_SECONDS = 60.0
"""An access token ending sooner than this is renewed before use rather than refused."""
AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
"""Answers to a call made with a stale access token: renew the session and call again."""
ACCOUNT_ERRORS = frozenset(
    {"AuthenticationRequired", "AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired"}
)
"""Answers to createSession that a retry cannot change: the account must be reconnected."""
THREAD = "app.bsky.feed.getPostThread"
THREAD_DEPTH = 100
"""Reply levels read below a post (the lexicon allows up to 1000)."""
RECENT_RECORDS = 100
"""The account's newest posts looked through for a comment whose answer was lost."""


def public_url(handle: str, uri: str) -> str:
    return f"https://bsky.app/profile/{handle}/post/{rkey_of(uri)}"


NO_SESSION = "No Bluesky session is stored; reconnect the account"


@dataclass(frozen=True, slots=True, kw_only=True)
class BlueskyCredentials(kit.StoredCredentials):
    """What a Bluesky account stores: its handle and app password (createSession takes them
    when the session cannot be refreshed), the PDS that holds its repository (`service`,
    `service_from_did` when the DID document named it, so calls to it go through the SSRF
    guard), and the session: the account's DID and its two tokens."""

    handle: str | None = None
    app_password: str | None = None
    service: str | None = None
    service_from_did: bool | None = None
    did: str | None = None
    access_jwt: str | None = None
    refresh_jwt: str | None = None

    @property
    def pds(self) -> str:
        """The PDS every call of the account goes to."""
        if not self.service:
            raise kit.AccountDisconnected(NO_SESSION)
        return self.service

    @property
    def repo(self) -> str:
        """The account's repository: its DID."""
        if not self.did:
            raise kit.AccountDisconnected(NO_SESSION)
        return self.did


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """What `prepare` hands to `send` and `reconcile`: the post record and the key it is
    created under (the same key every time, so it can only ever make one post)."""

    rkey: str
    record: dict[str, Any]


class BlueskyPublisher(kit.Publisher):
    platform: ClassVar[str] = "bluesky"

    def __init__(
        self,
        *,
        service_url: str | None,
        plc_url: str,
        allow: frozenset[tuple[str, int]],
        timeout: float,
        appview_url: str = "https://public.api.bsky.app",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._service_url = service_url.rstrip("/") if service_url else None
        self._appview = appview_url.rstrip("/")
        self._plc_url = plc_url
        self._allow = allow
        timeouts = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        # Hosts the operator chose (the service URL, the PLC directory) are reached directly;
        # hosts that a user's handle or DID document names go through the SSRF guard.
        self._client = httpx.AsyncClient(timeout=timeouts, transport=transport)
        self._guarded = safe_async_client(allow=allow, timeout=timeouts)

    # Accounts and sessions

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        handle = str(credentials.get("handle") or "").strip().removeprefix("@").lower()
        password = str(credentials.get("app_password") or "").strip()
        if not handle or not password:
            raise kit.Permanent("Bluesky needs the account's handle and an app password")
        given = str(credentials.get("service") or "").rstrip("/") or self._service_url
        try:
            service = given or await self._find_pds(handle)
            session = await self._login(
                BlueskyCredentials(
                    handle=handle,
                    app_password=password,
                    service=service,
                    service_from_did=not given,
                )
            )
        except (httpx.HTTPError, BlockedDestination) as exc:
            raise kit.Permanent(f"Cannot reach Bluesky for {handle}: {exc}") from exc
        return kit.ConnectedAccount(
            external_id=session.repo,
            username=session.handle or handle,
            credentials=session.to_stored(),
        )

    async def _find_pds(self, handle: str) -> str:
        did = await resolve_did(self._guarded, handle)
        client = self._client if did.startswith("did:plc:") else self._guarded
        return check_pds_endpoint(await pds_of(client, self._plc_url, did), self._allow)

    @staticmethod
    def _creds(ctx: kit.AccountScope) -> BlueskyCredentials:
        creds = BlueskyCredentials.from_stored(ctx.account.credentials)
        if not (creds.service and creds.did and creds.handle):
            raise kit.AccountDisconnected(NO_SESSION)
        return creds

    def _http(self, creds: BlueskyCredentials) -> httpx.AsyncClient:
        return self._guarded if creds.service_from_did else self._client

    async def _login(self, creds: BlueskyCredentials) -> BlueskyCredentials:
        """createSession with the app password: rate limited hard (30 per 5 minutes, 300 a
        day per account), so only when there is no session or it cannot be refreshed."""
        if not creds.app_password:
            raise kit.AccountDisconnected(
                "No Bluesky app password is stored; reconnect the account"
            )
        try:
            answer = await xrpc(
                self._http(creds),
                creds.pds,
                "com.atproto.server.createSession",
                body={"identifier": creds.handle, "password": creds.app_password},
            )
        except XrpcError as exc:
            if exc.error in ACCOUNT_ERRORS or exc.status == 401:
                raise kit.AccountDisconnected(
                    f"Bluesky refused the app password: {exc.message or exc.error}"
                ) from exc
            raise _publish_error(exc) from exc
        return replace(
            creds,
            did=answer["did"],
            handle=answer.get("handle", creds.handle),
            access_jwt=answer["accessJwt"],
            refresh_jwt=answer["refreshJwt"],
        )

    async def _refresh(self, creds: BlueskyCredentials) -> BlueskyCredentials:
        if not creds.refresh_jwt:
            return await self._login(creds)
        try:
            answer = await xrpc(
                self._http(creds),
                creds.pds,
                "com.atproto.server.refreshSession",
                token=creds.refresh_jwt,
                procedure=True,
            )
        except XrpcError as exc:
            if exc.status == 429 or exc.status >= 500:
                raise _publish_error(exc) from exc
            return await self._login(creds)  # the refresh token expired or was revoked
        return replace(creds, access_jwt=answer["accessJwt"], refresh_jwt=answer["refreshJwt"])

    async def _renew(self, ctx: kit.AccountScope, used: BlueskyCredentials) -> BlueskyCredentials:
        """A fresh session, shared through the credential store: when another worker renewed
        first, its tokens are used instead of spending the refresh token again."""
        store = ctx.credentials
        current = BlueskyCredentials.from_stored(await store.load()) if store is not None else used
        if current.access_jwt != used.access_jwt and not token_expires_within(
            current.access_jwt or "", RENEW_MARGIN_SECONDS
        ):
            return current
        renewed = await self._refresh(current)
        if store is not None and not await store.save(
            renewed.to_stored(), replaces=current.to_stored()
        ):
            return BlueskyCredentials.from_stored(await store.load())
        return renewed

    async def _authed(
        self, ctx: kit.AccountScope, call: Callable[[BlueskyCredentials], Awaitable[T]]
    ) -> T:
        """`call` with a valid session, renewed before if it is ending and once if refused."""
        creds = self._creds(ctx)
        if token_expires_within(creds.access_jwt or "", RENEW_MARGIN_SECONDS):
            creds = await self._renew(ctx, creds)
        try:
            return await call(creds)
        except XrpcError as exc:
            if exc.error not in AUTH_ERRORS:
                raise
        return await call(await self._renew(ctx, creds))

    # Publishing

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        """Facets, blob uploads and the record itself, with the rkey it will be stored under.
        Position 0 checks the media of the whole thread first, so that a thread that cannot
        be published fails before its first post rather than half way."""
        try:
            if position == 0:
                for item in ctx.items:
                    for index, url in enumerate(item.media_urls):
                        _check_image(await self._media(ctx).file(url), index)
            return await self._prepare(ctx, position)
        except XrpcError as exc:
            raise _publish_error(exc) from exc
        except BlockedDestination as exc:
            raise kit.Permanent(f"Bluesky PDS refused: {exc.reason}") from exc
        except httpx.TransportError as exc:
            raise kit.Retryable(f"Bluesky unreachable ({type(exc).__name__})") from exc

    async def _prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        item = ctx.items[position]
        record: dict[str, Any] = {
            "$type": POST,
            "text": item.text,
            "createdAt": _now_iso(),
        }
        spans = find_spans(item.text)
        facets = build_facets(spans, await self._resolve(ctx, mentioned_handles(spans)))
        if facets:
            record["facets"] = facets
        if item.media_urls:
            alt = str(ctx.target.get("altText") or "")
            images = [await self._upload(ctx, url, alt) for url in item.media_urls]
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        if ctx.previous:
            root, parent = ctx.previous[0].data, ctx.previous[-1].data
            record["reply"] = {
                "root": {"uri": root["uri"], "cid": root["cid"]},
                "parent": {"uri": parent["uri"], "cid": parent["cid"]},
            }
        return kit.stored(PreparedRecord(new_tid(), record))

    def _media(self, ctx: kit.PublishContext) -> kit.MediaSource:
        if ctx.media is None:
            raise kit.Permanent("This server has no media pipeline; Bluesky images cannot be sent")
        return ctx.media

    async def _resolve(self, ctx: kit.AccountScope, handles: list[str]) -> dict[str, str]:
        """Mentioned handles → DIDs through the account's PDS; one that does not resolve is
        left out (its text stays plain)."""
        creds = self._creds(ctx)
        dids: dict[str, str] = {}
        for handle in handles:
            try:
                answer = await xrpc(
                    self._http(creds),
                    creds.pds,
                    "com.atproto.identity.resolveHandle",
                    params={"handle": handle},
                )
            except XrpcError as exc:
                if exc.status == 429 or exc.status >= 500:
                    raise
                continue
            dids[handle] = str(answer["did"])
        return dids

    async def _upload(self, ctx: kit.PublishContext, url: str, alt: str) -> dict[str, Any]:
        media = self._media(ctx)
        file: kit.MediaFile = await media.file(url)
        data = await media.read(file)

        async def upload(creds: BlueskyCredentials) -> dict[str, Any]:
            return await xrpc(
                self._http(creds),
                creds.pds,
                "com.atproto.repo.uploadBlob",
                token=creds.access_jwt,
                content=data,
                content_type=file.content_type,
            )

        image: dict[str, Any] = {"alt": alt, "image": (await self._authed(ctx, upload))["blob"]}
        if file.width and file.height:
            image["aspectRatio"] = {"width": file.width, "height": file.height}
        return image

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        return await self._send_record(ctx, kit.loaded(PreparedRecord, prepared))

    async def _send_record(self, ctx: kit.AccountScope, post: PreparedRecord) -> kit.SentItem:
        """createRecord under the prepared key, a lost or unclear answer settled by that key."""
        try:
            return await self._create(ctx, post)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise kit.Retryable(f"Bluesky unreachable ({type(exc).__name__})") from exc
        except BlockedDestination as exc:
            raise kit.Permanent(f"Bluesky PDS refused: {exc.reason}") from exc
        except XrpcError as exc:
            if exc.status < 500:
                raise _publish_error(exc) from exc
            cause = str(exc)
        except httpx.TransportError as exc:
            cause = f"{type(exc).__name__} after the request was sent"
        return await self._settle(ctx, post, cause)

    async def _create(self, ctx: kit.AccountScope, post: PreparedRecord) -> kit.SentItem:
        async def create(creds: BlueskyCredentials) -> dict[str, Any]:
            return await xrpc(
                self._http(creds),
                creds.pds,
                "com.atproto.repo.createRecord",
                token=creds.access_jwt,
                body={
                    "repo": creds.repo,
                    "collection": POST,
                    "rkey": post.rkey,
                    "record": post.record,
                },
            )

        answer = await self._authed(ctx, create)
        return self._sent(ctx, str(answer["uri"]), str(answer["cid"]))

    def _sent(self, ctx: kit.AccountScope, uri: str, cid: str) -> kit.SentItem:
        handle = self._creds(ctx).handle or ""
        return kit.SentItem(uri, public_url(handle, uri), {"uri": uri, "cid": cid})

    async def _get_record(
        self, ctx: kit.AccountScope, repo: str, collection: str, rkey: str
    ) -> dict[str, Any]:
        creds = self._creds(ctx)
        return await xrpc(
            self._http(creds),
            creds.pds,
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )

    async def _find(self, ctx: kit.AccountScope, rkey: str) -> kit.SentItem | None:
        """The record under `rkey`, or None when the repository certainly has none."""
        try:
            answer = await self._get_record(ctx, self._creds(ctx).repo, POST, rkey)
        except XrpcError as exc:
            if exc.error == "RecordNotFound":
                return None
            raise
        return self._sent(ctx, str(answer["uri"]), str(answer["cid"]))

    async def _settle(
        self, ctx: kit.AccountScope, post: PreparedRecord, cause: str
    ) -> kit.SentItem:
        """createRecord left and no clear answer came back (5xx or a lost connection). Look
        the key up; if the record is not there, create it under the same key, which cannot
        make a second post even if the first request is still on its way. Whatever is still
        unclear after that is reported as unknown, never retried with a new key."""
        rkey = post.rkey
        try:
            found = await self._find(ctx, rkey)
            return found if found is not None else await self._create(ctx, post)
        except (XrpcError, httpx.HTTPError, kit.PublishError):
            try:
                found = await self._find(ctx, rkey)
            except (XrpcError, httpx.HTTPError):
                found = None
            if found is not None:
                return found
        raise kit.OutcomeUnknown(
            f"Bluesky gave no clear answer to the post ({cause}) and it could not be confirmed; "
            f"look for record {rkey} in the account before posting again"
        )

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """After a crash: the record under the prepared key if it exists. If it does not, the
        crashed request is long over (the lease had to run out first), so the post is created
        under that same key, which can still only ever make one."""
        if "rkey" not in prepared:
            return None
        post = kit.loaded(PreparedRecord, prepared)
        found = await self._find(ctx, post.rkey)
        return found if found is not None else await self._create(ctx, post)

    # Comments (replies)

    async def list_comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, since: datetime | None
    ) -> Sequence[kit.RemoteComment] | kit.PostGone:
        """The post's replies from `getPostThread` (an AppView query the account's PDS
        forwards), every level of them, each under its top-level reply."""

        async def thread(creds: BlueskyCredentials) -> dict[str, Any]:
            return await xrpc(
                self._http(creds),
                creds.pds,
                THREAD,
                token=creds.access_jwt,
                params={"uri": post.remote_id, "depth": str(THREAD_DEPTH), "parentHeight": "0"},
            )

        try:
            answer = await self._authed(ctx, thread)
        except XrpcError as exc:
            if exc.error == "NotFound":
                return kit.PostGone(f"Bluesky no longer has this post ({exc.message or exc.error})")
            raise _publish_error(exc) from exc
        except httpx.TransportError as exc:
            raise kit.Retryable(f"Bluesky unreachable ({type(exc).__name__})") from exc
        root = answer.get("thread") or {}
        if root.get("$type") == "app.bsky.feed.defs#notFoundPost":
            return kit.PostGone("Bluesky no longer has this post")
        return flatten_thread(root, ctx.account.external_id)

    async def send_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str:
        """A reply record (`reply: {root, parent}`) under a key chosen here, so that an unclear
        answer is settled by looking that key up, as for posts."""
        try:
            root = await self._strong_ref(ctx, post.remote_id)
            parent = root
            if comment.parent_platform_comment_id is not None:
                parent = await self._strong_ref(ctx, comment.parent_platform_comment_id)
            record: dict[str, Any] = {
                "$type": POST,
                "text": comment.text,
                "createdAt": _now_iso(),
                "reply": {"root": root, "parent": parent},
            }
            spans = find_spans(comment.text)
            facets = build_facets(spans, await self._resolve(ctx, mentioned_handles(spans)))
            if facets:
                record["facets"] = facets
        except XrpcError as exc:
            raise _publish_error(exc) from exc
        except httpx.TransportError as exc:
            raise kit.Retryable(f"Bluesky unreachable ({type(exc).__name__})") from exc
        sent = await self._send_record(ctx, PreparedRecord(new_tid(), record))
        return sent.remote_id

    async def _strong_ref(self, ctx: kit.AccountScope, uri: str) -> dict[str, str]:
        """{uri, cid} of a post that still exists, from `getRecord` (the PDS answers for its
        own repositories and asks the AppView for others): a reply to a deleted post would
        otherwise be created, orphaned."""
        try:
            answer = await self._get_record(ctx, *_at_uri_parts(uri))
        except XrpcError as exc:
            if exc.error == "RecordNotFound":
                raise kit.Permanent(f"The Bluesky post {uri} no longer exists") from exc
            raise
        return {"uri": str(answer["uri"]), "cid": str(answer["cid"])}

    async def find_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str | None:
        """The account's reply with this text to this parent among its newest posts (its own
        repository, which the PDS serves without an AppView)."""
        parent = comment.parent_platform_comment_id or post.remote_id
        creds = self._creds(ctx)
        try:
            answer = await xrpc(
                self._http(creds),
                creds.pds,
                "com.atproto.repo.listRecords",
                params={"repo": creds.repo, "collection": POST, "limit": str(RECENT_RECORDS)},
            )
        except XrpcError as exc:
            raise _publish_error(exc) from exc
        except httpx.TransportError as exc:
            raise kit.Retryable(f"Bluesky unreachable ({type(exc).__name__})") from exc
        for item in answer.get("records") or []:
            value = item.get("value") or {}
            replied = ((value.get("reply") or {}).get("parent") or {}).get("uri")
            if replied == parent and value.get("text") == comment.text:
                return str(item["uri"])
        return None

    # Metrics

    metrics_batch: int = METRICS_BATCH

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """Public counts from the AppView (`app.bsky.feed.getPosts`, no session needed: the
        posts are public). The AppView leaves out posts it does not have; the account's own
        repository then says whether one was deleted."""
        by_uri = {str(p.data.get("uri") or p.remote_id): p for p in posts}
        try:
            answer = await xrpc(
                self._client, self._appview, "app.bsky.feed.getPosts", params={"uris": list(by_uri)}
            )
        except XrpcError as exc:
            raise _publish_error(exc) from exc
        except httpx.HTTPError as exc:
            raise kit.Retryable(f"Cannot reach the Bluesky AppView: {exc}") from exc
        found: dict[str, kit.MetricsResult] = {}
        for view in answer.get("posts") or []:
            post = by_uri.get(str(view.get("uri")))
            if post is not None and isinstance(view, dict):
                found[post.post_id] = bluesky_snapshot(view)
        for uri, post in by_uri.items():
            if post.post_id not in found and await self._deleted(ctx, uri):
                found[post.post_id] = kit.PostGone(f"record {uri} is not in the repository")
        return found

    async def _deleted(self, ctx: kit.AccountContext, uri: str) -> bool:
        try:
            return await self._find(ctx, rkey_of(uri)) is None
        except (XrpcError, httpx.HTTPError, kit.AccountDisconnected):
            return False  # cannot tell: the post is retried like any unanswered one

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._guarded.aclose()


def _at_uri_parts(uri: str) -> tuple[str, str, str]:
    """(repo, collection, rkey) of `at://repo/collection/rkey`."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise kit.Permanent(f"Not a Bluesky post URI: {uri!r}")
    return parts[0], parts[1], parts[2]


def flatten_thread(root: dict[str, Any], account_did: str) -> list[kit.RemoteComment]:
    """Every reply in a `threadViewPost`, one level deep: a direct reply to the post is a
    top-level comment, a deeper one is stored under the direct reply it descends from.
    Replies the AppView shows as not found or blocked are left out."""
    comments: list[kit.RemoteComment] = []
    stack: list[tuple[dict[str, Any], str | None]] = [
        (reply, None) for reply in reversed(root.get("replies") or [])
    ]
    while stack:
        view, top = stack.pop()
        if view.get("$type") != "app.bsky.feed.defs#threadViewPost":
            continue
        post = view["post"]
        record = post.get("record") or {}
        author = post.get("author") or {}
        comments.append(
            kit.RemoteComment(
                platform_comment_id=str(post["uri"]),
                parent_platform_comment_id=top,
                text=str(record.get("text") or ""),
                created_at=parse_time(record.get("createdAt"))
                or parse_time(post.get("indexedAt"))
                or utcnow(),
                is_author=author.get("did") == account_did,
                author_id=author.get("did"),
                author_username=author.get("handle"),
                author_name=author.get("displayName") or None,
            )
        )
        below = top or str(post["uri"])
        stack.extend((reply, below) for reply in reversed(view.get("replies") or []))
    return comments


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_image(file: kit.MediaFile, index: int) -> None:
    if file.is_video:
        raise kit.Permanent(
            "Bluesky video goes through Bluesky's video service, which Masthead does not "
            "support yet; post images, or the video on another platform"
        )
    if not file.content_type.startswith("image/"):
        raise kit.Permanent(f"Bluesky posts take images; media {index + 1} is {file.content_type}")
    if file.size > MAX_IMAGE_BYTES:
        raise kit.Permanent(
            f"Bluesky accepts images up to {MAX_IMAGE_BYTES:,} bytes; {file.url} is "
            f"{file.size:,} bytes"
        )


def _publish_error(exc: XrpcError) -> kit.PublishError:
    """An answer that says the platform did not act, as the engine's error classes."""
    if exc.status == 429 or exc.error == "RateLimitExceeded":
        return kit.Retryable(f"Bluesky rate limit: {exc.message or exc.error}", exc.retry_after)
    if exc.status >= 500:
        return kit.Retryable(f"Bluesky answered {exc}", exc.retry_after)
    if exc.error in ACCOUNT_ERRORS:
        return kit.AccountDisconnected(f"Bluesky refused the account: {exc.message or exc.error}")
    return kit.Permanent(f"Bluesky refused the post: {exc.message or exc.error}")


def bluesky_snapshot(view: Mapping[str, Any]) -> kit.MetricsSnapshot:
    """A postView's counts in the contract's names (absent counts stay absent)."""
    raw = {key: view[key] for key in (*POST_COUNTS, "bookmarkCount") if key in view}
    return kit.MetricsSnapshot(kit.counts(view, POST_COUNTS.items()), raw)


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> BlueskyPublisher:
    return BlueskyPublisher(
        service_url=settings.bluesky_service_url,
        plc_url=settings.bluesky_plc_url,
        allow=settings.fetch_allow,
        timeout=settings.bluesky_timeout_seconds,
        appview_url=settings.bluesky_appview_url,
        transport=transport,
    )


RULES = kit.PlatformRules(
    name="bluesky",
    content_platforms=("bluesky",),
    # PR, PN 4.3 (lexicon app.bsky.feed.post text): maxGraphemes 300, maxLength 3000 bytes.
    text_limits=(
        kit.TextLimit(300, kit.Count.GRAPHEMES),
        kit.TextLimit(3000, kit.Count.UTF8_BYTES),
    ),
    media=kit.MediaCount(0, 4),  # PR, PN 4.3: embed.images holds at most 4 (or 1 video)
    # PN 4.3 (lexicon): image blobs <= 2,000,000 bytes (larger ones are re-encoded),
    # video/mp4 <= 300 MB.
    files=kit.FileRules(
        video_types=frozenset({kit.MP4}),
        convertible=frozenset({kit.WEBP}),
        reencode_oversize=True,
        max_image_bytes=2_000_000,
        max_video_bytes=300 * kit.MB,
    ),
    threads=True,
    # Ours (as Blotato's instagram/pinterest altText): the alt text of every image.
    fields=(kit.FieldRule("altText", kit.Kind.STRING),),
)
"""What a post to bluesky may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="bluesky",
    label="Bluesky",
    build=build,
    rules=RULES,
    connect="credentials",
    # platform-notes 4.4: 5,000 write points per hour per DID, a create costs 3.
    budgets=PlatformBudgets(account=Budget(1_666, 3_600)),
    # A reply is a post record: the lexicon counts graphemes.
    comments=CommentRules(kit.TextLimit(300, kit.Count.GRAPHEMES)),  # contract section 10
)
