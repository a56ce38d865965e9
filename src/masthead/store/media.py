"""Media records: stored blobs (by sha256), their converted variants, users' media and
presigned uploads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from masthead.domain.media import MediaFacts
from masthead.store.models import Media, MediaBlob, MediaUpload, MediaVariant


@dataclass(frozen=True, slots=True)
class Blob:
    sha256: str
    facts: MediaFacts


@dataclass(frozen=True, slots=True)
class UploadRow:
    id: str
    user_id: str
    filename: str
    expires_at: datetime
    used_at: datetime | None
    media_id: str | None


_BLOB_COLUMNS = (
    MediaBlob.sha256,
    MediaBlob.content_type,
    MediaBlob.size,
    MediaBlob.width,
    MediaBlob.height,
    MediaBlob.duration,
    MediaBlob.frame_rate,
    MediaBlob.frames,
    MediaBlob.video_codec,
    MediaBlob.audio_codec,
)


def _blob(row: tuple[object, ...]) -> Blob:
    sha, *facts = row
    return Blob(str(sha), MediaFacts(*facts))  # type: ignore[arg-type]


def save_blob(conn: Connection, sha256: str, facts: MediaFacts, now: datetime) -> None:
    """Idempotent: the same bytes arriving twice (or concurrently) make one row."""
    values = {
        "sha256": sha256,
        "content_type": facts.content_type,
        "size": facts.size,
        "width": facts.width,
        "height": facts.height,
        "duration": facts.duration,
        "frame_rate": facts.frame_rate,
        "frames": facts.frames,
        "video_codec": facts.video_codec,
        "audio_codec": facts.audio_codec,
        "created_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(MediaBlob).values(values).on_conflict_do_nothing())


def blob(conn: Connection, sha256: str) -> Blob | None:
    row = conn.execute(select(*_BLOB_COLUMNS).where(MediaBlob.sha256 == sha256)).first()
    return _blob(tuple(row)) if row else None


def add_media(
    conn: Connection, *, user_id: str, sha256: str, source_digest: str | None, now: datetime
) -> str:
    media_id = str(uuid.uuid4())
    conn.execute(
        insert(Media).values(
            id=media_id,
            user_id=user_id,
            sha256=sha256,
            source_digest=source_digest,
            created_at=now,
        )
    )
    return media_id


@dataclass(frozen=True, slots=True)
class Usage:
    """A user's stored media: distinct files (by content) and their bytes."""

    files: int
    bytes: int


def usage(conn: Connection, user_id: str) -> Usage:
    owned = select(Media.sha256).where(Media.user_id == user_id).distinct().subquery()
    files, size = conn.execute(
        select(func.count(), func.coalesce(func.sum(MediaBlob.size), 0)).select_from(
            owned.join(MediaBlob, MediaBlob.sha256 == owned.c.sha256)
        )
    ).one()
    return Usage(int(files), int(size))


def owns(conn: Connection, user_id: str, sha256: str) -> bool:
    query = select(Media.id).where(Media.user_id == user_id, Media.sha256 == sha256).limit(1)
    return conn.execute(query).first() is not None


def media_by_source(conn: Connection, user_id: str, source_digest: str) -> Blob | None:
    """The blob a user's external URL was ingested as (the latest, if several)."""
    row = conn.execute(
        select(*_BLOB_COLUMNS)
        .join(Media, Media.sha256 == MediaBlob.sha256)
        .where(Media.user_id == user_id, Media.source_digest == source_digest)
        .order_by(Media.created_at.desc())
        .limit(1)
    ).first()
    return _blob(tuple(row)) if row else None


def variant(conn: Connection, sha256: str, recipe: str) -> Blob | None:
    row = conn.execute(
        select(*_BLOB_COLUMNS)
        .join(MediaVariant, MediaVariant.variant_sha256 == MediaBlob.sha256)
        .where(MediaVariant.sha256 == sha256, MediaVariant.recipe == recipe)
    ).first()
    return _blob(tuple(row)) if row else None


def save_variant(conn: Connection, sha256: str, recipe: str, variant_sha256: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(MediaVariant)
        .values(sha256=sha256, recipe=recipe, variant_sha256=variant_sha256)
        .on_conflict_do_nothing()
    )


def create_upload(
    conn: Connection, *, user_id: str, filename: str, expires_at: datetime, now: datetime
) -> str:
    upload_id = str(uuid.uuid4())
    conn.execute(
        insert(MediaUpload).values(
            id=upload_id,
            user_id=user_id,
            filename=filename,
            expires_at=expires_at,
            created_at=now,
        )
    )
    return upload_id


def get_upload(conn: Connection, upload_id: str) -> UploadRow | None:
    row = conn.execute(
        select(
            MediaUpload.id,
            MediaUpload.user_id,
            MediaUpload.filename,
            MediaUpload.expires_at,
            MediaUpload.used_at,
            MediaUpload.media_id,
        ).where(MediaUpload.id == upload_id)
    ).first()
    return UploadRow(*row) if row else None


def claim_upload(conn: Connection, upload_id: str, now: datetime) -> bool:
    """Take the upload for one PUT; False when it is used, being used, or expired."""
    result = conn.execute(
        update(MediaUpload)
        .where(
            MediaUpload.id == upload_id,
            MediaUpload.used_at.is_(None),
            MediaUpload.expires_at > now,
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


def release_upload(conn: Connection, upload_id: str) -> None:
    """A PUT whose bytes were refused gives the URL back, so the client can send a correct
    file before it expires."""
    conn.execute(
        update(MediaUpload)
        .where(MediaUpload.id == upload_id, MediaUpload.media_id.is_(None))
        .values(used_at=None)
    )


def complete_upload(conn: Connection, upload_id: str, media_id: str) -> None:
    conn.execute(update(MediaUpload).where(MediaUpload.id == upload_id).values(media_id=media_id))


def upload_blob(conn: Connection, upload_id: str) -> Blob | None:
    """The blob a completed upload holds (what its publicUrl serves)."""
    row = conn.execute(
        select(*_BLOB_COLUMNS)
        .join(Media, Media.sha256 == MediaBlob.sha256)
        .join(MediaUpload, MediaUpload.media_id == Media.id)
        .where(MediaUpload.id == upload_id)
    ).first()
    return _blob(tuple(row)) if row else None
