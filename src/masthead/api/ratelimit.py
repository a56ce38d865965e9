"""Per-API-key request limits (contract section 7), answered with 429 and Retry-After.

Buckets live in this process: the embedded default is one process. Scale-out (#7) moves them
into PostgreSQL (pyrate-limiter has a PostgreSQL bucket) so that all API processes share them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from pyrate_limiter import Duration, InMemoryBucket, Rate, RateItem

# The contract's defaults (Blotato's documented limits), per key, per route, per minute.
BLOTATO_LIMITS: dict[str, int] = {
    "POST /v2/posts": 30,
    "POST /v2/media": 30,
    "POST /v2/media/uploads": 120,
    "GET /v2/posts": 60,
    "GET /v2/posts/{postSubmissionId}": 60,
    "GET /v2/social/pinterest/boards": 45,
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
        if not sep or not count.strip().isdigit() or unit.strip() not in ("min", "minute", ""):
            raise ValueError(
                f"MASTHEAD_API_RATE_LIMITS entry {part!r} must be 'METHOD /path=N/min'"
            )
        limits[" ".join(route.split())] = int(count)
    return {route: n for route, n in limits.items() if n > 0}


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


class ApiRateLimiter:
    def __init__(self, limits: dict[str, int]) -> None:
        self._rates = {route: Rate(n, Duration.MINUTE) for route, n in limits.items()}
        self._buckets: dict[tuple[int, str], InMemoryBucket] = {}

    def limited(self, route: str) -> bool:
        return route in self._rates

    def check(self, key_id: int, route: str) -> Verdict:
        rate = self._rates.get(route)
        if rate is None:
            return Verdict(True)
        bucket = self._buckets.get((key_id, route))
        if bucket is None:
            bucket = self._buckets[(key_id, route)] = InMemoryBucket([rate])
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
