"""Comments' pure rules (contract section 10): states, error codes, the text check, the
polling schedule, retention, and the comment object's shape. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from masthead.domain.errors import FieldError, ValidationFailed
from masthead.domain.outcomes import Permanent
from masthead.domain.rules import TextLimit
from masthead.domain.validation import text_limit_problem
from masthead.timeutil import iso


@dataclass(frozen=True, slots=True)
class RemoteComment:
    """A comment as the platform reports it."""

    platform_comment_id: str
    parent_platform_comment_id: str | None
    """Its top-level ancestor's id for a reply at any depth; None for a top-level comment."""
    text: str
    created_at: datetime
    is_author: bool
    """Made by the connected account itself."""
    author_id: str | None = None
    author_username: str | None = None
    author_name: str | None = None


class CommentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    POSTED = "posted"
    FAILED = "failed"
    DELETED = "deleted"


class ErrorCode:
    """The contract's `errorCode` values (20101 is Blotato's plan limit, never produced)."""

    MISSING_PERMISSION = 20201
    REFUSED = 20301
    GONE = 20302
    TURNED_OFF = 20303
    RATE_LIMITED = 20304
    UNKNOWN = 29999


OUTCOME_UNKNOWN_PREFIX = "Outcome unknown:"
MISSING_PERMISSION_MESSAGE = "Account lacks permission to read and post comments; reconnect it"


class CommentRefused(Permanent):
    """A platform's refusal of a comment with a more precise `errorCode` than 20301 (the post
    is gone, comments are off)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CommentRules:
    """What a platform's comments accept (in its `PlatformSpec.comments`); a platform
    without them has no comments."""

    text_limit: TextLimit


def check_text(value: object, rules: CommentRules, platform: str) -> str:
    """The comment's text, or 422 naming `text` (the compat wording on a too-long text)."""
    if value is not None and not isinstance(value, str):
        raise ValidationFailed.one("text", "must be a string")
    if value is None or not value.strip():
        raise ValidationFailed.one("text", "is required")
    problem = text_limit_problem(value, rules.text_limit, platform)
    if problem is not None:
        limit = rules.text_limit.maximum
        raise ValidationFailed(
            [FieldError("text", problem)],
            f"text: must NOT have more than {limit} characters for {platform}",
        )
    return value


def first_comment_text(target: dict[str, Any]) -> str | None:
    """The `target.firstComment` to publish under a new post; None where there is none (a
    story takes no comment: refused at request time, and never sent)."""
    text = target.get("firstComment")
    if not isinstance(text, str) or not text.strip() or target.get("mediaType") == "story":
        return None
    return text


def check_first_comment(target: dict[str, Any], rules: CommentRules, platform: str) -> None:
    """`target.firstComment` is a comment: the platform's comment limit applies (422)."""
    text = target.get("firstComment")
    if not isinstance(text, str):
        return
    problem = text_limit_problem(text, rules.text_limit, platform)
    if problem is not None:
        raise ValidationFailed.one("post.target.firstComment", problem)


# The polling schedule (contract "Capture"): (age up to, interval).
POLL_SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=24), timedelta(minutes=10)),
    (timedelta(days=7), timedelta(hours=1)),
    (timedelta(days=45), timedelta(hours=6)),
)


def poll_interval(age: timedelta) -> timedelta | None:
    """How often a post this old is polled for comments; None once it is past day 45."""
    for up_to, interval in POLL_SCHEDULE:
        if age < up_to:
            return interval
    return None


def next_poll_at(published_at: datetime, polled_at: datetime) -> datetime | None:
    """When a post polled at `polled_at` is polled next; None when polling ends."""
    interval = poll_interval(polled_at - published_at)
    return None if interval is None else polled_at + interval


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Comments created before this are past retention: deleted, and answer 404."""
    return now - timedelta(days=days)


@dataclass(frozen=True, slots=True)
class CommentFacts:
    """A stored comment as the comment object needs it."""

    id: str
    account_id: int
    platform: str
    post_id: str
    platform_post_id: str | None
    parent_id: str | None
    platform_comment_id: str | None
    author_id: str | None
    author_username: str | None
    author_name: str | None
    is_author: bool
    text: str
    status: str
    error_code: int | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


def comment_view(c: CommentFacts) -> dict[str, Any]:
    """The comment object (compat keys first, ours after)."""
    failed = c.status == CommentStatus.FAILED
    return {
        "id": c.id,
        "accountId": str(c.account_id),
        "platform": c.platform,
        "postId": c.post_id,
        "platformPostId": c.platform_post_id,
        "parentCommentId": c.parent_id,
        "platformCommentId": c.platform_comment_id,
        "authorId": c.author_id,
        "isAuthor": c.is_author,
        "text": c.text,
        "status": c.status,
        "errorCode": c.error_code if failed else None,
        "errorMessage": c.error_message if failed else None,
        "createdAt": iso(c.created_at),
        "authorUsername": c.author_username,
        "authorName": c.author_name,
        "updatedAt": iso(c.updated_at),
    }


def first_comment_status(c: CommentFacts) -> dict[str, Any]:
    """`GET /v2/posts/{id}`'s `firstComment` (ours): the comment's id and status, and why it
    failed when it did (the post stays published either way)."""
    body: dict[str, Any] = {"commentId": c.id, "status": c.status}
    if c.status == CommentStatus.FAILED:
        body["errorMessage"] = c.error_message
    return body


@dataclass(frozen=True, slots=True)
class InboxComment:
    comment: CommentFacts
    unanswered: bool
    """From the audience, top-level, and without a reply of the account's yet."""


@dataclass(frozen=True, slots=True)
class InboxPost:
    post_id: str
    platform: str
    comments: tuple[InboxComment, ...]
    """Newest first."""


def inbox(rows: Sequence[CommentFacts]) -> list[InboxPost]:
    """Comments (newest first) grouped by post, the post with the newest comment first; a
    top-level comment from the audience that no reply of the account answers is unanswered."""
    answered = {c.parent_id for c in rows if c.is_author and c.parent_id is not None}
    grouped: dict[str, list[InboxComment]] = {}
    platforms: dict[str, str] = {}
    for c in rows:
        waiting = not c.is_author and c.parent_id is None and c.id not in answered
        waiting = waiting and c.status == CommentStatus.POSTED
        grouped.setdefault(c.post_id, []).append(InboxComment(c, waiting))
        platforms[c.post_id] = c.platform
    return [InboxPost(pid, platforms[pid], tuple(found)) for pid, found in grouped.items()]
