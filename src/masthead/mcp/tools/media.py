"""Media in by URL and presigned uploads (services/media_intake.py)."""

from __future__ import annotations

from typing import Any

from masthead.mcp.backend import Call
from masthead.mcp.registry import tool
from masthead.mcp.schemas import obj, string
from masthead.services import media_intake


@tool(
    "blotato_upload_media",
    "POST /v2/media",
    """Copies an image or video from a public URL into Masthead's media store and returns the
    hosted url (use it in mediaUrls) and id. Useful when the source URL is temporary or slow;
    blotato_create_post also accepts public URLs directly. Private and local network addresses
    are refused. Publishes nothing.""",
    obj({"url": string("A public http(s) URL of an image or video.", format="uri")}, "url"),
)
async def upload_media(call: Call, args: dict[str, Any]) -> Any:
    return await media_intake.from_url(call.backend.media, call.user.id, args)


@tool(
    "blotato_create_presigned_upload_url",
    "POST /v2/media/uploads",
    """For a local file: returns presignedUrl, where the file's bytes are sent with one HTTP PUT
    (single use, expires), and publicUrl, the URL to put in mediaUrls once the upload is done.
    Publishes nothing.""",
    obj(
        {"filename": string("The file's name, e.g. clip.mp4.", minLength=1, maxLength=300)},
        "filename",
    ),
)
async def create_presigned_upload_url(call: Call, args: dict[str, Any]) -> Any:
    backend = call.backend
    return await media_intake.presign(
        backend.db,
        backend.media,
        backend.secrets,
        backend.settings.public_url,
        call.user.id,
        args,
    )
