"""Analytics' pure rules (contract section 9): the collection checkpoints and their jitter,
the retry window, the metric names, the `sortBy` keys with their fallbacks, and totals. No I/O."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from masthead.domain.inputs import ascii_int

Checkpoints = tuple[timedelta, ...]

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
DEFAULT_CHECKPOINTS: Checkpoints = tuple(
    timedelta(hours=h) for h in (6, 24, 7 * 24, 14 * 24, 30 * 24)
)
"""The contract's schedule: 6 h, 24 h, 7 d, 14 d, 30 d after publishing."""
SETTING = "MASTHEAD_ANALYTICS_CHECKPOINTS"
JITTER_SHARE = 0.1
JITTER_MAX = timedelta(minutes=30)
RETRY_SHARE = 0.25
"""A failed check is retried within this share of the gap to the next checkpoint."""
RETRY_FIRST = timedelta(seconds=30)
REFRESH_INTERVAL = timedelta(minutes=15)
"""At most one `refresh` per post in this time (contract: POST .../analytics/refresh)."""

RECONNECT = "Account needs to be reconnected"

COUNT_METRICS = (
    "viewsCount",
    "playsCount",
    "impressionsCount",
    "reachCount",
    "likesCount",
    "commentsCount",
    "repliesCount",
    "sharesCount",
    "savesCount",
    "clicksCount",
    "profileVisitsCount",
    "followsCount",
    "interactionsSum",
    "watchTimeMsAvg",
    "viewTimeMsSum",
    "twitterRetweetsCount",
    "twitterQuotesCount",
    "threadsRepostsCount",
    "threadsQuotesCount",
    "blueskyRepostsCount",
    "blueskyQuotesCount",
    "outboundClicksCount",
)
"""Metrics whose values are strings of decimal digits (counts and milliseconds)."""
SUMMED_METRICS = tuple(name for name in COUNT_METRICS if name != "watchTimeMsAvg")
"""What totals add up: every count but an average."""
RATIO_METRICS = ("pinterestSaveRate", "engagementRate")
BREAKDOWN_METRICS = ("reactionsByType",)

SORT_KEYS: dict[str, tuple[str, ...]] = {
    "views_count": ("viewsCount", "playsCount", "impressionsCount"),
    "likes_count": ("likesCount",),
    "comments_count": ("commentsCount", "repliesCount"),
    "reach_count": ("reachCount",),
    "shares_count": ("sharesCount",),
    "saves_count": ("savesCount",),
    "impressions_count": ("impressionsCount",),
    "clicks_count": ("clicksCount",),
}
"""`sortBy` values and the metrics each reads, the first present one winning."""
DEFAULT_SORT = "views_count"


class CheckpointSpecError(ValueError):
    pass


def parse_duration(text: str) -> timedelta | None:
    """`90s`, `30m`, `6h`, `7d`; None for anything else (no unit, zero, not digits)."""
    text = text.strip()
    seconds = UNITS.get(text[-1:])
    number = ascii_int(text[:-1])
    if seconds is None or not number:
        return None
    return timedelta(seconds=number * seconds)


def parse_checkpoints(spec: str, setting: str = SETTING) -> Checkpoints:
    """A comma list of durations after publishing, in order, each once."""
    found: set[timedelta] = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        duration = parse_duration(part)
        if duration is None:
            raise CheckpointSpecError(
                f"{setting} entry {part!r}: use a positive number with s, m, h or d (e.g. 24h)"
            )
        found.add(duration)
    if not found:
        raise CheckpointSpecError(f"{setting}: name at least one duration, e.g. 6h,24h,7d")
    return tuple(sorted(found))


def checkpoints_for(
    platform: str,
    platform_default: Checkpoints | None,
    general: str,
    per_platform: Mapping[str, str],
) -> Checkpoints:
    """A platform's schedule: its own setting, else the general setting (for every platform,
    X included), else the platform's default, else the contract's."""
    own = per_platform.get(platform)
    if own:
        return parse_checkpoints(own, f"{SETTING}_{platform.upper()}")
    if general.strip():
        return parse_checkpoints(general)
    return platform_default or DEFAULT_CHECKPOINTS


def gap_before(checkpoints: Sequence[timedelta], index: int) -> timedelta:
    """Time between checkpoint `index` and the one before it (publishing for the first)."""
    return checkpoints[index] - (checkpoints[index - 1] if index else timedelta(0))


def jitter(checkpoints: Sequence[timedelta], index: int, draw: float) -> timedelta:
    """`draw` in [0, 1) of the allowed jitter: 10 % of the gap, at most 30 minutes."""
    return min(gap_before(checkpoints, index) * JITTER_SHARE, JITTER_MAX) * draw


def due_times(
    published_at: datetime,
    checkpoints: Sequence[timedelta],
    rng: random.Random | None = None,
) -> list[datetime]:
    """When each checkpoint's check falls due, jittered."""
    draw = (rng or random).random
    return [
        published_at + checkpoint + jitter(checkpoints, index, draw())
        for index, checkpoint in enumerate(checkpoints)
    ]


def retry_deadline(
    checkpoints: Sequence[timedelta], index: int, published_at: datetime
) -> datetime:
    """Until when a failed check is retried: the first quarter of the gap to the next
    checkpoint (of the gap before it, for the last one)."""
    following = index + 1 if index + 1 < len(checkpoints) else index
    return published_at + checkpoints[index] + gap_before(checkpoints, following) * RETRY_SHARE


def retry_at(
    now: datetime, attempt: int, deadline: datetime, retry_after: float | None = None
) -> datetime | None:
    """The next try after failure number `attempt` (1 for the first), doubling from 30 s or
    as the platform said; None when it would fall past the deadline."""
    wait = RETRY_FIRST * 2 ** max(attempt - 1, 0)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    at = now + wait
    return at if at <= deadline else None


def post_gone(platform_label: str) -> str:
    return f"Post no longer exists on {platform_label}"


def unavailable(platform_label: str) -> str:
    return f"Analytics are not available for {platform_label}"


def count(value: Any) -> int:
    """A stored count metric as a number; 0 when absent or not a count."""
    if isinstance(value, str):
        return ascii_int(value) or 0
    return 0


def sort_value(metrics: Mapping[str, Any] | None, sort_by: str) -> int:
    """The value a post ranks by: the first of the key's metrics present, else 0."""
    if not metrics:
        return 0
    for name in SORT_KEYS[sort_by]:
        if name in metrics:
            return count(metrics[name])
    return 0


def totals(snapshots: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each count metric summed over the given metrics (ratios and breakdowns are not
    summed); only metrics some snapshot reported appear."""
    sums: dict[str, int] = {}
    for metrics in snapshots:
        for name in SUMMED_METRICS:
            if name in metrics:
                sums[name] = sums.get(name, 0) + count(metrics[name])
    return {name: str(sums[name]) for name in SUMMED_METRICS if name in sums}
