"""Section 2: create a post, read its status, list posts."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response
from starlette.routing import Route

from masthead.api.auth import Caller, authenticate, context
from masthead.api.body import read_json
from masthead.api.errors import ApiError, json_response
from masthead.api.schemas import (
    COMMON_ERRORS,
    Message,
    PostList,
    PostStatus,
    RateLimited,
    Responses,
    ValidationMessage,
)
from masthead.domain.states import OUTCOME_UNKNOWN, State, public_status
from masthead.platforms.registry import TARGET_TYPES
from masthead.services import posts as post_service
from masthead.store import posts as post_store
from masthead.timeutil import iso, utcnow

router = APIRouter(prefix="/v2", tags=["posts"], responses=COMMON_ERRORS)
IDEMPOTENCY_HEADER = "Idempotency-Key"
CallerDep = Annotated[Caller, Depends(authenticate)]
LIMITED: Responses = {429: {"model": RateLimited, "description": "Rate limited; see Retry-After"}}


async def create_post(request: Request) -> Response:
    """POST /v2/posts, the hottest route, as a plain Starlette endpoint: FastAPI's parameter
    machinery (query, cookie and header parsing on every call) cost about a third of the
    request's CPU here (py-spy under wrk). Documented in api/openapi.py."""
    caller = await authenticate(request)
    idempotency_key = request.headers.get(IDEMPOTENCY_HEADER)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise ApiError(422, "Idempotency-Key: must be 1 to 255 characters")
    ctx = context(request)
    body = await read_json(request)
    try:
        created = await post_service.create_post(
            ctx.db,
            ctx.port,
            ctx.accounts,
            ctx.settings.fetch_allow,
            caller.user.id,
            body,
            idempotency_key,
            ctx.media,
        )
    except post_service.IdempotencyConflict:
        raise ApiError(
            409, "Idempotency-Key was already used with a different request body"
        ) from None
    except post_service.NoFreeSlot:
        raise ApiError(409, "Could not take a free slot; try again") from None
    headers = {"Idempotent-Replayed": "true"} if created.replayed else None
    return json_response(created.status, created.body, headers)


FAST_ROUTES = [Route("/v2/posts", create_post, methods=["POST"], name="create_post")]


@router.get(
    "/posts/{postSubmissionId}",
    response_model=PostStatus,
    responses={404: {"model": Message}, **LIMITED},
)
async def get_post(
    request: Request,
    caller: CallerDep,
    post_id: Annotated[str, Path(alias="postSubmissionId")],
) -> Response:
    if not storable_id(post_id):
        raise ApiError(404, "Post not found")

    def lookup(conn: Connection) -> tuple[post_store.PostRow | None, list[post_store.ItemResult]]:
        post = post_store.get_post(conn, caller.user.id, post_id)
        return post, post_store.post_items(conn, post_id) if post is not None else []

    post, items = await context(request).db.read(lookup)
    if post is None or post.state == State.CANCELLED:
        raise ApiError(404, "Post not found")
    status = public_status(post.state, post.scheduled_at)
    body: dict[str, object] = {"postSubmissionId": post.id, "status": status}
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
    return json_response(200, body)


def storable_id(value: str) -> bool:
    """Whether a post id could be in the store at all. Anything else is unknown (404, as the
    contract says of unknown ids) and never reaches the database (PostgreSQL refuses NUL)."""
    return 0 < len(value) <= 64 and "\x00" not in value


def encode_cursor(time: datetime, post_id: str) -> str:
    raw = orjson.dumps({"t": time.isoformat(), "id": post_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(data["t"])
        post_id = data["id"]
        if when.tzinfo is None or not isinstance(post_id, str) or not storable_id(post_id):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError(422, "cursor: is not a cursor returned by this endpoint") from None
    return when, post_id


def _parse_time(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"{name}: must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ApiError(422, f"{name}: must carry a time zone offset (Z or +02:00)")
    return parsed


LIST_STATES = {"scheduled": State.SCHEDULED, "published": State.PUBLISHED, "failed": State.FAILED}


@router.get(
    "/posts",
    response_model=PostList,
    responses={422: {"model": ValidationMessage}, **LIMITED},
)
async def list_posts(
    request: Request,
    caller: CallerDep,
    since: Annotated[str | None, Query(description="ISO 8601; default now - 7 days")] = None,
    until: Annotated[str | None, Query(description="ISO 8601; default now + 7 days")] = None,
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    status: Annotated[list[str] | None, Query(description="scheduled, published, failed")] = None,
    platform: Annotated[list[str] | None, Query(description="repeatable")] = None,
) -> Response:
    now = utcnow()
    start = _parse_time(since, "since", now - timedelta(days=7))
    end = _parse_time(until, "until", now + timedelta(days=7))
    states = []
    for value in status or ():
        if value not in LIST_STATES:
            raise ApiError(
                422, f"status: must be one of scheduled, published, failed (got {value!r})"
            )
        states.append(LIST_STATES[value])
    for value in platform or ():
        if value not in TARGET_TYPES:
            raise ApiError(
                422, f"platform: must be one of {', '.join(TARGET_TYPES)} (got {value!r})"
            )
    if State.SCHEDULED in states:
        states.append(State.IN_PROGRESS)
    after = decode_cursor(cursor) if cursor else None
    rows = await context(request).db.read(
        lambda conn: post_store.list_posts(
            conn,
            caller.user.id,
            since=start,
            until=end,
            states=states,
            platforms=platform or [],
            after=after,
            limit=limit + 1,
        )
    )
    items = []
    for row in rows[:limit]:
        content = row.draft.get("content", {})
        state_type = public_status(row.state, row.scheduled_at)
        state: dict[str, object] = {"type": state_type}
        if state_type == State.PUBLISHED:
            state["postUrl"] = row.public_url
        elif state_type == State.FAILED:
            state["errorMessage"] = row.error_message or "Publishing failed"
        items.append(
            {
                "id": row.id,
                "postTime": iso(row.post_time),
                "platform": row.platform,
                "text": content.get("text", ""),
                "mediaUrls": content.get("mediaUrls", []),
                "state": state,
            }
        )
    body: dict[str, object] = {"items": items}
    if len(rows) > limit:
        last = rows[limit - 1]
        body["cursor"] = encode_cursor(last.post_time, last.id)
    return json_response(200, body)
