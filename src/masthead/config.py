"""Every setting in one place: `MASTHEAD_*` environment variables (see docs/settings.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from masthead.domain.inputs import ascii_int
from masthead.logs import LogFormat
from masthead.private_files import private_dir, private_file
from masthead.store.db import is_sqlite, normalise_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MASTHEAD_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    trusted_proxies: str = ""
    """Addresses or networks (comma-separated) of reverse proxies whose X-Forwarded-For and
    X-Forwarded-Proto are honoured; from anyone else those headers are ignored."""
    secret_key: str | None = None
    media_store: str = "local"
    # For MASTHEAD_MEDIA_STORE=s3://...; unset ones fall back to AWS_* (docs/media-storage.md).
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    api_rate_limits: str = "blotato"
    fetch_allow: Annotated[frozenset[tuple[str, int]], NoDecode] = frozenset()
    fetch_only_allowed: bool = False
    metrics_token: SecretStr | None = None
    """When set, /metrics answers only `Authorization: Bearer <token>` (docs/operations.md)."""
    log_level: str = "INFO"
    log_format: LogFormat = "auto"
    # MCP clients may sign in with OAuth (docs/mcp.md); keys in headers work either way.
    mcp_oauth: bool = True

    # Dispatch engine knobs; the defaults are explained in docs/design.md.
    dispatch_batch_size: int = Field(default=500, ge=1, le=5000)
    dispatch_concurrency: int = Field(default=1000, ge=1, le=10_000)
    dispatch_send_concurrency: int = Field(default=256, ge=1, le=256)
    """Irreversible requests on their way at once per platform and worker: what a crash can
    leave open. At most the webhook session's connection pool (256), so that a marked
    delivery never waits for a connection."""
    dispatch_lease_seconds: float = Field(default=120.0, gt=1)
    dispatch_max_attempts: int = Field(default=6, ge=1)
    rate_budgets: str = ""
    """Overrides of domain/budgets.py: `twitter.account=100/900s,webhook.app=50/1s`."""
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    # Event webhooks (docs/webhooks.md): how long a failing delivery is retried, its backoff,
    # and the delivery loop's own bounds, kept apart from publishing's.
    event_retry_hours: float = Field(default=72.0, gt=0)
    event_retry_base_seconds: float = Field(default=10.0, gt=0)
    event_retry_max_seconds: float = Field(default=3600.0, gt=0)
    event_delivery_concurrency: int = Field(default=64, ge=1, le=1000)
    event_delivery_batch_size: int = Field(default=200, ge=1, le=5000)
    event_lease_seconds: float = Field(default=60.0, gt=1)
    """A worker that dies mid-delivery: how long until another sends that event again."""
    event_retention_days: float = Field(default=30.0, gt=0)
    """Delivered and failed deliveries (the delivery log) and their events are deleted once
    this old; pending ones never are."""

    # Analytics (docs/analytics.md): when published posts' metrics are read, and the
    # collector's own bounds. Per platform: MASTHEAD_ANALYTICS_CHECKPOINTS_<PLATFORM>.
    analytics_checkpoints: str = ""
    analytics_platform_checkpoints: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: _platform_checkpoints(os.environ)
    )
    analytics_batch_size: int = Field(default=500, ge=1, le=10_000)
    analytics_concurrency: int = Field(default=16, ge=1, le=1000)
    analytics_lease_seconds: float = Field(default=120.0, gt=1)
    analytics_enabled: bool = True
    # Comments (docs/comments.md): polling, retention, and Meta's comment webhooks.
    comments_poll_seconds: float = Field(default=60.0, gt=0)
    """How often the comment poller looks for posts due a poll (each post's own schedule
    is the contract's: 10 min in its first day, hourly to day 7, 6-hourly to day 45)."""
    comments_poll_batch_size: int = Field(default=100, ge=1, le=5000)
    comments_retention_days: int = Field(default=45, ge=1)
    comments_concurrency: int = Field(default=8, ge=1, le=256)
    """Comment calls on their way at once per worker (sends and polls)."""
    meta_webhook_verify_token: str | None = None
    """`hub.verify_token` Meta sends when `/webhooks/meta` is subscribed; unset: the
    handshake is refused."""

    # Quotas per user (docs/settings.md); a request past one is a 4xx that says which.
    slots_per_request: int = Field(default=100, ge=1)
    slots_per_user: int = Field(default=1000, ge=1)
    media_quota_bytes: int = Field(default=10 * 1024**3, ge=0)
    """Stored media per user, each distinct file counted once; 0: no limit."""
    media_quota_files: int = Field(default=10_000, ge=0)
    """Distinct stored files per user; 0: no limit."""

    # Media pipeline (docs/settings.md).
    media_max_bytes: int = Field(default=1024**3, ge=1024)
    media_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    media_read_timeout_seconds: float = Field(default=30.0, gt=0)
    media_fetch_timeout_seconds: float = Field(default=900.0, gt=0)
    media_upload_expiry_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    # Platform origins (tests point them at local fakes) and the operator's OAuth apps:
    # MASTHEAD_<PLATFORM>_API_URL, _AUTHORIZE_URL, _CLIENT_ID, _CLIENT_SECRET.
    x_api_url: str = "https://api.x.com"
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_client_id: str | None = None
    x_client_secret: str | None = None
    # Meta (docs/platforms/facebook.md): one app and one Graph API origin serve both facebook
    # and instagram (their `settings_prefix`), so both read MASTHEAD_META_*.
    meta_api_url: str = "https://graph.facebook.com"
    meta_authorize_url: str = "https://www.facebook.com/v21.0/dialog/oauth"
    meta_client_id: str | None = None
    meta_client_secret: str | None = None
    meta_timeout_seconds: float = Field(default=60.0, gt=0)
    meta_poll_seconds: float = Field(default=2.0, gt=0)
    """First wait between two looks at an Instagram container or a Facebook video; doubles."""
    meta_processing_limit_seconds: float = Field(default=600.0, gt=0)
    """How long one attempt waits for Meta to process media before retrying later."""
    meta_throttle_seconds: float = Field(default=300.0, gt=0)
    """The wait after Meta says a call budget is spent (codes 4, 17, 32, 341, 613) or the
    Instagram publishing limit is reached: Meta does not say when it returns."""
    # TikTok (docs/platforms/tiktok.md): the API and the OAuth app's client key and secret.
    tiktok_api_url: str = "https://open.tiktokapis.com"
    tiktok_authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_client_id: str | None = None
    tiktok_client_secret: str | None = None
    tiktok_pull_prefixes: Annotated[tuple[str, ...], NoDecode] = ()
    """URL prefixes the operator verified with TikTok (comma-separated): videos hosted under
    one are sent by PULL_FROM_URL instead of being uploaded in chunks."""
    tiktok_status_timeout_seconds: float = Field(default=900.0, gt=0)
    # YouTube (docs/platforms/youtube.md): the Data API and a Google OAuth app.
    youtube_api_url: str = "https://www.googleapis.com"
    youtube_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    youtube_token_url: str = "https://oauth2.googleapis.com/token"
    youtube_client_id: str | None = None
    youtube_client_secret: str | None = None
    oauth_state_seconds: float = Field(default=600.0, gt=0)
    """How long a user has between starting an OAuth connect and coming back from it."""
    # Bluesky (docs/platforms/bluesky.md). Without a service URL, each account's PDS is found
    # from its handle's DID document; set it to talk to one PDS (bsky.social, your own, a test).
    bluesky_service_url: str | None = None
    bluesky_plc_url: str = "https://plc.directory"
    bluesky_appview_url: str = "https://public.api.bsky.app"
    """Where posts' public counts are read (analytics): Bluesky's public AppView."""
    bluesky_timeout_seconds: float = Field(default=30.0, gt=0)
    # Threads (docs/platforms/threads.md): the operator's Threads app (its own app id and
    # secret, not the Meta app's), graph.threads.net, and how containers are waited for.
    threads_api_url: str = "https://graph.threads.net"
    threads_authorize_url: str = "https://threads.net/oauth/authorize"
    threads_client_id: str | None = None
    threads_client_secret: str | None = None
    threads_timeout_seconds: float = Field(default=60.0, gt=0)
    threads_poll_seconds: float = Field(default=2.0, gt=0)
    """First wait between two looks at a container's status; doubles up to 30 s."""
    threads_processing_limit_seconds: float = Field(default=300.0, gt=0)
    """How long one attempt waits for Threads to process a container before retrying later."""
    # LinkedIn (docs/platforms/linkedin.md). The API version is sent as LinkedIn-Version on every
    # call; LinkedIn retires each version about a year after release (answers 426).
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_authorize_url: str = "https://www.linkedin.com/oauth/v2/authorization"
    linkedin_token_url: str = "https://www.linkedin.com/oauth/v2/accessToken"
    linkedin_client_id: str | None = None
    linkedin_client_secret: str | None = None
    linkedin_version: str = Field(default="202511", pattern=r"^\d{6}$")
    linkedin_timeout_seconds: float = Field(default=60.0, gt=0)
    linkedin_member_post_analytics: bool = False
    """The operator's LinkedIn app has `r_member_postAnalytics` (a product LinkedIn grants on
    request): it is then asked for, and members' own posts are measured too."""
    # Pinterest (docs/platforms/pinterest.md).
    pinterest_api_url: str = "https://api.pinterest.com"
    pinterest_authorize_url: str = "https://www.pinterest.com/oauth/"
    pinterest_client_id: str | None = None
    pinterest_client_secret: str | None = None
    pinterest_timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("fetch_allow", mode="before")
    @classmethod
    def _parse_allow(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: set[tuple[str, int]] = set()
        for item in filter(None, (part.strip() for part in value.split(","))):
            host, sep, port = item.rpartition(":")
            number = ascii_int(port)
            if not sep or number is None:
                raise ValueError(f"MASTHEAD_FETCH_ALLOW entry {item!r} must be host:port")
            pairs.add((host.strip("[]"), number))
        return frozenset(pairs)

    @field_validator("tiktok_pull_prefixes", mode="before")
    @classmethod
    def _parse_prefixes(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return tuple(part.strip() for part in value.split(",") if part.strip())

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'masthead.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.sqlalchemy_url)

    @cached_property
    def secret_keys(self) -> list[str]:
        """Newest first. Generated into the data dir (0600) on first use when not set."""
        if self.secret_key:
            return [k.strip() for k in self.secret_key.split(",") if k.strip()]
        path = self.data_dir / "secret_key"
        private_dir(self.data_dir)
        private_file(path)
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process won the race; use its key
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return [path.read_text().strip()]

    def oauth_app(self, prefix: str) -> OAuthApp | None:
        """The operator's OAuth app whose settings are MASTHEAD_<PREFIX>_CLIENT_ID and friends
        (a platform's `PlatformSpec.prefix`); None when no client id is configured."""
        client_id = getattr(self, f"{prefix}_client_id", None)
        if not client_id:
            return None
        return OAuthApp(
            client_id=client_id,
            client_secret=getattr(self, f"{prefix}_client_secret", None) or None,
            authorize_url=getattr(self, f"{prefix}_authorize_url"),
            api_url=getattr(self, f"{prefix}_api_url").rstrip("/"),
        )


CHECKPOINTS_PREFIX = "MASTHEAD_ANALYTICS_CHECKPOINTS_"


def _platform_checkpoints(environ: Mapping[str, str]) -> dict[str, str]:
    """MASTHEAD_ANALYTICS_CHECKPOINTS_<PLATFORM> by platform name (lower case)."""
    return {
        name.removeprefix(CHECKPOINTS_PREFIX).lower(): value
        for name, value in environ.items()
        if name.startswith(CHECKPOINTS_PREFIX) and value.strip()
    }


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """One platform's OAuth client as the operator registered it."""

    client_id: str
    client_secret: str | None
    authorize_url: str
    api_url: str


def load_settings() -> Settings:
    return Settings()
