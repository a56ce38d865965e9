"""Meta's Graph API, shared by the Facebook Pages and Instagram publishers.

One Facebook Login serves both platforms: the user grants Page and Instagram permissions once,
the code becomes a long-lived user token, and `/me/accounts` lists the Pages with their own
Page tokens and the Instagram professional account linked to each. Page tokens obtained from
a long-lived user token do not expire (platform-notes 2.2), so publishing never needs a
refresh; a revoked one (code 190) disconnects the account.

Errors follow platform-notes 2.3 and 11: Meta's body becomes words a person can act on, the
throttling codes wait, and code 1/2 or a 5xx on a call that creates something is an unknown
outcome that each publisher settles by asking Meta about the object it stored beforehand.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import httpx

from masthead.config import OAuthApp, Settings
from masthead.domain.comments import MISSING_PERMISSION_MESSAGE, CommentRefused, ErrorCode
from masthead.platforms import kit
from masthead.timeutil import parse_time, utcnow

GRAPH_VERSION = "v21.0"
SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "publish_video",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "read_insights",
    "instagram_manage_insights",
    "pages_read_user_content",
    "pages_manage_engagement",
    "instagram_manage_comments",
)
"""platform-notes 2.2 (Pages, + publish_video for video) and 2.4 (Instagram with Facebook
Login); business_management lets Pages owned through a Business Manager be listed;
read_insights and instagram_manage_insights read the posts' insights (analytics); the last
three read and answer comments (contract section 10)."""
THROTTLED = frozenset({4, 17, 32, 341, 613})
"""Meta refused before acting because a call budget is spent (error-handling guide: 4 app,
17 user, 341 app limit; 32 and 613 page and business throttles, PN 11)."""
TRANSIENT = frozenset({1, 2})
"""Unknown and temporary service errors: retried when nothing was being created."""
IG_PUBLISH_LIMIT = (9, 2207042)
"""(code, error_subcode) of "the account reached its publishing limit" (PN 2.3)."""
MISSING_OBJECT = (100, 33)
"""(code, error_subcode) of "object does not exist" (a deleted post or media)."""
PAGE_SIZE = 100
META_SETTINGS = "meta"
"""Facebook and Instagram share one app and one Graph origin: MASTHEAD_META_*."""


@dataclass(frozen=True, slots=True)
class GraphError:
    """Meta's error body (`{"error": {...}}`), or what stands in for it."""

    status: int
    code: int | None
    subcode: int | None
    message: str
    user_title: str
    user_message: str
    fbtrace_id: str
    transient: bool = False
    """`is_transient`: Meta says the same call may work if made again."""

    def describe(self) -> str:
        """The user-facing sentence Meta wrote when it wrote one, its technical message
        otherwise, with the codes and trace id a support request to Meta needs."""
        words = self.user_message or self.message or f"Meta answered HTTP {self.status}"
        if self.user_title and self.user_message:
            words = f"{self.user_title}: {self.user_message}"
        details = [f"code {self.code}"] if self.code is not None else [f"HTTP {self.status}"]
        if self.subcode:
            details.append(f"subcode {self.subcode}")
        if self.fbtrace_id:
            details.append(f"fbtrace_id {self.fbtrace_id}")
        return f"{words} ({', '.join(details)})"


def graph_error(response: httpx.Response) -> GraphError:
    error = (kit.json_object(response) or {}).get("error")
    if not isinstance(error, dict):
        error = {}

    def number(key: str) -> int | None:
        value = error.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return GraphError(
        status=response.status_code,
        code=number("code"),
        subcode=number("error_subcode"),
        message=str(error.get("message") or ""),
        user_title=str(error.get("error_user_title") or ""),
        user_message=str(error.get("error_user_msg") or ""),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
        transient=error.get("is_transient") is True,
    )


USAGE_HEADER = "x-business-use-case-usage"
"""Where Meta says when a spent call budget returns: `{business id: [{type, call_count, ...,
estimated_time_to_regain_access (minutes)}]}` (`x-app-usage` carries percentages only)."""


def regain_seconds(headers: Mapping[str, str]) -> float | None:
    """The longest `estimated_time_to_regain_access` Meta's usage header names, in seconds;
    None when it names none (or cannot be read)."""
    try:
        usage = json.loads(headers.get(USAGE_HEADER) or "null")
    except ValueError:
        return None
    groups = usage.values() if isinstance(usage, dict) else []
    minutes = [
        float(value)
        for rows in groups
        if isinstance(rows, list)
        for row in rows
        if isinstance(row, dict)
        and isinstance(value := row.get("estimated_time_to_regain_access"), int | float)
        and not isinstance(value, bool)
        and value > 0
    ]
    return max(minutes) * 60 if minutes else None


def raise_for(error: GraphError, *, creates: bool, throttle_wait: float) -> None:
    """Meta's answer as the engine's error classes (platform-notes 2.3 and 11). A throttled
    call waits `throttle_wait`: Meta's own estimate when its usage headers give one."""
    words = error.describe()
    if error.code == 190:
        raise kit.AccountDisconnected(
            f"Meta no longer accepts this account's access token (it was revoked, the password "
            f"changed or the app was removed): connect the account again. {words}"
        )
    if (error.code, error.subcode) == IG_PUBLISH_LIMIT:
        raise kit.Retryable(f"Instagram publishing limit reached: {words}", throttle_wait)
    if error.code in THROTTLED:
        raise kit.Retryable(f"Meta asks to slow down: {words}", throttle_wait)
    if error.code in TRANSIENT or (error.code is None and error.status >= 500):
        if creates:
            raise kit.OutcomeUnknown(f"Meta failed while creating the post: {words}")
        raise kit.Retryable(f"Meta is temporarily unavailable: {words}")
    if error.code == 368:
        raise kit.Permanent(f"Meta has temporarily blocked this account from posting: {words}")
    if error.code == 506:
        raise kit.Permanent(f"Meta refused a duplicate of a recent post: {words}")
    if error.code == 10 or (error.code is not None and 200 <= error.code <= 299):
        raise kit.Permanent(f"The account lacks a permission this post needs: {words}")
    raise kit.Permanent(words)


GONE = (100, 33)
"""(code, error_subcode) of "object does not exist" (the post or comment was deleted)."""


def comment_refusal(error: GraphError) -> None:
    """Meta's refusals of a comment call with the contract's precise codes (section 10)."""
    words = error.describe()
    if (error.code, error.subcode) == GONE:
        raise CommentRefused(f"The post or comment no longer exists: {words}", ErrorCode.GONE)
    if error.code == 10 or (error.code is not None and 200 <= error.code <= 299):
        raise CommentRefused(f"{MISSING_PERMISSION_MESSAGE}. {words}", ErrorCode.MISSING_PERMISSION)


def comment_time(raw: object) -> datetime:
    """A Graph timestamp (`2026-09-08T14:03:11+0000`, or unix seconds in webhooks)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw, UTC)
    text = str(raw or "")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return parse_time(text) or utcnow()


def _no_classify(response: httpx.Response, creates: bool) -> None:
    """`Graph.call` reads answers itself (`raise_for`), with the throttle wait it was given."""


class Graph:
    """Authorised HTTP calls to the Graph API, answers decoded, errors mapped."""

    def __init__(self, client: httpx.AsyncClient, api_url: str, throttle_wait: float) -> None:
        self._http = kit.PlatformHttp("Meta", client, _no_classify)
        self.api = api_url.rstrip("/")
        self._throttle_wait = throttle_wait

    def url(self, path: str) -> str:
        return f"{self.api}/{GRAPH_VERSION}/{path.lstrip('/')}"

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        creates: bool = False,
        url: str | None = None,
        refusal: Callable[[GraphError], None] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """One call with `token` in the Authorization header (never in a URL that could be
        logged). `creates`: the call may make something visible, so a lost answer is an
        unknown outcome rather than a retry. `refusal` may raise its own error for an error
        answer before the usual mapping (comments tell a gone post apart)."""
        body = await self._answer(
            method, path, token, creates=creates, url=url, refusal=refusal, **kwargs
        )
        assert body is not None  # None answers only a read that allows it
        return body

    async def read(self, path: str, token: str, **kwargs: Any) -> dict[str, Any] | None:
        """A GET that answers None when the object no longer exists (deleted, or never was:
        Meta says code 100 subcode 33 for both)."""
        return await self._answer("GET", path, token, gone_ok=True, **kwargs)

    async def _answer(
        self,
        method: str,
        path: str,
        token: str,
        *,
        creates: bool = False,
        url: str | None = None,
        gone_ok: bool = False,
        refusal: Callable[[GraphError], None] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        response = await self._http.send(
            method, url or self.url(path), creates=creates, headers=headers, **kwargs
        )
        if response.status_code >= 300:
            error = graph_error(response)
            if gone_ok and (error.code, error.subcode) == MISSING_OBJECT:
                return None
            if refusal is not None:
                refusal(error)
            wait = regain_seconds(response.headers) or self._throttle_wait
            raise_for(error, creates=creates, throttle_wait=wait)
        try:
            body = response.json()
        except ValueError as exc:
            raise kit.Permanent(f"Meta answered something that is not JSON: {exc}") from exc
        return body if isinstance(body, dict) else {"data": body}

    async def pages(self, user_token: str) -> list[dict[str, Any]]:
        """The Pages the user can manage, each with its Page token and linked Instagram
        professional account, following the cursors to the end."""
        fields = (
            "id,name,access_token,instagram_business_account{id,username,name,profile_picture_url}"
        )
        params: dict[str, Any] = {"fields": fields, "limit": PAGE_SIZE}
        found: list[dict[str, Any]] = []
        while True:
            body = await self.call("GET", "me/accounts", user_token, params=params)
            found.extend(page for page in body.get("data") or [] if isinstance(page, dict))
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (body.get("paging") or {}).get("next"):
                return found
            params = {**params, "after": after}


def insight_values(body: Mapping[str, Any]) -> dict[str, Any]:
    """An insights answer (`{"data": [{"name", "values": [{"value"}]}]}`, or `total_value`
    in newer versions) as {metric name: value}; metrics Meta left out stay absent."""
    found: dict[str, Any] = {}
    for row in body.get("data") or []:
        if not isinstance(row, dict) or not row.get("name"):
            continue
        values = row.get("values") or [{}]
        total = row.get("total_value") or {}
        value = total.get("value") if isinstance(total, dict) and "value" in total else None
        if value is None and isinstance(values[0], dict):
            value = values[0].get("value")
        if value is not None:
            found[str(row["name"])] = value
    return found


async def poll(
    look: Callable[[], Awaitable[str]],
    *,
    done: frozenset[str],
    first_wait: float,
    limit: float,
    what: str,
) -> str:
    """Ask `look` for a state until it is one of `done`, waiting `first_wait` then twice as
    long each time (at most 30 s between looks), for at most `limit` seconds in all. A wait
    that runs out is Retryable: the work creates nothing visible and can start again."""
    deadline = time.monotonic() + limit
    wait = first_wait
    while True:
        state = await look()
        if state in done:
            return state
        if time.monotonic() + wait > deadline:
            raise kit.Retryable(f"Meta is still processing {what} (last state: {state})")
        await asyncio.sleep(wait)
        wait = min(wait * 2, 30.0)


class MetaOAuth(kit.AppOAuth):
    """Facebook Login (authorization code, PKCE, state checked by services/oauth.py); the code
    is traded for a short-lived user token and that at once for a long-lived one (60 days)."""

    scopes = SCOPES

    def __init__(self, platform: str, app: OAuthApp, client: httpx.AsyncClient) -> None:
        super().__init__(app, client)
        self.platform = platform

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        short = await self._token(
            {"code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
        )
        return await self.long_lived(str(short["access_token"]))

    async def long_lived(self, user_token: str) -> dict[str, Any]:
        """A long-lived user token (60 days) for `user_token`. Page tokens listed with a
        long-lived user token do not expire; with a short-lived one they end within hours."""
        body = await self._token(
            {"grant_type": "fb_exchange_token", "fb_exchange_token": user_token}
        )
        return kit.credentials_from_token_response(body)

    async def _token(self, params: dict[str, str]) -> dict[str, Any]:
        query = {"client_id": self._app.client_id, **params}
        if self._app.client_secret:
            query["client_secret"] = self._app.client_secret
        try:
            response = await self._client.get(
                f"{self._app.api_url}/{GRAPH_VERSION}/oauth/access_token", params=query
            )
        except httpx.TransportError as exc:
            raise kit.Retryable(f"Meta token endpoint unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise kit.Permanent(
                f"Meta refused the authorization: {graph_error(response).describe()}"
            )
        body: dict[str, Any] = response.json()
        if not body.get("access_token"):
            raise kit.Permanent("Meta's token answer has no access_token")
        return body


async def user_credentials(oauth: MetaOAuth | None, credentials: dict[str, Any]) -> dict[str, Any]:
    """The credentials to connect with. A token given to `masthead accounts add` without an
    end (`expires_at`) may be short-lived: it is exchanged for a long-lived one when the
    operator's app is configured, so that the Page tokens listed with it do not expire."""
    given = kit.OAuthCredentials.from_stored(credentials)
    if not given.access_token:
        raise kit.Permanent("Connecting needs a Facebook user access token")
    if oauth is None or given.expires_at:
        return dict(credentials)
    return await oauth.long_lived(str(given.access_token))


def page_subaccounts(pages: list[dict[str, Any]]) -> tuple[kit.ConnectedSubaccount, ...]:
    """Pages as subaccounts (the `pageId`s of a facebook post), each with its Page token."""
    return tuple(
        kit.ConnectedSubaccount(
            kind="page",
            external_id=str(page["id"]),
            name=str(page.get("name") or page["id"]),
            credentials={"access_token": str(page["access_token"])},
        )
        for page in pages
        if page.get("id") and page.get("access_token")
    )


def instagram_accounts(pages: list[dict[str, Any]]) -> tuple[kit.ConnectedAccount, ...]:
    """One account per Instagram professional account linked to a Page. It publishes with
    its Page's token (Instagram API with Facebook Login accepts it, and it does not expire)."""
    found: dict[str, kit.ConnectedAccount] = {}
    for page in pages:
        ig = page.get("instagram_business_account")
        if not isinstance(ig, dict) or not ig.get("id") or not page.get("access_token"):
            continue
        username = str(ig.get("username") or ig["id"])
        found.setdefault(
            str(ig["id"]),
            kit.ConnectedAccount(
                external_id=str(ig["id"]),
                username=username,
                credentials={
                    "access_token": str(page["access_token"]),
                    "page_id": str(page["id"]),
                },
                fullname=str(ig.get("name") or username),
                profile_image_url=ig.get("profile_picture_url"),
            ),
        )
    return tuple(found.values())


class GraphPublisher(kit.HttpPublisher):
    """What the Facebook and Instagram publishers share: one Graph API client, the Meta app
    (MASTHEAD_META_*), and how long they wait for Meta's processing and throttles."""

    def __init__(
        self,
        *,
        api_url: str,
        app: OAuthApp | None,
        timeout: float = 60.0,
        poll_seconds: float = 2.0,
        processing_limit: float = 600.0,
        throttle_wait: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = kit.new_client(timeout, transport)
        self._graph = Graph(self._client, api_url, throttle_wait)
        self._poll_seconds = poll_seconds
        self._processing_limit = processing_limit
        self.oauth: MetaOAuth | None = (
            MetaOAuth(self.platform, app, self._client) if app is not None else None
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> Self:
        return cls(
            api_url=settings.meta_api_url,
            app=settings.oauth_app(META_SETTINGS),
            timeout=settings.meta_timeout_seconds,
            poll_seconds=settings.meta_poll_seconds,
            processing_limit=settings.meta_processing_limit_seconds,
            throttle_wait=settings.meta_throttle_seconds,
            transport=transport,
        )

    async def _post_comment(self, path: str, token: str, text: str) -> str:
        """The irreversible comment call (`/comments` or Instagram's `/replies`)."""
        body = await self._graph.call(
            "POST", path, token, creates=True, refusal=comment_refusal, json={"message": text}
        )
        return str(body["id"])

    async def _read_comments(
        self, path: str, token: str, params: dict[str, Any]
    ) -> dict[str, Any] | kit.PostGone:
        """A comments listing, or `PostGone` when Meta says the post no longer exists."""
        try:
            return await self._graph.call(
                "GET", path, token, refusal=comment_refusal, params=params
            )
        except CommentRefused as refused:
            if refused.code == ErrorCode.GONE:
                return kit.PostGone(refused.message)
            raise


# -- comment webhooks (contract section 10: `GET|POST /webhooks/meta`) -------------------------

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=<hex HMAC-SHA256 of the raw body keyed by the app secret>`."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :])


@dataclass(frozen=True, slots=True)
class PushedComment:
    """One comment a webhook delivery tells about, and where it belongs."""

    platform: str
    remote_post_id: str
    comment: kit.RemoteComment
    removed: bool = False


def webhook_comments(payload: object) -> list[PushedComment]:
    """The comments in a delivery: Instagram's `comments` field and a Page's `feed` field
    with `item: comment`; anything else (likes, other fields) is left out."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return []
    platform = {"instagram": "instagram", "page": "facebook"}.get(str(payload.get("object")))
    if platform is None:
        return []
    found: list[PushedComment] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            continue
        owner = str(entry.get("id") or "")
        for change in entry["changes"]:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            pushed = (
                _instagram_change(owner, entry, change.get("field"), value)
                if platform == "instagram"
                else _page_change(owner, change.get("field"), value)
            )
            if pushed is not None:
                found.append(pushed)
    return found


def _author(value: Mapping[str, Any]) -> dict[str, Any]:
    author = value.get("from")
    return author if isinstance(author, dict) else {}


def _instagram_change(
    owner: str, entry: dict[str, Any], field: object, value: dict[str, Any]
) -> PushedComment | None:
    media = value.get("media")
    if field != "comments" or not isinstance(media, dict) or not value.get("id"):
        return None
    author = _author(value)
    parent = value.get("parent_id")
    comment = kit.RemoteComment(
        platform_comment_id=str(value["id"]),
        parent_platform_comment_id=str(parent) if parent else None,
        text=str(value.get("text") or ""),
        created_at=comment_time(entry.get("time")),
        is_author=str(author.get("id") or "") == owner,
        author_id=str(author["id"]) if author.get("id") else None,
        author_username=str(author["username"]) if author.get("username") else None,
    )
    return PushedComment("instagram", str(media.get("id") or ""), comment)


def _page_change(owner: str, field: object, value: dict[str, Any]) -> PushedComment | None:
    if field != "feed" or value.get("item") != "comment" or not value.get("comment_id"):
        return None
    post_id = str(value.get("post_id") or "")
    parent = str(value.get("parent_id") or "")
    comment = page_comment(
        str(value["comment_id"]), parent if parent and parent != post_id else None, value, owner
    )
    return PushedComment("facebook", post_id, comment, removed=value.get("verb") == "remove")


def page_comment(
    comment_id: str, parent: str | None, value: Mapping[str, Any], page_id: str
) -> kit.RemoteComment:
    """A comment on a Page's post as Meta writes it (`message`, `created_time`, `from` with
    id and name), read from the comments edge or from a `feed` webhook change; the Page's own
    comments are the account's."""
    author = _author(value)
    return kit.RemoteComment(
        platform_comment_id=comment_id,
        parent_platform_comment_id=parent,
        text=str(value.get("message") or ""),
        created_at=comment_time(value.get("created_time")),
        is_author=str(author.get("id") or "") == page_id,
        author_id=str(author["id"]) if author.get("id") else None,
        author_name=str(author["name"]) if author.get("name") else None,
    )
