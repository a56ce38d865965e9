"""The webhook target: a signed POST of the post to the user's URL (contract section 4).

Delivered at least once: a delivery whose answer was lost (the worker crashed while it was in
flight) is sent again with the same `postSubmissionId` and `X-Masthead-Delivery`, marked with
`X-Masthead-Redelivery: 1`; receivers de-duplicate by the id (docs/platforms/webhook.md)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
import httpx
import orjson

from masthead.config import Settings
from masthead.net.guard import BlockedDestination
from masthead.net.session import GuardedSession, connection_failed
from masthead.platforms import kit
from masthead.platforms.spec import PlatformSpec

SIGNATURE_HEADER = "X-Masthead-Signature"
REDELIVERY_HEADER = "X-Masthead-Redelivery"
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex hmac-sha256 of "t.body">`: the timestamp is signed too, so a
    receiver can refuse replays of old deliveries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


WEBHOOK = "webhook"


class WebhookPublisher(kit.Publisher):
    platform: ClassVar[str] = WEBHOOK

    def __init__(
        self, *, allow: frozenset[tuple[str, int]], timeout: float, only_allowed: bool = False
    ) -> None:
        self._session = GuardedSession(allow=allow, timeout=timeout, only_allowed=only_allowed)

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        return await self._deliver(ctx, position, redelivery=False)

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """Whether the lost delivery arrived cannot be asked: deliver again, same id. If this
        answer is lost too, the next attempt delivers again (Retryable here: ask later)."""
        try:
            return await self._deliver(ctx, position, redelivery=True)
        except kit.AnswerLost as exc:
            raise kit.Retryable(exc.message) from exc

    async def _deliver(
        self, ctx: kit.PublishContext, position: int, *, redelivery: bool
    ) -> kit.SentItem:
        url = str(ctx.target.get("url", ""))
        item = ctx.items[position]
        body = orjson.dumps(
            {
                "postSubmissionId": ctx.post_id,
                "accountId": str(ctx.account.id),
                "text": item.text,
                "mediaUrls": list(item.media_urls),
                "additionalPosts": [
                    {"text": extra.text, "mediaUrls": list(extra.media_urls)}
                    for extra in ctx.items[position + 1 :]
                ],
                "scheduledTime": ctx.scheduled_at,
                "publishedAt": datetime.now(UTC),
            },
            # orjson writes the UTC times as RFC 3339 with a Z, as isoformat() then replacing
            # "+00:00" did, at a quarter of the cost.
            option=orjson.OPT_UTC_Z,
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Masthead-Webhook/0.1",
            SIGNATURE_HEADER: sign(ctx.signing_secret, int(time.time()), body),
            # Receivers de-duplicate on this if they ever see a delivery twice.
            "X-Masthead-Delivery": ctx.post_id,
        }
        if redelivery:
            headers[REDELIVERY_HEADER] = "1"
        try:
            response = await self._session.post(url, body, headers)
        except BlockedDestination as exc:
            raise kit.Permanent(f"Webhook URL refused: {exc.reason}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            if connection_failed(exc):
                raise kit.Retryable(f"Webhook unreachable: {exc or type(exc).__name__}") from exc
            raise kit.AnswerLost(
                f"the webhook request was sent but no answer came back ({type(exc).__name__})"
            ) from exc
        if 200 <= response.status < 300:
            return kit.SentItem(remote_id=ctx.post_id, public_url=url)
        reason = f"Webhook answered {response.status} {response.reason}".rstrip()
        if response.status in RETRYABLE_STATUSES:
            raise kit.Retryable(reason, kit.retry_after(response.headers))
        if 300 <= response.status < 400:
            location = response.headers.get("location", "")
            raise kit.Permanent(f"{reason} to {location}; use the final URL as target.url")
        raise kit.Permanent(reason)

    async def aclose(self) -> None:
        await self._session.aclose()


def build(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> WebhookPublisher:
    if transport is not None:
        raise ValueError("the webhook publisher speaks aiohttp: it takes no httpx transport")
    return WebhookPublisher(
        allow=settings.fetch_allow,
        timeout=settings.webhook_timeout_seconds,
        only_allowed=settings.fetch_only_allowed,
    )


RULES = kit.PlatformRules(
    name="webhook",
    # Contract section 2: the webhook target pairs with "other"; "webhook" is accepted too.
    content_platforms=("other", "webhook"),
    text_or_media_required=False,  # PR: any content; the receiver decides
    media=kit.MediaCount(0, None),  # PR: any
    # The receiver decides: any accepted file, any number.
    files=kit.FileRules(max_videos=None, mixed=True),
    fields=(kit.FieldRule("url", kit.Kind.WEBHOOK_URL, required=True),),  # PR, contract section 4
)
"""What a post to webhook may carry; validation reads it through the registry."""


SPEC = PlatformSpec(name=WEBHOOK, label="Webhook", build=build, rules=RULES, connect="none")
