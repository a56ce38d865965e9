"""The event webhook shapes (contract section 12), for `/openapi.json` and body parsing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from masthead.services.webhooks import MAX_DESCRIPTION, MAX_URL


class WebhookIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    url: str = Field(min_length=1, max_length=MAX_URL)
    events: list[str] = Field(min_length=1, description='event names, or ["*"]')
    description: str = Field(default="", max_length=MAX_DESCRIPTION)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL)
    events: list[str] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    createdAt: str
    disabledReason: str | None = Field(
        default=None, description="ours: why Masthead switched it off"
    )


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="shown only in this answer")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: str
    eventId: str
    event: str
    status: str = Field(description="pending | delivered | failed")
    attempts: int
    lastAttemptAt: str | None
    responseStatus: int | None
    responseExcerpt: str | None = Field(description="at most 1 KB of the answer")


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    cursor: str | None = None


class Accepted(BaseModel):
    message: str
