"""The OpenAPI document: FastAPI's, plus what FastAPI cannot see.

Bodies parsed by the domain layer (for its field-path messages) and routes served by plain
Starlette endpoints (for speed) are documented here from the same Pydantic models, so that
`/openapi.json` stays truthful; schemathesis checks it against the running server.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from masthead.api.auth import API_KEY_HEADER
from masthead.api.comment_schemas import CommentIn
from masthead.api.schemas import (
    CreatedPost,
    CreatePostRequest,
    Message,
    NextAvailableIn,
    RateLimited,
    SchedulePatch,
    ServerFault,
    SlotPatch,
    SlotsIn,
    ValidationMessage,
)
from masthead.api.webhook_schemas import WebhookIn, WebhookPatch

DOCUMENTED_MODELS: tuple[type[BaseModel], ...] = (
    CreatePostRequest,
    SchedulePatch,
    SlotsIn,
    SlotPatch,
    NextAvailableIn,
    WebhookIn,
    WebhookPatch,
    CommentIn,
    CreatedPost,
    Message,
    ValidationMessage,
    RateLimited,
    ServerFault,
)


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


CREATE_POST: dict[str, Any] = {
    "tags": ["posts"],
    "summary": "Create Post",
    "description": "Publish now, at `scheduledTime`, or at the next free slot.",
    "operationId": "create_post_v2_posts_post",
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "ours: the same key and body within 24 h replays the first answer",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CreatePostRequest"}}
        },
    },
    "responses": {
        "201": _json(CreatedPost, "Stored durably and queued"),
        "400": _json(Message, "Body is not JSON"),
        "401": _json(Message, "Missing, unknown or revoked API key"),
        "409": _json(Message, "Idempotency-Key reused with another body"),
        "413": _json(Message, "Body too large"),
        "422": _json(ValidationMessage, "Can never succeed: the message names the field"),
        "429": _json(RateLimited, "Rate limited; see Retry-After"),
        "500": _json(ServerFault, "Server fault (a bug)"),
    },
}


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in DOCUMENTED_MODELS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components.setdefault(model.__name__, model_schema)
    schema["paths"].setdefault("/v2/posts", {})["post"] = CREATE_POST
    schema["components"]["securitySchemes"] = {
        "blotatoApiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
    }
    schema["security"] = [{"blotatoApiKey": []}]
    return schema
