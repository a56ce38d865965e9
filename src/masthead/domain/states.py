"""The post state machine: scheduled → in-progress → published | failed (and cancelled)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


EDITABLE_STATES = (State.SCHEDULED, State.IN_PROGRESS)
"""Editable only until the first irreversible call; the store checks `started_at` too."""

FINAL_STATES = frozenset({State.PUBLISHED, State.FAILED, State.CANCELLED})

OUTCOME_UNKNOWN = "unknown"
OUTCOME_UNKNOWN_PREFIX = "Outcome unknown: "


def public_status(state: str, scheduled_at: object) -> str:
    """The compat `status`: a post waiting with no time of its own is already `in-progress`."""
    if state == State.SCHEDULED and scheduled_at is None:
        return State.IN_PROGRESS
    return state


LIST_STATES: dict[str, tuple[State, ...]] = {
    State.SCHEDULED: (State.SCHEDULED, State.IN_PROGRESS),
    State.PUBLISHED: (State.PUBLISHED,),
    State.FAILED: (State.FAILED,),
}
"""`GET /v2/posts` knows three state types: a post not yet published or failed is scheduled
there, whether or not its sending has started, so each filter returns only what it names."""


def list_state(state: str) -> str:
    """The `state.type` of a `GET /v2/posts` item (a key of LIST_STATES)."""
    return state if state in (State.PUBLISHED, State.FAILED) else State.SCHEDULED
