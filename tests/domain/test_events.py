"""domain/events.py: event names, subscription filters, the shapes events carry, backoff."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from masthead.domain.errors import ValidationFailed
from masthead.domain.events import (
    EVENT_TYPES,
    next_attempt,
    outcome_event,
    parse_events,
    post_event_data,
    post_status,
    wants,
)

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@dataclass
class Post:
    id: str = "p1"
    state: str = "published"
    outcome: str | None = None
    error_message: str | None = None
    public_url: str | None = "https://x.com/a/status/1"
    scheduled_at: datetime | None = None


@dataclass
class Item:
    position: int
    state: str = "sent"
    remote_id: str | None = "1"
    public_url: str | None = "https://x.com/a/status/1"


def test_event_names_are_known_or_the_wildcard_and_duplicates_drop() -> None:
    assert parse_events(["post.published", "*", "post.published"]) == ["post.published", "*"]
    assert parse_events(list(EVENT_TYPES)) == list(EVENT_TYPES)


@pytest.mark.parametrize(
    ("value", "path"),
    [([], "events"), ("post.published", "events"), (["post.failed", "nope"], "events[1]")],
)
def test_bad_event_lists_name_the_field(value: object, path: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_events(value)
    assert raised.value.errors[0].path == path


def test_a_subscription_wants_its_events_or_all_with_the_wildcard() -> None:
    assert wants(["post.failed"], "post.failed")
    assert not wants(["post.failed"], "post.published")
    assert wants(["*"], "account.connected")


def test_final_states_map_to_their_event() -> None:
    assert outcome_event("published", False) == "post.published"
    assert outcome_event("failed", False) == "post.failed"
    assert outcome_event("failed", True) == "post.outcome_unknown"
    assert outcome_event("cancelled", False) == "post.cancelled"
    assert outcome_event("scheduled", False) is None


def test_post_data_is_the_status_body_plus_every_thread_item() -> None:
    post = Post()
    items = [Item(0), Item(1, public_url="https://x.com/a/status/2", remote_id="2")]
    data = post_event_data(post, items, thread_length=3)
    assert {k: v for k, v in data.items() if k != "items"} == post_status(post, items)
    assert data["items"] == [
        {"publicUrl": "https://x.com/a/status/1"},
        {"publicUrl": "https://x.com/a/status/2"},
        {"publicUrl": None},
    ]


def test_an_unknown_outcome_says_so_in_the_status_body() -> None:
    body = post_status(Post(state="failed", outcome="unknown", error_message="Outcome unknown"), [])
    assert body == {
        "postSubmissionId": "p1",
        "status": "failed",
        "errorMessage": "Outcome unknown",
        "outcome": "unknown",
    }


def test_backoff_doubles_with_jitter_and_stops_at_the_window() -> None:
    window = timedelta(hours=72)
    rand = random.Random(7)
    delays = []
    for attempts in range(1, 6):
        at = next_attempt(
            attempts=attempts, now=T0, window_start=T0, window=window, base=10, cap=3600, rand=rand
        )
        assert at is not None
        delays.append((at - T0).total_seconds())
    for attempts, delay in enumerate(delays, start=1):
        assert 10 * 2 ** (attempts - 1) / 2 <= delay <= 10 * 2 ** (attempts - 1)
    capped = next_attempt(
        attempts=30, now=T0, window_start=T0, window=window, base=10, cap=3600, rand=rand
    )
    assert capped is not None and (capped - T0).total_seconds() <= 3600
    near_end = T0 + window - timedelta(seconds=5)
    last = next_attempt(
        attempts=30, now=near_end, window_start=T0, window=window, base=10, cap=3600
    )
    assert last == T0 + window  # one last try at the window's end
    spent = next_attempt(
        attempts=31, now=T0 + window, window_start=T0, window=window, base=10, cap=3600
    )
    assert spent is None
