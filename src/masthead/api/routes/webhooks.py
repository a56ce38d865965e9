"""Section 12: the caller's event webhook subscriptions and their deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from masthead.api.auth import CallerDep, context
from masthead.api.body import read_model
from masthead.api.errors import ApiError, json_response
from masthead.api.schemas import COMMON_ERRORS, Message, Responses, ValidationMessage, body_schema
from masthead.api.webhook_schemas import (
    Accepted,
    DeliveryList,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)
from masthead.domain import inputs
from masthead.services import webhooks as service
from masthead.store.deliveries import DeliveryRow
from masthead.store.webhooks import Change, SubscriptionRow
from masthead.timeutil import iso

router = APIRouter(prefix="/v2", tags=["webhooks"], responses=COMMON_ERRORS)
WebhookId = Annotated[str, Path(alias="id", max_length=64)]
NOT_FOUND = "Webhook not found"
MISSING: Responses = {404: {"model": Message}}
INVALID: Responses = {400: {"model": Message}, 422: {"model": ValidationMessage}}


def subscription_json(row: SubscriptionRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "description": row.description,
        "enabled": row.enabled,
        "createdAt": iso(row.created_at),
    }
    if row.disabled_reason:
        body["disabledReason"] = row.disabled_reason
    return body


def delivery_json(row: DeliveryRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "eventId": row.event_id,
        "event": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "lastAttemptAt": iso(row.last_attempt_at) if row.last_attempt_at else None,
        "responseStatus": row.response_status,
        "responseExcerpt": row.response_excerpt,
    }


def _with_secret(created: service.Subscription) -> dict[str, Any]:
    return subscription_json(created.row) | {"secret": created.secret}


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookWithSecret,
    responses=INVALID,
    openapi_extra=body_schema(WebhookIn),
)
async def create_webhook(request: Request, caller: CallerDep) -> Response:
    body = await read_model(request, WebhookIn)
    ctx = context(request)
    created = await service.create(
        ctx.db,
        ctx.secrets,
        ctx.settings.fetch_allow,
        caller.user.id,
        url=body.url,
        events=body.events,
        description=body.description,
    )
    return json_response(201, _with_secret(created))


@router.get("/webhooks", response_model=WebhookList)
async def list_webhooks(request: Request, caller: CallerDep) -> Response:
    rows = await service.list_for(context(request).db, caller.user.id)
    return json_response(200, {"items": [subscription_json(r) for r in rows]})


@router.get("/webhooks/{id}", response_model=WebhookOut, responses=MISSING)
async def get_webhook(request: Request, caller: CallerDep, webhook_id: WebhookId) -> Response:
    try:
        row = await service.get(context(request).db, caller.user.id, webhook_id)
    except service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    return json_response(200, subscription_json(row))


@router.patch(
    "/webhooks/{id}",
    response_model=WebhookOut,
    responses={**MISSING, **INVALID},
    openapi_extra=body_schema(WebhookPatch),
)
async def patch_webhook(request: Request, caller: CallerDep, webhook_id: WebhookId) -> Response:
    body = await read_model(request, WebhookPatch)
    ctx = context(request)
    try:
        row = await service.change(
            ctx.db,
            ctx.settings.fetch_allow,
            caller.user.id,
            webhook_id,
            Change(body.url, body.events, body.description, body.enabled),
        )
    except service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    return json_response(200, subscription_json(row))


@router.delete("/webhooks/{id}", status_code=204, responses=MISSING)
async def delete_webhook(request: Request, caller: CallerDep, webhook_id: WebhookId) -> Response:
    try:
        await service.delete(context(request).db, caller.user.id, webhook_id)
    except service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    return Response(status_code=204)


@router.post(
    "/webhooks/{id}/secret", status_code=201, response_model=WebhookWithSecret, responses=MISSING
)
async def rotate_secret(request: Request, caller: CallerDep, webhook_id: WebhookId) -> Response:
    ctx = context(request)
    try:
        rotated = await service.rotate_secret(ctx.db, ctx.secrets, caller.user.id, webhook_id)
    except service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    return json_response(201, _with_secret(rotated))


@router.get(
    "/webhooks/{id}/deliveries",
    response_model=DeliveryList,
    responses={**MISSING, 422: {"model": ValidationMessage}},
)
async def list_deliveries(
    request: Request,
    caller: CallerDep,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=100)] = service.DELIVERIES_LIMIT,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> Response:
    try:
        rows, after = await service.delivery_log(
            context(request).db,
            caller.user.id,
            webhook_id,
            before=int(cursor) if cursor else None,
            limit=limit,
        )
    except service.NotFound:
        raise ApiError(404, NOT_FOUND) from None
    body: dict[str, Any] = {"items": [delivery_json(r) for r in rows]}
    if after is not None:
        body["cursor"] = str(after)
    return json_response(200, body)


@router.post(
    "/webhooks/{id}/deliveries/{deliveryId}/redeliver",
    status_code=202,
    response_model=Accepted,
    responses=MISSING,
)
async def redeliver(
    request: Request,
    caller: CallerDep,
    webhook_id: WebhookId,
    delivery_id: Annotated[str, Path(alias="deliveryId", max_length=64)],
) -> Response:
    key = inputs.row_id(delivery_id)
    if key is None:
        raise ApiError(404, "Delivery not found")
    try:
        await service.redeliver(context(request).db, caller.user.id, webhook_id, key)
    except service.NotFound:
        raise ApiError(404, "Delivery not found") from None
    return json_response(202, {"message": "Queued for redelivery with the same event id"})
