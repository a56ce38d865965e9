"""Per-user request limits (contract section 7), answered with 429 and Retry-After. They count
every API key of a user together: a second key is not a second allowance.

The embedded default is one process, so its buckets live in memory (pyrate-limiter). On
PostgreSQL any number of API processes serve the same keys, so the counts live in the database
(`api_rate_counters`, a sliding window over two one-minute counters): a client spreading its
requests over ten processes still gets its 30 a minute, not 300.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from pyrate_limiter import Duration, InMemoryBucket, Rate, RateItem
from sqlalchemy.engine import Connection

from masthead.domain.inputs import ascii_int
from masthead.store import ratelimits
from masthead.store.database import Database

# The contract's defaults (Blotato's documented limits), per user, per route, per minute.
BLOTATO_LIMITS: dict[str, int] = {
    "POST /v2/posts": 30,
    "POST /v2/media": 30,
    "POST /v2/media/uploads": 120,
    "GET /v2/posts": 60,
    "GET /v2/posts/{postSubmissionId}": 60,
    "GET /v2/social/pinterest/boards": 45,
    "GET /v2/posts/{id}/analytics": 60,
    # Ours (Blotato states none), contract section 7.
    "GET /v2/analytics": 60,
    "GET /v2/analytics/platforms": 60,
    "GET /v2/analytics/summary": 60,
    "GET /v2/published-posts": 60,
    "POST /v2/posts/{id}/analytics/refresh": 10,
}


def parse_limits(spec: str) -> dict[str, int]:
    """`blotato` (defaults), `off`, or `route=N/min` pairs separated by commas, where route is
    `METHOD /path` as in BLOTATO_LIMITS; pairs override the defaults."""
    spec = spec.strip()
    if spec.lower() == "off":
        return {}
    limits = dict(BLOTATO_LIMITS)
    if spec.lower() in ("", "blotato"):
        return limits
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if part.lower() == "blotato":
            continue
        route, sep, rate = part.rpartition("=")
        count, _, unit = rate.partition("/")
        number = ascii_int(count.strip())
        if not sep or number is None or unit.strip() not in ("min", "minute", ""):
            raise ValueError(
                f"MASTHEAD_API_RATE_LIMITS entry {part!r} must be 'METHOD /path=N/min'"
            )
        limits[" ".join(route.split())] = number
    return {route: n for route, n in limits.items() if n > 0}


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def sliding_verdict(limit: int, current: int, previous: int, seconds_in: float) -> Verdict:
    """The sliding-window estimate: this minute's hits (this one included) plus the previous
    minute's, weighted by how much of it still lies within the last 60 seconds."""
    elapsed = min(max(seconds_in / 60.0, 0.0), 1.0)
    if previous * (1.0 - elapsed) + current <= limit:
        return Verdict(True)
    if current > limit:  # only the next minute can help: wait until its share is small enough
        wait = (60.0 - seconds_in) + 60.0 * (1.0 - limit / current)
    else:  # the previous minute's share shrinks as this minute goes on
        wait = 60.0 * (1.0 - elapsed - (limit - current) / previous)
    return Verdict(False, max(1, math.ceil(round(wait, 6))))


class SharedApiRateLimiter:
    """Counts in PostgreSQL: one upsert and one read per limited request."""

    def __init__(self, db: Database, limits: dict[str, int]) -> None:
        self._db = db
        self._limits = limits

    def limited(self, route: str) -> bool:
        return route in self._limits

    async def check(self, user_id: str, route: str) -> Verdict:
        limit = self._limits.get(route)
        if limit is None:
            return Verdict(True)
        now = time.time()
        minute = int(now // 60)

        def count(conn: Connection) -> tuple[int, int]:
            return ratelimits.hit(conn, user_id, route, minute)

        current, previous = await self._db.write(count, isolated=False)
        return sliding_verdict(limit, current, previous, now - minute * 60)


class ApiRateLimiter:
    def __init__(self, limits: dict[str, int]) -> None:
        self._rates = {route: Rate(n, Duration.MINUTE) for route, n in limits.items()}
        self._buckets: dict[tuple[str, str], InMemoryBucket] = {}

    def limited(self, route: str) -> bool:
        return route in self._rates

    async def check(self, user_id: str, route: str) -> Verdict:
        rate = self._rates.get(route)
        if rate is None:
            return Verdict(True)
        bucket = self._buckets.get((user_id, route))
        if bucket is None:
            bucket = self._buckets[(user_id, route)] = InMemoryBucket([rate])
        now_ms = int(time.time() * 1000)
        if len(bucket.items) > 2 * rate.limit:
            bucket.leak(now_ms)
        decision = bucket.put_decision(RateItem(route, now_ms))
        if getattr(decision, "allowed", False):
            return Verdict(True)
        wait_ms = getattr(decision, "retry_after_ms", None)
        if wait_ms is None:
            wait_ms = int(Duration.MINUTE)
        return Verdict(False, max(1, math.ceil(wait_ms / 1000)))


def rate_limiter(db: Database, limits: dict[str, int]) -> ApiRateLimiter | SharedApiRateLimiter:
    return ApiRateLimiter(limits) if db.is_sqlite else SharedApiRateLimiter(db, limits)
