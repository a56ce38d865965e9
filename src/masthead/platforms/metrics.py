"""Reading a platform's numbers into the contract's metric names (no I/O of its own).

Counts are strings of decimal digits; a field the platform did not send, or sent as something
that is not a count, stays absent (absent means "not reported", never zero)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from masthead.platforms.base import (
    AccountDisconnected,
    Metric,
    MetricsResult,
    MetricsUnavailable,
    Permanent,
    PublishedPost,
)

T = TypeVar("T")


def as_count(value: Any) -> str | None:
    """A platform count (an int, or a digit string as Google sends uint64) as the contract's
    string; None for anything else (null, negative, a float, a word)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return str(int(value))
    return None


def as_ratio(value: Any) -> float | None:
    """A platform ratio (a JSON number) as the contract's number; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def counts(raw: Mapping[str, Any], names: Iterable[tuple[str, str]]) -> dict[str, Metric]:
    """The contract's counts from `raw`, for each (platform field, contract key) of `names`."""
    found: dict[str, Metric] = {}
    for field, key in names:
        count = as_count(raw.get(field))
        if count is not None:
            found[key] = count
    return found


def chunked(items: Iterable[T], size: int) -> list[list[T]]:
    """`items` in lists of at most `size`, in order (a reader handed more posts than its
    batch still asks in requests the platform accepts)."""
    batch: list[T] = []
    out: list[list[T]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


async def each_post(
    posts: Sequence[PublishedPost], read: Callable[[PublishedPost], Awaitable[MetricsResult]]
) -> dict[str, MetricsResult]:
    """`read` for each post in turn, for a platform that takes one post per request. A refusal
    of one post (a `Permanent`: a 400, 403 or 404 about it, a metric its media type lacks) is
    that post's `MetricsUnavailable`, in the platform's words, so the others still get their
    numbers; a revoked token or a rate limit (`AccountDisconnected`, `Retryable`) concerns the
    whole account and still stops the batch."""
    results: dict[str, MetricsResult] = {}
    for post in posts:
        try:
            results[post.post_id] = await read(post)
        except AccountDisconnected:
            raise
        except Permanent as refused:
            results[post.post_id] = MetricsUnavailable(refused.message)
    return results
