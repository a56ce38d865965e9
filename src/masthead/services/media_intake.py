"""Media in by URL (or data: URI) and presigned uploads (section 3), for every door."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from masthead.media.fetch import FetchError
from masthead.media.library import MediaLibrary, QuotaExceeded
from masthead.security import Secrets
from masthead.services.errors import ApiError
from masthead.store import media as records
from masthead.store.database import Database
from masthead.timeutil import utcnow


class UploadIn(BaseModel):
    filename: str = Field(min_length=1, max_length=300)


def refused(field: str, exc: FetchError) -> ApiError:
    """422 for a file that cannot be used; 413 when the user's media quota is full."""
    return ApiError(
        413 if isinstance(exc, QuotaExceeded) else 422,
        exc.message,
        errors=[{"path": field, "message": exc.message}],
    )


async def from_url(media: MediaLibrary, user_id: str, body: Any) -> dict[str, str]:
    """POST /v2/media: fetch (SSRF-guarded), sniff, store; `{"url", "id"}`."""
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str):
        message = "url: is required" if url is None else "url: must be a string"
        raise ApiError(422, message, errors=[{"path": "url", "message": message[5:]}])
    try:
        ingested = await media.ingest_url(user_id, url, remember_source=False)
    except FetchError as exc:
        raise refused("url", exc) from None
    return {"url": media.url_of(ingested.blob), "id": ingested.media_id}


async def presign(
    db: Database,
    media: MediaLibrary,
    secrets: Secrets,
    public_url: str,
    user_id: str,
    body: Any,
) -> dict[str, str]:
    """POST /v2/media/uploads: a single-use PUT URL and the public URL the file will have."""
    try:
        upload = UploadIn.model_validate(body)
    except ValidationError:
        message = "filename: is required (1 to 300 characters)"
        raise ApiError(
            422, message, errors=[{"path": "filename", "message": message[10:]}]
        ) from None
    now = utcnow()
    expires_at = now + media.upload_expiry
    upload_id = await db.write(
        lambda c: records.create_upload(
            c, user_id=user_id, filename=upload.filename, expires_at=expires_at, now=now
        )
    )
    presigned = await media.storage.presign_put(
        media.upload_key(upload_id), media.upload_expiry, "application/octet-stream"
    )
    if presigned is None:
        expires = int(expires_at.timestamp())
        signature = secrets.sign_url(f"{upload_id}:{expires}")
        base = public_url.rstrip("/")
        presigned = f"{base}/media/uploads/{upload_id}?expires={expires}&signature={signature}"
    return {"presignedUrl": presigned, "publicUrl": media.upload_url(upload_id)}
