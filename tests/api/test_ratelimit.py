"""The sliding-window arithmetic behind shared API limits, checked directly."""

from __future__ import annotations

import pytest

from masthead.api.ratelimit import Verdict, sliding_verdict


@pytest.mark.parametrize(
    ("current", "previous", "seconds_in", "expected"),
    [
        (30, 0, 10.0, Verdict(True)),
        (31, 0, 10.0, Verdict(False, 52)),  # this minute alone is over: wait into the next
        (10, 30, 30.0, Verdict(True)),  # 30 * 0.5 + 10 = 25
        (20, 30, 30.0, Verdict(False, 10)),  # 35 now; 30 once 20 more of the 30 have aged out
        (1, 30, 0.0, Verdict(False, 2)),
        (30, 30, 59.0, Verdict(False, 1)),
    ],
)
def test_sliding_window(current: int, previous: int, seconds_in: float, expected: Verdict) -> None:
    assert sliding_verdict(30, current, previous, seconds_in) == expected
