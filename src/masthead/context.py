"""The running process's parts, built once at start-up by the composition root (app.py) and
read by the doors (`api/`, `web/`) from `app.state.ctx`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from masthead.config import Settings
from masthead.dispatch.engine import Dispatcher
from masthead.dispatch.port import DispatchPort
from masthead.expiring import ExpiringCache
from masthead.media.library import MediaLibrary
from masthead.platforms.base import Publisher
from masthead.security import Secrets
from masthead.services.accounts import AccountDirectory
from masthead.services.api_keys import Limiter
from masthead.store.database import Database
from masthead.store.users import KeyOwner
from masthead.timeutil import utcnow

KEY_CACHE_SECONDS = 1.0


@dataclass
class AppContext:
    settings: Settings
    db: Database
    secrets: Secrets
    limiter: Limiter
    """The per-user request limits, shared by a REST route and its MCP tool."""
    port: DispatchPort
    accounts: AccountDirectory
    media: MediaLibrary
    publishers: dict[str, Publisher] = field(default_factory=dict)
    """Built in every process, worker or not: OAuth connects need them too."""
    dispatcher: Dispatcher | None = None
    known_keys: ExpiringCache[str, KeyOwner] = field(
        default_factory=lambda: ExpiringCache(maxsize=10_000, ttl=KEY_CACHE_SECONDS)
    )
    """Recently verified API keys by digest: a revoked key stops working within this TTL."""
    draining: bool = False
    started_at: datetime = field(default_factory=utcnow)
