"""What the routes need from the running process, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from masthead.api.ratelimit import ApiRateLimiter
from masthead.config import Settings
from masthead.dispatch.engine import Dispatcher
from masthead.dispatch.port import DispatchPort
from masthead.security import Secrets
from masthead.store.database import Database
from masthead.timeutil import utcnow


@dataclass
class AppContext:
    settings: Settings
    db: Database
    secrets: Secrets
    limiter: ApiRateLimiter
    port: DispatchPort
    available_platforms: frozenset[str]
    dispatcher: Dispatcher | None = None
    draining: bool = False
    started_at: datetime = field(default_factory=utcnow)
