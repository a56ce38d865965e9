"""Seeding published posts and comments for the comment tests, and a scripted comment
platform for the dispatch tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from masthead.domain.comments import CommentStatus
from masthead.domain.rules import Count
from masthead.platforms.base import (
    AccountContext,
    CommentDraft,
    CommentsReader,
    CommentsWriter,
    PostGone,
    PublishContext,
    PublishedPost,
    Publisher,
    RemoteComment,
    SentItem,
)
from masthead.platforms.spec import PlatformSpec
from masthead.store import comments as comment_store
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.store.models import Comment, Post, PostItem
from masthead.timeutil import utcnow
from tests.support.harness import Caller, Harness


async def seed_post(
    db: Database,
    caller: Caller,
    account_id: str,
    platform: str,
    *,
    state: str = "published",
    remote_id: str | None = None,
    target: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> str:
    """A post of `caller` in `state`; a published one has its first item sent as `remote_id`."""
    post_id = str(uuid.uuid4())
    now = at or utcnow()
    draft = {
        "accountId": account_id,
        "content": {"text": "Hello", "mediaUrls": [], "platform": platform},
        "target": {"targetType": platform, **(target or {})},
    }

    def work(conn: Connection) -> None:
        post_store.insert_post(
            conn,
            post_store.NewPost(
                post_id, caller.user_id, int(account_id), platform, None, draft, None
            ),
            now,
        )
        values: dict[str, Any] = {"state": state, "due_at": None}
        if state == "published":
            values |= {"finished_at": now, "public_url": f"https://example.com/{post_id}"}
            conn.execute(
                insert(PostItem).values(
                    post_id=post_id,
                    position=0,
                    state="sent",
                    remote_id=remote_id or f"remote-{post_id[:8]}",
                    public_url=f"https://example.com/{post_id}",
                    data={},
                    sending_at=now,
                    sent_at=now,
                )
            )
        conn.execute(update(Post).where(Post.id == post_id).values(**values))

    await db.write(work)
    return post_id


async def seed_inbound(
    db: Database,
    caller: Caller,
    account_id: str,
    post_id: str,
    platform: str,
    comments: Sequence[RemoteComment],
) -> list[str]:
    where = comment_store.Captured(caller.user_id, int(account_id), post_id, platform)
    return await db.write(
        lambda c: comment_store.store_inbound(
            c, where, comments, lambda: str(uuid.uuid4()), utcnow()
        )
    )


def remote(
    platform_id: str,
    text: str = "Love this!",
    *,
    parent: str | None = None,
    at: datetime | None = None,
    is_author: bool = False,
) -> RemoteComment:
    return RemoteComment(
        platform_comment_id=platform_id,
        parent_platform_comment_id=parent,
        text=text,
        created_at=at or utcnow(),
        is_author=is_author,
        author_id="17841400000000000",
        author_username="fan",
    )


async def set_status(db: Database, comment_id: str, status: CommentStatus) -> None:
    await db.write(
        lambda c: c.execute(update(Comment).where(Comment.id == comment_id).values(status=status))
    )


class ScriptedComments(Publisher):
    """A platform whose comment calls follow a script: each `send_comment` pops the next
    step (an exception to raise, or None to succeed; success once the script is empty).
    What it was sent is kept, like a platform would keep it, so `find_comment` answers
    from what really "arrived"."""

    platform: ClassVar[str] = "facebook"

    def __init__(self) -> None:
        self.script: list[BaseException | tuple[str, BaseException] | None] = []
        self.find_script: list[BaseException | None] = []
        self.posted: list[tuple[str, CommentDraft]] = []
        self.sends = 0
        self.finds = 0
        self.listed: list[RemoteComment] | PostGone = []

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        raise AssertionError("not a publishing test")

    async def send_comment(
        self, ctx: AccountContext, post: PublishedPost, comment: CommentDraft
    ) -> str:
        self.sends += 1
        step = self.script.pop(0) if self.script else None
        if isinstance(step, tuple):  # it arrived, then the answer was lost
            self.posted.append((f"c{len(self.posted) + 1}", comment))
            raise step[1]
        if step is not None:
            raise step
        remote_id = f"c{len(self.posted) + 1}"
        self.posted.append((remote_id, comment))
        return remote_id

    async def find_comment(
        self, ctx: AccountContext, post: PublishedPost, comment: CommentDraft
    ) -> str | None:
        self.finds += 1
        step = self.find_script.pop(0) if self.find_script else None
        if step is not None:
            raise step
        return next((rid for rid, sent in self.posted if sent == comment), None)

    async def list_comments(
        self, ctx: AccountContext, post: PublishedPost, since: datetime | None
    ) -> Sequence[RemoteComment] | PostGone:
        return self.listed


async def first_comment_settled(
    harness: Harness, caller: Caller, post_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """`GET /v2/posts/{id}`'s `firstComment`, once it is posted or failed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        body = await harness.status(caller, post_id)
        first: dict[str, Any] = body.get("firstComment") or {}
        if first.get("status") in ("posted", "failed") or loop.time() > deadline:
            return first
        await asyncio.sleep(0.05)


def by_id(comments: Sequence[RemoteComment] | PostGone) -> dict[str, RemoteComment]:
    """The comments a platform listed, by their platform id (a post still there)."""
    assert not isinstance(comments, PostGone), comments
    return {c.platform_comment_id: c for c in comments}


def comment_limit(publisher: Publisher, spec: PlatformSpec) -> tuple[int, Count]:
    """The longest comment `spec`'s platform takes and how it counts, once its publisher is
    checked to read and write comments."""
    assert isinstance(publisher, CommentsReader)
    assert isinstance(publisher, CommentsWriter)
    assert spec.comments is not None
    limit = spec.comments.text_limit
    return limit.maximum, limit.count
