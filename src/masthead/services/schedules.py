"""Editing and cancelling scheduled posts, honoured up to the first irreversible call."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from masthead.dispatch.port import DispatchPort
from masthead.domain.errors import ValidationFailed
from masthead.domain.events import POST_CANCELLED
from masthead.domain.posts import draft_from_json
from masthead.domain.states import EDITABLE_STATES
from masthead.domain.validation import parse_post, parse_scheduled_time
from masthead.media.library import MediaLibrary
from masthead.platforms.registry import RULES
from masthead.platforms.webhook import WEBHOOK
from masthead.services import accounts as account_rules
from masthead.services.errors import ApiError
from masthead.services.post_media import check_hosted, ingest_accepted
from masthead.services.post_reads import decode_cursor, encode_cursor, storable_id
from masthead.store import events
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow


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
        draft = parse_post(change["draft"], "patch.draft", rules=RULES)
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


NOT_FOUND = "Schedule not found"
LIST_LIMIT = 100


def _known(schedule_id: str) -> str:
    if not storable_id(schedule_id):
        raise ApiError(404, NOT_FOUND)
    return schedule_id


async def _item(db: Database, row: post_store.ScheduleRow) -> dict[str, Any]:
    post = row.post
    assert post.scheduled_at is not None
    sub = account_rules.subaccount_of(draft_from_json(post.draft))
    account = None
    if row.account_status == "connected" or post.platform == WEBHOOK:
        sub_name = None
        if sub is not None:
            sub_name = await db.read(
                lambda conn: post_store.subaccount_name(conn, post.account_id, sub)
            )
        account = {
            "id": str(post.account_id),
            "name": row.account_name or "",
            "username": row.account_username or "",
            "profileImageUrl": row.account_image,
            "subaccountId": sub,
            "subId": sub,
            "subaccountName": sub_name,
        }
    return {
        "id": post.id,
        "scheduledAt": iso(post.scheduled_at),
        "draft": post.draft,
        "account": account,
    }


async def listing(
    db: Database, user_id: str, limit: int = 20, cursor: str | None = None
) -> dict[str, Any]:
    """GET /v2/schedules: the caller's scheduled posts, soonest first, `limit` (1 to 100)."""
    if not 1 <= limit <= LIST_LIMIT:
        raise ApiError(422, f"limit: must be between 1 and {LIST_LIMIT}")
    after = decode_cursor(cursor) if cursor else None

    def page(conn: Connection) -> tuple[list[post_store.ScheduleRow], int]:
        rows = post_store.list_schedules(conn, user_id, after=after, limit=limit + 1)
        return rows, post_store.count_schedules(conn, user_id)

    rows, total = await db.read(page)
    body: dict[str, Any] = {
        "items": [await _item(db, row) for row in rows[:limit]],
        "count": str(total),
    }
    if len(rows) > limit:
        last = rows[limit - 1].post
        assert last.scheduled_at is not None
        body["cursor"] = encode_cursor(last.scheduled_at, last.id)
    return body


async def one(db: Database, user_id: str, schedule_id: str) -> dict[str, Any]:
    schedule_id = _known(schedule_id)
    row = await db.read(lambda conn: post_store.get_schedule(conn, user_id, schedule_id))
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return {"schedule": await _item(db, row)}


async def update(
    db: Database,
    port: DispatchPort,
    directory: account_rules.AccountDirectory,
    allow: frozenset[tuple[str, int]],
    user_id: str,
    schedule_id: str,
    body: Any,
    media: MediaLibrary | None = None,
) -> None:
    """PATCH /v2/schedules/{id}: `patch` with the REST refusals."""
    schedule_id = _known(schedule_id)
    try:
        await patch(db, port, directory, allow, user_id, schedule_id, body, media)
    except NotFound:
        raise ApiError(404, NOT_FOUND) from None
    except AlreadyPublishing:
        raise ApiError(
            409, "The post is already being published; it can no longer change"
        ) from None


async def remove(db: Database, user_id: str, schedule_id: str) -> None:
    """DELETE /v2/schedules/{id}: `delete` with the REST refusals."""
    schedule_id = _known(schedule_id)
    try:
        await delete(db, user_id, schedule_id)
    except NotFound:
        raise ApiError(404, NOT_FOUND) from None
    except AlreadyPublishing:
        raise ApiError(
            409, "The post is already being published; it can no longer be cancelled"
        ) from None
