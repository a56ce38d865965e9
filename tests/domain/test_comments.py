"""domain/comments.py: the text check, the polling schedule, retention, the object's shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from masthead.domain.comments import (
    CommentFacts,
    CommentRules,
    CommentStatus,
    check_text,
    comment_view,
    first_comment_text,
    next_poll_at,
    poll_interval,
    retention_cutoff,
)
from masthead.domain.errors import ValidationFailed
from masthead.domain.rules import Count, TextLimit

T0 = datetime(2026, 9, 8, 14, 0, tzinfo=UTC)


def test_text_must_be_present_and_within_the_platform_limit() -> None:
    rules = CommentRules(TextLimit(300, Count.GRAPHEMES))
    assert check_text("👍🏽" * 300, rules, "bluesky") == "👍🏽" * 300
    for bad in (None, "", " \n"):
        with pytest.raises(ValidationFailed) as refused:
            check_text(bad, rules, "bluesky")
        assert refused.value.message == "text: is required"
    with pytest.raises(ValidationFailed) as refused:
        check_text(3, rules, "bluesky")
    assert refused.value.message == "text: must be a string"
    with pytest.raises(ValidationFailed) as refused:
        check_text("a" * 301, rules, "bluesky")
    assert refused.value.message == "text: must NOT have more than 300 characters for bluesky"
    assert refused.value.errors[0].message.startswith("is 301 characters long")


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), timedelta(minutes=10)),
        (timedelta(hours=23, minutes=59), timedelta(minutes=10)),
        (timedelta(hours=24), timedelta(hours=1)),
        (timedelta(days=6, hours=23), timedelta(hours=1)),
        (timedelta(days=7), timedelta(hours=6)),
        (timedelta(days=44, hours=23), timedelta(hours=6)),
        (timedelta(days=45), None),
    ],
)
def test_the_polling_schedule_slows_with_age_and_ends_at_day_45(
    age: timedelta, interval: timedelta | None
) -> None:
    assert poll_interval(age) == interval


def test_the_next_poll_follows_the_schedule() -> None:
    assert next_poll_at(T0, T0) == T0 + timedelta(minutes=10)
    assert next_poll_at(T0, T0 + timedelta(days=2)) == T0 + timedelta(days=2, hours=1)
    assert next_poll_at(T0, T0 + timedelta(days=45)) is None


def test_retention_counts_days_back_from_now() -> None:
    assert retention_cutoff(T0, 45) == T0 - timedelta(days=45)


def test_a_first_comment_is_published_only_when_there_is_text_and_not_on_stories() -> None:
    assert first_comment_text({"firstComment": "Link in bio"}) == "Link in bio"
    assert first_comment_text({"firstComment": "  "}) is None
    assert first_comment_text({}) is None
    assert first_comment_text({"firstComment": "x", "mediaType": "story"}) is None


def facts(status: CommentStatus, code: int | None, message: str | None) -> CommentFacts:
    return CommentFacts(
        "c1", 7, "instagram", "p1", "1791", None, None, None, None, None, True, "Hi",
        status.value, code, message, T0, T0,
    )  # fmt: skip


def test_error_fields_show_only_on_failed_comments() -> None:
    failed = comment_view(facts(CommentStatus.FAILED, 20301, "Refused"))
    assert (failed["errorCode"], failed["errorMessage"]) == (20301, "Refused")
    queued = comment_view(facts(CommentStatus.QUEUED, None, "rate limited; will retry"))
    assert (queued["errorCode"], queued["errorMessage"]) == (None, None)
    assert queued["accountId"] == "7" and queued["createdAt"] == "2026-09-08T14:00:00.000Z"
