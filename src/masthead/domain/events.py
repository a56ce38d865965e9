"""Event webhooks' pure rules: the event names, a subscription's filter, the post and account
shapes an event carries, and when a failed delivery is tried again. No I/O."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from masthead.domain.errors import ValidationFailed
from masthead.domain.states import OUTCOME_UNKNOWN, State, public_status
from masthead.timeutil import iso

POST_SCHEDULED = "post.scheduled"
POST_PUBLISHED = "post.published"
POST_FAILED = "post.failed"
POST_OUTCOME_UNKNOWN = "post.outcome_unknown"
POST_CANCELLED = "post.cancelled"
ACCOUNT_CONNECTED = "account.connected"
ACCOUNT_DISCONNECTED = "account.disconnected"
ANALYTICS_UPDATED = "analytics.updated"
"""A published post's metrics were read (a snapshot was stored)."""
COMMENT_RECEIVED = "comment.received"
COMMENT_POSTED = "comment.posted"
COMMENT_FAILED = "comment.failed"
WEBHOOK_DISABLED = "webhook.disabled"
"""Ours, beyond the contract's list: a subscription was switched off after failing for the
whole retry window; sent to the user's other subscriptions that want it."""

EVENT_TYPES = (
    POST_SCHEDULED,
    POST_PUBLISHED,
    POST_FAILED,
    POST_OUTCOME_UNKNOWN,
    POST_CANCELLED,
    ACCOUNT_CONNECTED,
    ACCOUNT_DISCONNECTED,
    ANALYTICS_UPDATED,
    COMMENT_RECEIVED,
    COMMENT_POSTED,
    COMMENT_FAILED,
    WEBHOOK_DISABLED,
)
WILDCARD = "*"
MAX_EVENTS = len(EVENT_TYPES) + 1
EXCERPT_BYTES = 1024
"""How much of a receiver's answer a delivery keeps (the contract's 1 KB)."""


def parse_events(value: Any, path: str = "events") -> list[str]:
    """A subscription's `events`: a non-empty list of known names, or `["*"]`."""
    if not isinstance(value, list) or not value:
        raise ValidationFailed.one(path, 'must be a non-empty list of event names or ["*"]')
    if len(value) > MAX_EVENTS:
        raise ValidationFailed.one(path, f"must name at most {MAX_EVENTS} events")
    names: list[str] = []
    for index, name in enumerate(value):
        if name != WILDCARD and name not in EVENT_TYPES:
            raise ValidationFailed.one(
                f"{path}[{index}]",
                f"unknown event {name!r}; known: {', '.join(EVENT_TYPES)} or *",
            )
        if name not in names:
            names.append(name)
    return names


def wants(events: Iterable[str], event_type: str) -> bool:
    return any(name in (WILDCARD, event_type) for name in events)


def outcome_event(state: str, outcome_unknown: bool) -> str | None:
    """The event a post's final state causes, if any."""
    if state == State.PUBLISHED:
        return POST_PUBLISHED
    if state == State.FAILED:
        return POST_OUTCOME_UNKNOWN if outcome_unknown else POST_FAILED
    if state == State.CANCELLED:
        return POST_CANCELLED
    return None


class PostFacts(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def public_url(self) -> str | None: ...
    @property
    def scheduled_at(self) -> datetime | None: ...


class ItemFacts(Protocol):
    @property
    def position(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def remote_id(self) -> str | None: ...
    @property
    def public_url(self) -> str | None: ...


def post_status(post: PostFacts, items: Sequence[ItemFacts]) -> dict[str, Any]:
    """The body of `GET /v2/posts/{id}` (contract section 2)."""
    status = public_status(post.state, post.scheduled_at)
    body: dict[str, Any] = {"postSubmissionId": post.id, "status": status}
    if post.scheduled_at is not None:
        body["scheduledTime"] = iso(post.scheduled_at)
    if status == State.PUBLISHED:
        body["publicUrl"] = post.public_url
    if status == State.FAILED:
        body["errorMessage"] = post.error_message or "Publishing failed"
        if post.outcome == OUTCOME_UNKNOWN:
            body["outcome"] = OUTCOME_UNKNOWN
    if items:
        body["posts"] = [
            {"publicUrl": item.public_url, "platformPostId": item.remote_id}
            for item in items
            if item.state == "sent"
        ]
    return body


def post_event_data(
    post: PostFacts, items: Sequence[ItemFacts], thread_length: int
) -> dict[str, Any]:
    """A `post.*` event's `data`: the status body plus `items`, one per thread item with its
    public URL (None for an item not published)."""
    sent = {item.position: item.public_url for item in items if item.state == "sent"}
    return post_status(post, items) | {
        "items": [{"publicUrl": sent.get(i)} for i in range(thread_length)]
    }


class AccountFacts(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def platform(self) -> str: ...
    @property
    def fullname(self) -> str: ...
    @property
    def username(self) -> str: ...


def account_view(account: AccountFacts) -> dict[str, Any]:
    """An account as `GET /v2/users/me/accounts` lists it."""
    return {
        "id": str(account.id),
        "platform": account.platform,
        "fullname": account.fullname,
        "username": account.username,
    }


def event_body(event_id: str, event_type: str, created_at: datetime, data: Any) -> dict[str, Any]:
    """What a delivery POSTs: the same for every attempt of one event."""
    return {"id": event_id, "type": event_type, "createdAt": iso(created_at), "data": data}


def next_attempt(
    *,
    attempts: int,
    now: datetime,
    window_start: datetime,
    window: timedelta,
    base: float,
    cap: float,
    rand: random.Random | None = None,
) -> datetime | None:
    """When to try a failed delivery again: exponential backoff (base x 2^(attempts-1), at
    most `cap` seconds) with jitter over its upper half, never past the window's end. None:
    the window is spent, give up."""
    end = window_start + window
    if now >= end:
        return None
    delay = min(cap, base * 2 ** min(attempts - 1, 40))
    delay = (rand or random).uniform(delay / 2, delay)
    return min(now + timedelta(seconds=delay), end)
