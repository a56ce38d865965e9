"""The interface every platform publisher implements (a new platform is one new file).

A publish of one thread item has two phases, so that invariant 2 (never sent twice) is held by
the engine rather than by each platform:

1. `prepare` does everything that creates nothing visible (media uploads, containers, status
   polls). It may run again after a crash or a retryable error.
2. `send` makes the one irreversible call. The engine stores a "sending" mark before it and
   the remote id after it; if the process dies between the two, the next attempt calls
   `reconcile` instead of sending again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

# The error classes, MediaFile and RemoteComment live in domain/, so the media pipeline and the
# store can use them without importing platforms/; the engine and publishers keep importing
# them from here.
from masthead.domain.comments import RemoteComment as RemoteComment
from masthead.domain.files import MediaFile as MediaFile
from masthead.domain.outcomes import AccountDisconnected as AccountDisconnected
from masthead.domain.outcomes import AnswerLost as AnswerLost
from masthead.domain.outcomes import NotSent as NotSent
from masthead.domain.outcomes import OutcomeUnknown as OutcomeUnknown
from masthead.domain.outcomes import Permanent as Permanent
from masthead.domain.outcomes import PublishError as PublishError
from masthead.domain.outcomes import Retryable as Retryable
from masthead.domain.posts import ThreadItem

if TYPE_CHECKING:
    from masthead.platforms.oauth import OAuthProvider


class CredentialStore(Protocol):
    """The account's stored credentials, shared by every worker process.

    Refresh tokens that rotate (X, TikTok) are single-use: two workers refreshing at once must
    not both spend the old one. `save` is therefore a compare-and-swap: it stores `new` only if
    the stored credentials still equal `replaces`, and otherwise returns False, after which the
    caller `load`s what the other worker stored and uses it.
    """

    async def load(self) -> dict[str, Any]: ...

    async def save(self, new: dict[str, Any], *, replaces: dict[str, Any]) -> bool: ...

    async def subaccount(self, kind: str, external_id: str) -> dict[str, Any] | None:
        """The credentials stored with one of the account's subaccounts (a Facebook Page's
        own token), None when the account has no such subaccount. Read per publish, not
        carried in `AccountInfo`, so that only the page a post names is ever decrypted."""
        ...


class MediaSource(Protocol):
    """How a publisher gets the bytes of a post's media (`mediaUrls`), wherever they are
    stored. `file` ingests the URL if it is not hosted yet (through the SSRF guard) and
    raises `Permanent` with a clear reason for a file that cannot be used."""

    async def file(self, url: str) -> MediaFile: ...

    def chunks(self, file: MediaFile, chunk_size: int = 4 * 1024 * 1024) -> AsyncIterator[bytes]:
        """The bytes in order, `chunk_size` at a time (the last chunk may be shorter)."""
        ...

    async def read(self, file: MediaFile) -> bytes:
        """The whole file in memory: only for images, which are a few MB at most."""
        ...


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    platform: str
    external_id: str
    username: str
    credentials: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentItem:
    remote_id: str
    public_url: str
    data: dict[str, Any] = field(default_factory=dict)
    """What a later thread item or a reconcile needs (Bluesky cid, Meta container id)."""


class AccountScope(Protocol):
    """Whose call this is: what the token keeper and the authorised call need. A publish
    (`PublishContext`) is one; a metrics check or a comment call (`AccountContext`) is another."""

    @property
    def account(self) -> AccountInfo: ...

    @property
    def credentials(self) -> CredentialStore | None: ...


@dataclass(frozen=True, slots=True)
class AccountContext:
    """A call made for an account outside publishing (metrics, comments)."""

    account: AccountInfo
    credentials: CredentialStore | None = None


@dataclass(frozen=True, slots=True)
class PublishContext:
    post_id: str
    account: AccountInfo
    target: dict[str, Any]
    items: tuple[ThreadItem, ...]
    scheduled_at: datetime | None
    signing_secret: str
    """The user's webhook signing secret (used by the webhook target)."""
    previous: tuple[SentItem, ...] = ()
    """Items of this thread already sent, in order (a reply needs its parent's id)."""
    credentials: CredentialStore | None = None
    """Where refreshed tokens go; None only in tests of publishers that never refresh."""
    media: MediaSource | None = None
    """The media pipeline; None only where a post can carry no media (tests of text posts)."""


@dataclass(frozen=True, slots=True)
class ConnectedSubaccount:
    """A page, organization, board or playlist the account can post to (`pageId` etc.)."""

    kind: str
    external_id: str
    name: str
    credentials: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectedAccount:
    """What the platform says about credentials: whose they are and where they can post.
    The same for `masthead accounts add`, an OAuth callback and a reconnect."""

    external_id: str
    username: str
    credentials: dict[str, Any]
    fullname: str = ""
    profile_image_url: str | None = None
    subaccounts: tuple[ConnectedSubaccount, ...] = ()


class Publisher(ABC):
    platform: ClassVar[str]
    oauth: OAuthProvider | None = None
    """How an account is connected through the browser (services/oauth.py); None for
    platforms connected otherwise, or whose OAuth app the operator has not set up."""

    async def prepare(self, ctx: PublishContext, position: int) -> dict[str, Any]:
        """Retry-safe work before the irreversible call; the result is stored with the
        sending mark and handed to `send` and `reconcile`."""
        return {}

    @abstractmethod
    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        """The irreversible call. Raise `Retryable` only when the platform certainly did not
        act, `OutcomeUnknown` when it may have."""

    async def reconcile(
        self, ctx: PublishContext, position: int, prepared: dict[str, Any]
    ) -> SentItem | None:
        """After a crash between the sending mark and the stored answer: find the item on the
        platform if it can be found. None means it cannot be told (reported as unknown)."""
        return None

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        """Ask the platform whose `credentials` these are (given to `masthead accounts add` or
        obtained by OAuth). Raise `Permanent` with the platform's words when it refuses them."""
        raise Permanent(f"{self.platform} accounts cannot be connected with credentials")

    async def connect_all(self, credentials: dict[str, Any]) -> tuple[ConnectedAccount, ...]:
        """Every account one grant connects, the first being what `connect` returns. One for
        most platforms; a Facebook Login can reach several Instagram accounts (one per Page),
        and the user should not have to log in once for each."""
        return (await self.connect(credentials),)

    async def aclose(self) -> None:
        """Release connections at shutdown."""


@dataclass(frozen=True, slots=True)
class PublishedPost:
    """A post Masthead published, as a later call about it (metrics, comments) needs it."""

    post_id: str
    """Masthead's id (the `postSubmissionId`)."""
    remote_id: str
    """The platform's id of the post (of its first thread item)."""
    public_url: str | None
    published_at: datetime
    target: Mapping[str, Any] = field(default_factory=dict)
    """The post's target as created (`pageId`, `mediaType`...)."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """What the send stored beside the remote id (`SentItem.data`: Bluesky's cid...)."""


Metric = str | float | Mapping[str, str]
"""A normalised metric value: counts as strings of decimal digits, ratios as numbers,
breakdowns as objects of count strings (the contract's "Snapshots and metric names")."""


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    metrics: Mapping[str, Metric]
    """The contract's names (`viewsCount`...), only those the platform reported."""
    raw: Mapping[str, Any]
    """The platform's own fields, as received (`platformMetrics`)."""


@dataclass(frozen=True, slots=True)
class PostGone:
    """The platform says the post no longer exists: collection and polling end for it."""

    reason: str


@dataclass(frozen=True, slots=True)
class MetricsUnavailable:
    """The platform has no numbers for this post (a LinkedIn personal post without the
    permission), or refused them for this post alone (in its words): recorded as
    `lastError`, collection ends."""

    reason: str


MetricsResult = MetricsSnapshot | PostGone | MetricsUnavailable


@runtime_checkable
class MetricsReader(Protocol):
    """A publisher that can read its posts' metrics (analytics).

    `fetch_metrics` gets at most `metrics_batch` posts of one account and answers per
    `post_id`; a post missing from the answer failed alone (retried within its window), a
    refusal of one post is its own `MetricsUnavailable` (`metrics.each_post`). It raises
    `AccountDisconnected` for a revoked token, `Retryable` (with `retry_after` from the
    platform) for a rate limit or a transient failure of the whole request, `Permanent` for a
    refusal of the whole request."""

    metrics_batch: int

    async def fetch_metrics(
        self, ctx: AccountContext, posts: Sequence[PublishedPost]
    ) -> Mapping[str, MetricsResult]: ...


@dataclass(frozen=True, slots=True)
class CommentDraft:
    """An outbound comment: top-level, or a reply to a top-level comment."""

    text: str
    parent_platform_comment_id: str | None = None


@runtime_checkable
class CommentsReader(Protocol):
    """A publisher that can list the comments on its posts (polling).

    `list_comments` answers the comments of one post (made after `since` where the platform
    can filter, else all it returns within its paging bound), or `PostGone`. It raises as
    `MetricsReader.fetch_metrics` does."""

    async def list_comments(
        self, ctx: AccountContext, post: PublishedPost, since: datetime | None
    ) -> Sequence[RemoteComment] | PostGone: ...


@runtime_checkable
class CommentsWriter(Protocol):
    """A publisher that can post a comment or a reply under its posts.

    `send_comment` is the irreversible call (the engine stores a sending mark before it),
    answering the platform's comment id; it raises like `Publisher.send` (`Retryable` only
    when the platform certainly did not act, `OutcomeUnknown` when it may have, `Permanent`
    with the platform's words). `find_comment` settles a lost answer: the id of the account's
    comment with this text under the post (or under the parent), None if there is none."""

    async def send_comment(
        self, ctx: AccountContext, post: PublishedPost, comment: CommentDraft
    ) -> str: ...

    async def find_comment(
        self, ctx: AccountContext, post: PublishedPost, comment: CommentDraft
    ) -> str | None: ...
