"""Section 3: taking media in (URL, data: URI, presigned upload) and serving what is hosted."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from masthead.api.auth import CallerDep, context
from masthead.api.body import read_json
from masthead.api.errors import ApiError, json_response
from masthead.api.ranges import Unsatisfiable, parse_range
from masthead.api.schemas import COMMON_ERRORS, Message, Responses, ValidationMessage, body_schema
from masthead.domain.inputs import ascii_int
from masthead.media.fetch import FetchError
from masthead.media.inspect import EXTENSIONS
from masthead.media.library import HostedRef, Ingested, QuotaExceeded
from masthead.services import media_intake as intake
from masthead.services.media_intake import UploadIn
from masthead.store import media as records
from masthead.timeutil import utcnow

router = APIRouter(prefix="/v2", tags=["media"], responses=COMMON_ERRORS)
hosting = APIRouter(tags=["media"], include_in_schema=True)
INVALID: Responses = {400: {"model": Message}, 422: {"model": ValidationMessage}}

_BLOB_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{2,5}")
MEDIA_BODY_LIMIT = 128 * 1024 * 1024
"""A data: URI arrives inside JSON; larger files belong in a presigned upload."""


class MediaIn(BaseModel):
    url: str = Field(description="an http(s) URL or a data:<type>;base64,... URI")


class MediaOut(BaseModel):
    url: str
    id: str


class UploadOut(BaseModel):
    presignedUrl: str
    publicUrl: str


def _media_json(request: Request, ingested: Ingested) -> dict[str, str]:
    return {"url": context(request).media.url_of(ingested.blob), "id": ingested.media_id}


@router.post(
    "/media",
    status_code=201,
    response_model=MediaOut,
    responses={
        **INVALID,
        413: {"model": Message, "description": "Larger than the body limit, or quota full"},
    },
    openapi_extra=body_schema(MediaIn),
)
async def create_media(request: Request, caller: CallerDep) -> Response:
    body = await read_json(request, max_bytes=MEDIA_BODY_LIMIT)
    return json_response(201, await intake.from_url(context(request).media, caller.user.id, body))


@router.post(
    "/media/uploads",
    status_code=201,
    response_model=UploadOut,
    responses=INVALID,
    openapi_extra=body_schema(UploadIn),
)
async def create_upload(request: Request, caller: CallerDep) -> Response:
    body = await read_json(request)
    ctx = context(request)
    answer = await intake.presign(
        ctx.db, ctx.media, ctx.secrets, ctx.settings.public_url, caller.user.id, body
    )
    return json_response(201, answer)


@hosting.put("/media/uploads/{upload_id}", include_in_schema=False)
async def receive_upload(request: Request, upload_id: str) -> Response:
    """The local presigned PUT: signed, expiring, single use; streamed under the cap."""
    ctx = context(request)
    expires = ascii_int(request.query_params.get("expires", ""))
    signature = request.query_params.get("signature", "")
    if expires is None or not ctx.secrets.verify_url(f"{upload_id}:{expires}", signature):
        raise ApiError(403, "Upload URL signature is not valid")
    if expires < time.time():
        raise ApiError(403, "Upload URL has expired; ask POST /v2/media/uploads for a new one")
    upload = await ctx.db.read(lambda c: records.get_upload(c, upload_id))
    if upload is None:
        raise ApiError(404, "Upload not found")
    declared = ascii_int(request.headers.get("content-length", ""))
    if declared is not None and declared > ctx.media.limits.max_bytes:
        raise ApiError(413, "File is larger than the upload limit")
    claimed = await ctx.db.write(lambda c: records.claim_upload(c, upload_id, utcnow()))
    if not claimed:
        raise ApiError(409, "Upload URL was already used (or has expired)")
    try:
        ingested = await ctx.media.ingest_stream(upload.user_id, request.stream())
    except FetchError as exc:
        await ctx.db.write(lambda c: records.release_upload(c, upload_id))
        status = 413 if "larger than" in exc.message or isinstance(exc, QuotaExceeded) else 422
        raise ApiError(status, exc.message) from None
    except BaseException:
        await ctx.db.write(lambda c: records.release_upload(c, upload_id))
        raise
    await ctx.db.write(lambda c: records.complete_upload(c, upload_id, ingested.media_id))
    return json_response(200, _media_json(request, ingested))


@hosting.api_route("/media/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def serve_blob(request: Request, name: str) -> Response:
    if not _BLOB_NAME.fullmatch(name):
        raise ApiError(404, "Media not found")
    return await _serve(request, HostedRef(sha256=name[:64]))


@hosting.api_route("/media/u/{upload_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def serve_upload(request: Request, upload_id: str) -> Response:
    return await _serve(request, HostedRef(upload_id=upload_id))


async def _serve(request: Request, ref: HostedRef) -> Response:
    library = context(request).media
    try:
        blob = await library.hosted_blob(ref)
    except FetchError:
        blob = None
    if blob is None:
        raise ApiError(404, "Media not found")
    size = blob.facts.size
    etag = f'"{blob.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Type": blob.facts.content_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{blob.sha256[:16]}.'
        f'{EXTENSIONS[blob.facts.content_type]}"',
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    status, start, end = 200, 0, size
    if_range = request.headers.get("if-range")
    if if_range is None or if_range == etag:
        try:
            wanted = parse_range(request.headers.get("range"), size)
        except Unsatisfiable:
            return Response(
                status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
            )
        if wanted is not None:
            status, start, end = 206, wanted.start, wanted.end
            headers["Content-Range"] = wanted.content_range(size)
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in library.storage.read(blob.sha256, start, end):
            yield chunk

    return StreamingResponse(body(), status_code=status, headers=headers)
