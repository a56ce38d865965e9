"""Creating a post: validate, check the account, allocate a slot, store durably, wake dispatch."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from masthead.dispatch.port import DispatchPort
from masthead.domain.comments import check_first_comment
from masthead.domain.errors import ValidationFailed
from masthead.domain.events import POST_SCHEDULED
from masthead.domain.slots import SlotTarget, free_slots
from masthead.domain.states import public_status
from masthead.domain.validation import parse_create_request
from masthead.media.library import MediaLibrary
from masthead.platforms.registry import COMMENTS, RULES
from masthead.services import accounts as account_rules
from masthead.services.errors import ApiError
from masthead.services.post_media import check_hosted, ingest_accepted
from masthead.store import events, idempotency, slots
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow

IDEMPOTENCY_WINDOW = timedelta(hours=24)
SLOT_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Created:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    due_at: datetime | None = None


IDEMPOTENCY_CONFLICT = "Idempotency-Key was already used with a different request body"


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def create_post(
    db: Database,
    port: DispatchPort,
    directory: account_rules.AccountDirectory,
    allow: frozenset[tuple[str, int]],
    user_id: str,
    body: Any,
    idempotency_key: str | None,
    media: MediaLibrary | None = None,
) -> Created:
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise ApiError(422, "Idempotency-Key: must be 1 to 255 characters")
    now = utcnow()
    digest = request_hash(body) if idempotency_key else ""
    if idempotency_key:
        replayed = await replay(db, user_id, idempotency_key, digest, now)
        if replayed is not None:
            return replayed
    request = parse_create_request(body, now, rules=RULES)
    draft = request.post
    comment_rules = COMMENTS.get(draft.target_type)
    if comment_rules is not None:
        check_first_comment(draft.target, comment_rules, draft.target_type)
    account_rules.check_destination(draft, allow)
    account = await directory.resolve(user_id, draft)
    fetch_after = await check_hosted(media, draft) if media is not None else False
    subaccount = account_rules.subaccount_of(draft)
    new = post_store.NewPost(
        id=post_store.new_post_id(),
        user_id=user_id,
        account_id=account.id,
        platform=draft.target_type,
        subaccount_id=subaccount,
        draft=draft.to_json(),
        scheduled_at=request.scheduled_at,
    )
    target = SlotTarget(draft.target_type, draft.account_id, subaccount)

    def store(conn: Connection) -> Created:
        post = new
        if request.use_next_free_slot:
            post = _take_slot(conn, post, target, now)
        when = post.scheduled_at
        response: dict[str, Any] = {
            "postSubmissionId": post.id,
            "status": public_status("scheduled", when),
        }
        if when is not None:
            response["scheduledTime"] = iso(when)
        post_store.insert_post(conn, post, now)
        if when is not None and when > now:
            events.post_changed(conn, [(post.id, POST_SCHEDULED)], now)
        port.announce(conn)
        if idempotency_key:
            idempotency.remember(
                conn,
                user_id=user_id,
                key=idempotency_key,
                request_hash=digest,
                status_code=201,
                response=response,
                now=now,
            )
        return Created(201, response, due_at=when or now)

    for _ in range(SLOT_ATTEMPTS):
        try:
            # A plain insert with a fresh key cannot conflict, so it skips the savepoint;
            # slot and idempotency writes can, and get one.
            created = await db.write(
                store, isolated=bool(idempotency_key or request.use_next_free_slot)
            )
        except IntegrityError:
            # Another request took the same slot or the same Idempotency-Key meanwhile.
            if idempotency_key:
                replayed = await replay(db, user_id, idempotency_key, digest, now)
                if replayed is not None:
                    return replayed
                # The key's record is past its 24 h but not yet purged (hourly): it no
                # longer counts, so purge the expired records now and store afresh.
                if await _forget_expired(db, now):
                    continue
            if not request.use_next_free_slot:
                raise
            continue
        if fetch_after and media is not None:
            post_id = created.body["postSubmissionId"]
            media.spawn(ingest_accepted(db, media, user_id, post_id, draft))
        port.changed(created.due_at)
        return created
    raise ApiError(409, "Could not take a free slot; try again")


async def _forget_expired(db: Database, now: datetime) -> int:
    before = now - IDEMPOTENCY_WINDOW
    return await db.write(lambda conn: idempotency.forget_before(conn, before))


async def replay(
    db: Database, user_id: str, key: str, digest: str, now: datetime
) -> Created | None:
    since = now - IDEMPOTENCY_WINDOW
    record = await db.read(lambda conn: idempotency.lookup(conn, user_id, key, since=since))
    if record is None:
        return None
    if record.request_hash != digest:
        raise ApiError(409, IDEMPOTENCY_CONFLICT)
    return Created(record.status_code, record.response, replayed=True)


def _take_slot(
    conn: Connection, post: post_store.NewPost, target: SlotTarget, now: datetime
) -> post_store.NewPost:
    """The earliest free slot for the target, claimed in the same transaction as the post.
    The unique `slot_key` makes two concurrent requests unable to take the same one."""
    specs = slots.slot_specs(conn, post.user_id)
    serving = [spec for spec in specs if spec.serves(target)]
    if not serving:
        raise ValidationFailed.one(
            "useNextFreeSlot",
            f"No available slot: no calendar slot is set for {target.platform} account "
            f"{target.account_id}",
            compat_message="No available slot for this account: create one with "
            "POST /v2/schedule/slots",
        )
    occupied = post_store.occupied_times(
        conn, post.account_id, post.subaccount_id, now, now + timedelta(days=7 * 9)
    )
    free = free_slots(serving, target, now, occupied)
    if not free:
        raise ValidationFailed.one(
            "useNextFreeSlot",
            "No available slot in the next eight weeks",
            compat_message="No available slot in the next eight weeks",
        )
    _, when = free[0]
    key = f"{post.account_id}|{post.subaccount_id or ''}|{when.isoformat()}"
    return post_store.NewPost(
        id=post.id,
        user_id=post.user_id,
        account_id=post.account_id,
        platform=post.platform,
        subaccount_id=post.subaccount_id,
        draft=post.draft,
        scheduled_at=when,
        slot_key=key,
    )
