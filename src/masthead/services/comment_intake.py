"""Comments pushed by Meta (`POST /webhooks/meta`) and the webhook's handshake (`GET`):
checked against the app's secrets, stored once per platform comment id (contract section 10)."""

from __future__ import annotations

import hmac

import orjson
from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.platforms.meta import signature_ok, webhook_comments
from masthead.services.errors import ApiError
from masthead.store import comments as store
from masthead.store.database import Database
from masthead.timeutil import utcnow

REFUSED = "Forbidden"


def handshake(
    settings: Settings, mode: str | None, token: str | None, challenge: str | None
) -> str:
    """The `hub.challenge` to echo when Meta subscribes with our verify token; else 403."""
    expected = settings.meta_webhook_verify_token or ""
    if (
        not expected
        or mode != "subscribe"
        or challenge is None
        or not hmac.compare_digest(expected.encode(), (token or "").encode())
    ):
        raise ApiError(403, REFUSED)
    return challenge


async def meta_delivery(
    db: Database, settings: Settings, body: bytes, signature: str | None
) -> int:
    """Store the comments of a signed delivery; 403 and nothing stored when the signature
    is missing or wrong. Returns the comments written."""
    if not signature_ok(settings.meta_client_secret or "", body, signature):
        raise ApiError(403, REFUSED)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"Body is not valid JSON: {exc}") from exc
    pushed = webhook_comments(payload)
    if not pushed:
        return 0
    now = utcnow()

    def write(conn: Connection) -> int:
        written = 0
        for platform in {p.platform for p in pushed}:
            mine = [p for p in pushed if p.platform == platform]
            posts = store.posts_by_remote(conn, platform, {p.remote_post_id for p in mine})
            for item in mine:
                for where in posts.get(item.remote_post_id, []):  # only Masthead's posts
                    if item.removed:
                        store.mark_gone(
                            conn, where.account_id, item.comment.platform_comment_id, now
                        )
                    else:
                        written += len(store.capture(conn, where, [item.comment], now))
        return written

    return await db.write(write)
