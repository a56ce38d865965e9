"""The pure part every metrics reader shares: a platform's count as the contract's string,
absent when it is not a count (never zero), and batches in order."""

from __future__ import annotations

import pytest

from masthead.platforms.metrics import as_count, as_ratio, chunked, counts


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
