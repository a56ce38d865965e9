"""A post's media, checked as early as it can be: hosted files at request time (422), fetched
files right after the post is accepted (the post fails early with the reason)."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Connection

from masthead.domain.errors import FieldError, ValidationFailed
from masthead.domain.events import POST_FAILED
from masthead.domain.media import MediaFacts, check_files
from masthead.domain.posts import PostDraft
from masthead.media.fetch import FetchError
from masthead.media.library import MediaLibrary
from masthead.platforms.registry import RULES
from masthead.store import events
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import utcnow

log = logging.getLogger(__name__)


def media_path(position: int, prefix: str = "post") -> str:
    if position == 0:
        return f"{prefix}.content.mediaUrls"
    return f"{prefix}.content.additionalPosts[{position - 1}].mediaUrls"


async def check_hosted(media: MediaLibrary, draft: PostDraft, prefix: str = "post") -> bool:
    """Raise ValidationFailed for hosted files the target refuses; True when some files are
    not hosted and still have to be fetched."""
    rules = RULES[draft.target_type].files_for(draft.target.get("mediaType"))
    problems: list[FieldError] = []
    pending = False
    for position, item in enumerate(draft.items):
        if not item.media_urls:
            continue
        path = media_path(position, prefix)
        known: list[MediaFacts | None] = []
        for index, url in enumerate(item.media_urls):
            try:
                facts = (await media.facts([url]))[0]
            except FetchError as exc:
                problems.append(FieldError(f"{path}[{index}]", exc.message))
                facts = None
            pending |= facts is None and media.hosted(url) is None
            known.append(facts)
        problems += check_files(rules, draft.target_type, known, path)
    if problems:
        raise ValidationFailed(problems)
    return pending


async def ingest_accepted(
    db: Database, media: MediaLibrary, user_id: str, post_id: str, draft: PostDraft
) -> None:
    """Fetch every external file of an accepted post now, not at publish time, and fail the
    post with a clear errorMessage if one cannot be used on its target."""
    rules = RULES[draft.target_type].files_for(draft.target.get("mediaType"))
    for position, item in enumerate(draft.items):
        path = media_path(position)
        known: list[MediaFacts | None] = []
        for index, url in enumerate(item.media_urls):
            try:
                known.append((await media.blob_for(user_id, url)).facts)
            except FetchError as exc:
                await _fail(db, post_id, f"{path}[{index}]: {exc.message}")
                return
        problems = check_files(rules, draft.target_type, known, path)
        if problems:
            await _fail(db, post_id, problems[0].render())
            return


async def _fail(db: Database, post_id: str, error: str) -> None:
    def fail(conn: Connection) -> bool:
        now = utcnow()
        failed = post_store.fail_unsent(conn, post_id, error, now)
        if failed:
            events.post_changed(conn, [(post_id, POST_FAILED)], now)
        return failed

    failed = await db.write(fail)
    log.info("post %s refused after ingest: %s", post_id, error, extra={"post_id": post_id})
    if not failed:
        log.info("post %s had already started; its publish reports the media error", post_id)
