"""domain/analytics.py: checkpoints, jitter, retry window, sort keys with fallbacks, totals."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from masthead.config import Settings, _platform_checkpoints
from masthead.domain.analytics import (
    DEFAULT_CHECKPOINTS,
    CheckpointSpecError,
    checkpoints_for,
    due_times,
    jitter,
    parse_checkpoints,
    parse_duration,
    retry_at,
    retry_deadline,
    sort_value,
    totals,
)
from masthead.platforms.registry import analytics_checkpoints

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
X_DEFAULT = (24 * H, 7 * D, 30 * D)


def test_durations_take_each_unit_and_refuse_the_rest() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration(" 30m ") == timedelta(minutes=30)
    assert parse_duration("6h") == 6 * H
    assert parse_duration("7d") == 7 * D
    for bad in ("", "6", "h", "0h", "-1h", "1.5h", "6w", "６h"):
        assert parse_duration(bad) is None


def test_checkpoints_are_sorted_unique_and_errors_name_the_setting() -> None:
    assert parse_checkpoints("7d, 6h,24h,6h") == (6 * H, 24 * H, 7 * D)
    with pytest.raises(CheckpointSpecError, match=r"MASTHEAD_ANALYTICS_CHECKPOINTS entry '5x'"):
        parse_checkpoints("6h,5x")
    with pytest.raises(CheckpointSpecError, match="at least one"):
        parse_checkpoints(" , ")
    with pytest.raises(CheckpointSpecError, match="_TWITTER entry 'x'"):
        checkpoints_for("twitter", X_DEFAULT, "", {"twitter": "x"})


def test_platform_setting_beats_general_which_beats_the_platform_default() -> None:
    assert checkpoints_for("bluesky", None, "", {}) == DEFAULT_CHECKPOINTS
    assert checkpoints_for("twitter", X_DEFAULT, "", {}) == X_DEFAULT
    assert checkpoints_for("twitter", X_DEFAULT, "1h", {}) == (H,)
    assert checkpoints_for("twitter", X_DEFAULT, "1h", {"twitter": "2h"}) == (2 * H,)
    assert checkpoints_for("bluesky", None, "1h", {"twitter": "2h"}) == (H,)


def test_settings_read_per_platform_variables_and_x_keeps_its_default() -> None:
    env = {"MASTHEAD_ANALYTICS_CHECKPOINTS_BLUESKY": "1m", "MASTHEAD_OTHER": "x"}
    assert _platform_checkpoints(env) == {"bluesky": "1m"}
    schedules = analytics_checkpoints(Settings(analytics_platform_checkpoints={"bluesky": "1m"}))
    assert schedules["bluesky"] == (timedelta(minutes=1),)
    assert schedules["twitter"] == X_DEFAULT
    assert schedules["instagram"] == DEFAULT_CHECKPOINTS
    assert "webhook" not in schedules
    with pytest.raises(CheckpointSpecError):
        analytics_checkpoints(Settings(analytics_checkpoints="soon"))


def test_jitter_is_a_tenth_of_the_gap_at_most_thirty_minutes() -> None:
    checkpoints = (H, 6 * H, 7 * D)
    assert jitter(checkpoints, 0, 0.0) == timedelta(0)
    assert jitter(checkpoints, 0, 1.0) == timedelta(minutes=6)
    assert jitter(checkpoints, 1, 1.0) == timedelta(minutes=30)
    assert jitter(checkpoints, 2, 0.5) == timedelta(minutes=15)
    dues = due_times(T0, checkpoints, random.Random(7))
    for due, checkpoint, bound in zip(dues, checkpoints, (6, 30, 30), strict=True):
        assert T0 + checkpoint <= due <= T0 + checkpoint + timedelta(minutes=bound)


def test_retries_stay_within_the_first_quarter_of_the_gap_to_the_next() -> None:
    checkpoints = (6 * H, 24 * H)
    deadline = retry_deadline(checkpoints, 0, T0)
    assert deadline == T0 + 6 * H + timedelta(hours=4.5)
    assert retry_deadline(checkpoints, 1, T0) == T0 + 24 * H + timedelta(hours=4.5)
    due = T0 + 6 * H
    assert retry_at(due, 1, deadline) == due + timedelta(seconds=30)
    assert retry_at(due, 3, deadline) == due + timedelta(minutes=2)
    assert retry_at(due, 1, deadline, retry_after=900) == due + timedelta(minutes=15)
    assert retry_at(due, 12, deadline) is None
    assert retry_at(deadline, 1, deadline) is None


def test_sort_keys_fall_back_as_the_contract_says() -> None:
    assert sort_value({"viewsCount": "5", "impressionsCount": "9"}, "views_count") == 5
    assert sort_value({"playsCount": "4", "impressionsCount": "9"}, "views_count") == 4
    assert sort_value({"impressionsCount": "9"}, "views_count") == 9
    assert sort_value({"repliesCount": "3"}, "comments_count") == 3
    assert sort_value({"commentsCount": "0", "repliesCount": "3"}, "comments_count") == 0
    assert sort_value({"likesCount": "2"}, "reach_count") == 0
    assert sort_value(None, "likes_count") == 0


def test_totals_sum_counts_only() -> None:
    summed = totals(
        [
            {"likesCount": "2", "pinterestSaveRate": 0.5, "reactionsByType": {"like": "2"}},
            {"likesCount": "40", "viewsCount": "0", "watchTimeMsAvg": "100"},
            {},
        ]
    )
    assert summed == {"viewsCount": "0", "likesCount": "42"}
