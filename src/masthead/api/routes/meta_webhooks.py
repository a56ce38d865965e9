"""`GET|POST /webhooks/meta` (contract section 10): Meta's comment webhooks. No API key: the
handshake is checked against MASTHEAD_META_WEBHOOK_VERIFY_TOKEN and every delivery against
the app secret (X-Hub-Signature-256); anything else is 403 and nothing is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from masthead.api.auth import context
from masthead.api.body import read_body
from masthead.api.errors import json_response
from masthead.api.schemas import Message
from masthead.platforms.meta import SIGNATURE_HEADER
from masthead.services import comment_intake

router = APIRouter(tags=["comments"])
MESSAGE = f"#/components/schemas/{Message.__name__}"
MAX_DELIVERY = 1024 * 1024
"""Meta batches at most 1,000 changes per delivery; a comment change is well under 1 KB."""


@router.get(
    "/webhooks/meta",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        403: {
            "description": "Not Meta's handshake, or not with the verify token",
            "content": {"application/json": {"schema": {"$ref": MESSAGE}}},
        },
    },
)
async def meta_handshake(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> Response:
    settings = context(request).settings
    answer = comment_intake.handshake(settings, mode, verify_token, challenge)
    return PlainTextResponse(answer)


@router.post(
    "/webhooks/meta",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        400: {"model": Message},
        403: {"model": Message},
        413: {"model": Message},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def meta_delivery(request: Request) -> Response:
    ctx = context(request)
    body = await read_body(request, MAX_DELIVERY)
    await comment_intake.meta_delivery(
        ctx.db, ctx.settings, body, request.headers.get(SIGNATURE_HEADER)
    )
    return json_response(200, {})
