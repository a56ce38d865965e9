"""Editing and cancelling scheduled posts, honoured up to the first irreversible call."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from masthead.dispatch.port import DispatchPort
from masthead.domain.errors import ValidationFailed
from masthead.domain.events import POST_CANCELLED
from masthead.domain.states import EDITABLE_STATES
from masthead.domain.validation import parse_post, parse_scheduled_time
from masthead.media.library import MediaLibrary
from masthead.services import accounts as account_rules
from masthead.services.post_media import check_hosted, ingest_accepted
from masthead.store import events
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import utcnow


class NotFound(Exception):
    pass


class AlreadyPublishing(Exception):
    """The first platform call has been made; the post can no longer be changed."""


async def patch(
    db: Database,
    port: DispatchPort,
    directory: account_rules.AccountDirectory,
    allow: frozenset[tuple[str, int]],
    user_id: str,
    post_id: str,
    body: Any,
    media: MediaLibrary | None = None,
) -> None:
    now = utcnow()
    if not isinstance(body, dict) or not isinstance(body.get("patch"), dict):
        raise ValidationFailed.one(
            "patch", "is required: an object with draft and/or scheduledTime"
        )
    change = body["patch"]
    if change.get("draft") is None and change.get("scheduledTime") is None:
        raise ValidationFailed.one("patch", "needs draft or scheduledTime")
    current = await db.read(lambda conn: post_store.get_post(conn, user_id, post_id))
    # The same rule as the store's conditional update: PATCH and DELETE agree on what exists.
    if (
        current is None
        or current.scheduled_at is None
        or current.state not in EDITABLE_STATES
        or current.started_at is not None
    ):
        raise NotFound()
    scheduled_at = None
    if change.get("scheduledTime") is not None:
        scheduled_at = parse_scheduled_time(change["scheduledTime"], now, "patch.scheduledTime")
        if scheduled_at is None:  # within the 60 s grace: too late to move it
            raise ValidationFailed.one(
                "patch.scheduledTime",
                "must be in the future",
                compat_message="scheduledTime must be in the future",
            )
    draft_json = account_id = platform = subaccount = None
    draft = None
    fetch_after = False
    if change.get("draft") is not None:
        draft = parse_post(change["draft"], "patch.draft")
        account_rules.check_destination(draft, allow, "patch.draft")
        account = await directory.resolve(user_id, draft, "patch.draft")
        fetch_after = await check_hosted(media, draft, "patch.draft") if media else False
        draft_json, account_id, platform = draft.to_json(), account.id, draft.target_type
        subaccount = account_rules.subaccount_of(draft)

    def move(conn: Connection) -> bool:
        moved = post_store.reschedule(
            conn,
            user_id,
            post_id,
            now=now,
            scheduled_at=scheduled_at,
            draft=draft_json,
            account_id=account_id,
            platform=platform,
            subaccount_id=subaccount,
        )
        if moved:
            port.announce(conn)
        return moved

    changed = await db.write(move)
    if not changed:
        await _why_unchanged(db, user_id, post_id)
    if fetch_after and media is not None and draft is not None:
        media.spawn(ingest_accepted(db, media, user_id, post_id, draft))
    port.changed(scheduled_at)


async def delete(db: Database, user_id: str, post_id: str) -> None:
    def cancel(conn: Connection) -> bool:
        now = utcnow()
        cancelled = post_store.cancel(conn, user_id, post_id, now)
        if cancelled:
            events.post_changed(conn, [(post_id, POST_CANCELLED)], now)
        return cancelled

    cancelled = await db.write(cancel)
    if not cancelled:
        await _why_unchanged(db, user_id, post_id)


async def _why_unchanged(db: Database, user_id: str, post_id: str) -> None:
    post = await db.read(lambda conn: post_store.get_post(conn, user_id, post_id))
    if post is not None and post.started_at is not None and post.state == "in-progress":
        raise AlreadyPublishing()
    raise NotFound()
