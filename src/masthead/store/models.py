"""The database schema. The posts table is the one source of truth for every post, and also the
dispatch queue (ARCHITECTURE.md: a batch claim over this table, no second job store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from masthead.store.types import JSONType, UTCDateTime

# Deterministic constraint names keep Alembic batch migrations on SQLite reproducible.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str] = mapped_column(Text, doc="Fernet-encrypted signing secret")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("user_id", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(200), default="")
    fullname: Mapped[str] = mapped_column(String(200), default="")
    profile_image_url: Mapped[str | None] = mapped_column(Text)
    credentials: Mapped[str | None] = mapped_column(Text, doc="Fernet-encrypted JSON")
    status: Mapped[str] = mapped_column(String(32), default="connected")
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subaccount(Base):
    """A Facebook Page, LinkedIn organization, YouTube playlist or Pinterest board."""

    __tablename__ = "subaccounts"
    __table_args__ = (UniqueConstraint("account_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), default="")
    credentials: Mapped[str | None] = mapped_column(Text, doc="Fernet-encrypted JSON")


class Post(Base):
    """One submission: a post or a whole thread, with its dispatch state.

    `state` is scheduled | in-progress | published | failed | cancelled. `due_at` is when the
    dispatcher should next look at the row (the scheduled time, or a retry time); NULL once
    the row is finished. `version` grows on every edit so that a worker holding an old copy
    cannot send it (checked when the "sending" mark is written).
    """

    __tablename__ = "posts"
    __table_args__ = (
        Index(
            "ix_posts_due",
            "due_at",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
        Index(
            "ix_posts_due_state",
            "state",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
        Index(
            "ix_posts_lease",
            "lease_until",
            postgresql_where=text("lease_until IS NOT NULL"),
            sqlite_where=text("lease_until IS NOT NULL"),
        ),
        Index("ix_posts_user_post_time", "user_id", "post_time"),
        Index("ix_posts_user_scheduled", "user_id", "state", "scheduled_at"),
        Index("ix_posts_account_slot_time", "account_id", "scheduled_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    subaccount_id: Mapped[str | None] = mapped_column(String(200))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    public_url: Mapped[str | None] = mapped_column(Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    post_time: Mapped[datetime] = mapped_column(UTCDateTime, doc="list order: when it goes out")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slot_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PostItem(Base):
    """One post of a thread that a publisher has begun to send.

    The row is written (state `sending`) before the irreversible platform call and completed
    with the remote id after it. A `sending` row found by a later attempt means the outcome is
    unknown (invariant 2): reconcile or report, never re-send blindly.
    """

    __tablename__ = "post_items"
    __table_args__ = (Index("ix_post_items_remote_id", "remote_id"),)
    """A comment webhook names the platform's post id (contract section 10)."""

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    remote_id: Mapped[str | None] = mapped_column(String(300))
    public_url: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(
        JSONType, doc="publisher's own ids needed to continue or reconcile (cid, container id)"
    )
    sending_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Slot(Base):
    """A weekly calendar slot; `hour`/`minute`/`day` are wall-clock in `timezone` (UTC default)."""

    __tablename__ = "slots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[str] = mapped_column(String(10))
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(String(64))
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Worker(Base):
    """Dispatch workers' heartbeats: `/readyz` and lease take-over read them."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MediaBlob(Base):
    """One stored file, by content (its sha256 is its storage key), shared by every upload of
    the same bytes; the facts are what the media pipeline learnt from them."""

    __tablename__ = "media_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    frame_rate: Mapped[float | None] = mapped_column(Float)
    frames: Mapped[int | None] = mapped_column(Integer)
    video_codec: Mapped[str | None] = mapped_column(String(64))
    audio_codec: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MediaVariant(Base):
    """A converted copy of a blob that a platform accepts (PNG to JPEG, a smaller JPEG)."""

    __tablename__ = "media_variants"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("media_blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    recipe: Mapped[str] = mapped_column(String(64), primary_key=True)
    variant_sha256: Mapped[str] = mapped_column(ForeignKey("media_blobs.sha256"))


class Media(Base):
    """A user's media: what POST /v2/media returns an id for, and what a post's external
    `mediaUrls` were ingested as (looked up by the URL's digest)."""

    __tablename__ = "media"
    __table_args__ = (Index("ix_media_user_source", "user_id", "source_digest"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blobs.sha256"), index=True)
    source_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MediaUpload(Base):
    """A presigned upload (POST /v2/media/uploads): single use, expiring. `media_id` is set
    once the bytes arrived and passed the checks."""

    __tablename__ = "media_uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OAuthState(Base):
    """An OAuth connect in progress, between `/oauth/{platform}/start` and the callback.

    Kept in the database (not in a process's memory) so that the callback may reach any API
    process. Only the state's SHA-256 is stored: the state itself travels through the user's
    browser and is the one thing that ties the callback to the user who started it. The PKCE
    verifier is encrypted. A row is used once: the callback deletes it as it reads it.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    code_verifier: Mapped[str] = mapped_column(Text, doc="Fernet-encrypted PKCE verifier")
    redirect_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiRateCounter(Base):
    """Requests per user (all their API keys together), route and minute, shared by every API
    process on PostgreSQL (api/ratelimit.py); old minutes are purged by the maintenance task."""

    __tablename__ = "api_rate_counters"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, doc="unix minute")
    hits: Mapped[int] = mapped_column(Integer)


class RateBudgetUse(Base):
    """Posts sent per budget key (`twitter:account:12`, `twitter:app`) and window."""

    __tablename__ = "rate_budget_use"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, doc="unix seconds")
    used: Mapped[int] = mapped_column(Integer)


class RateBudgetBlock(Base):
    """A platform said "wait" (429, Retry-After): nobody spends this key until `until`."""

    __tablename__ = "rate_budget_blocks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    until: Mapped[float] = mapped_column(Float, doc="unix seconds")


class WebSession(Base):
    """A signed-in browser. Kept in the database so that every API process behind a load
    balancer knows it; only the cookie value's SHA-256 is stored, so a copy of the table
    signs nobody in. `csrf_token` is the session's form token (every form carries it)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginAttempt(Base):
    """Sign-in attempts in the current window per email, per client address and per known
    device, shared by every process so that spreading guesses over several API processes
    gains nothing. `key` is a SHA-256 of what is counted (services/web_auth.py), so the
    table holds no email that anyone typed; `failures` counts attempts, and a success takes
    its own back."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookSubscription(Base):
    """A user's event webhook (contract section 12). `failing_since` is the first failed
    delivery since the last success: failing for the whole retry window disables it."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(Text, doc="Fernet-encrypted signing secret")
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """The outbox: one row per event, written in the transaction of the change that caused
    it, and only when some subscription wants it (then with its deliveries)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(64), doc="post id, or account:<id>")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, doc="the delivered `data`")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventDelivery(Base):
    """One event for one subscription: claimed in batches by any worker like a post.

    `id` grows with insertion, so for one subscription and subject (a post) a lower id is an
    earlier event: a pending delivery waits for every lower pending one (ordered per post).
    `retry_from` starts the retry window (the event's time, or a redelivery's)."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        Index(
            "ix_event_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_event_deliveries_order",
            "subscription_id",
            "subject",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_event_deliveries_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), doc="pending | delivered | failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_from: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnalyticsCheck(Base):
    """One metrics check of a published post: a checkpoint of its schedule (`checkpoint` 0, 1,
    ...) or a refresh (`REFRESH`), claimed in batches by any worker like a post.

    `due_at` is when it should next run (NULL once it is over); `deadline` ends its retries
    (the first quarter of the gap to the next checkpoint); `last_error` is the platform's words
    for the last failure, or why collection stopped."""

    __tablename__ = "analytics_checks"
    __table_args__ = (
        Index(
            "ix_analytics_checks_due",
            "due_at",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
    )

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    checkpoint: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    platform: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AnalyticsSnapshot(Base):
    """Metrics of a post as read at `fetched_at`: the contract's names and the platform's own
    fields as received. Only successful reads are kept (history)."""

    __tablename__ = "analytics_snapshots"
    __table_args__ = (Index("ix_analytics_snapshots_post", "post_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    checkpoint: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Comment(Base):
    """One comment on a published post, inbound or outbound (contract section 10).

    Unique per account and platform comment id, so a comment seen by a webhook and by a poll
    is one row. An outbound comment is also its own dispatch queue, like a post: `due_at`
    while it waits, a lease while a worker holds it, `sending_at` (the sending mark) written
    before the platform call and `platform_comment_id` after it."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("account_id", "platform_comment_id"),
        Index("ix_comments_user_created", "user_id", "created_at"),
        Index("ix_comments_post_created", "post_id", "created_at"),
        Index("ix_comments_created", "created_at"),
        Index(
            "ix_comments_due",
            "due_at",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    platform_comment_id: Mapped[str | None] = mapped_column(String(300))
    is_author: Mapped[bool] = mapped_column(Boolean)
    first_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[str | None] = mapped_column(String(300))
    author_username: Mapped[str | None] = mapped_column(String(300))
    author_name: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommentPoll(Base):
    """When a published post is next polled for comments (claimed in batches by the poller);
    the row goes once the post is past the polling schedule or gone."""

    __tablename__ = "comment_polls"
    __table_args__ = (Index("ix_comment_polls_next", "next_poll_at"),)

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
