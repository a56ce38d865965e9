"""The part every metrics reader shares: a platform's count as the contract's string, absent
when it is not a count (never zero), batches in order, and one post's refusal kept to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from masthead.platforms.base import (
    AccountDisconnected,
    MetricsResult,
    MetricsSnapshot,
    MetricsUnavailable,
    Permanent,
    PublishedPost,
    Retryable,
)
from masthead.platforms.metrics import as_count, as_ratio, chunked, counts, each_post
from tests.support.metrics import published


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (18400, "18400"),
        ("18400", "18400"),  # Google sends uint64 as strings
        ("007", "7"),
        (None, None),
        (True, None),  # a bool is an int to Python, never a count
        (-1, None),
        (2.5, None),
        ("", None),
        ("12a", None),
        ("²", None),  # a digit to str.isdigit, not a decimal count
        ("-3", None),
    ],
)
def test_as_count(value: object, expected: str | None) -> None:
    assert as_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.18, 0.18), (0, 0.0), (1, 1.0), ("0.5", None), (None, None), (False, None), (-0.1, None)],
)
def test_as_ratio(value: object, expected: float | None) -> None:
    assert as_ratio(value) == expected


def test_counts_keeps_only_what_the_platform_reported() -> None:
    raw = {"viewCount": "12", "likeCount": None, "commentCount": 0, "extra": 5}
    names = (("viewCount", "viewsCount"), ("likeCount", "likesCount"), ("commentCount", "c"))
    assert counts(raw, names) == {"viewsCount": "12", "c": "0"}


def test_chunked_keeps_order_and_bounds() -> None:
    assert chunked(range(5), 2) == [[0, 1], [2, 3], [4]]
    assert chunked([], 3) == []


def refusing(error: Exception, of: str) -> Callable[[PublishedPost], Awaitable[MetricsResult]]:
    """A read that raises `error` for the post `of` and answers the others."""

    async def read(post: PublishedPost) -> MetricsResult:
        if post.remote_id == of:
            raise error
        return MetricsSnapshot({"likesCount": "1"}, {})

    return read


async def test_a_refusal_of_one_post_is_that_posts_answer() -> None:
    posts = [published("a"), published("b"), published("c")]
    result = await each_post(posts, refusing(Permanent("Not authorized to access Pin."), "b"))
    assert result["p-b"] == MetricsUnavailable("Not authorized to access Pin.")
    assert isinstance(result["p-a"], MetricsSnapshot)
    assert isinstance(result["p-c"], MetricsSnapshot)


@pytest.mark.parametrize("error", [AccountDisconnected("revoked"), Retryable("slow down", 60)])
async def test_a_revoked_token_or_a_rate_limit_stops_the_batch(error: Exception) -> None:
    posts = [published("a"), published("b"), published("c")]
    with pytest.raises(type(error)):
        await each_post(posts, refusing(error, "b"))
