"""The webhook target: a signed POST of the post to the user's URL (contract section 4)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import orjson

from masthead.net.client import safe_async_client
from masthead.net.guard import BlockedDestination, check_url
from masthead.platforms.base import (
    OutcomeUnknown,
    Permanent,
    PublishContext,
    Publisher,
    Retryable,
    SentItem,
)

SIGNATURE_HEADER = "X-Masthead-Signature"
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex hmac-sha256 of "t.body">`: the timestamp is signed too, so a
    receiver can refuse replays of old deliveries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
        except ValueError:
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WebhookPublisher(Publisher):
    platform: ClassVar[str] = "webhook"

    def __init__(
        self, *, allow: frozenset[tuple[str, int]], timeout: float, only_allowed: bool = False
    ) -> None:
        self._allow = allow
        self._client = safe_async_client(
            allow=allow,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            only_allowed=only_allowed,
        )

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        url = str(ctx.target.get("url", ""))
        try:
            check_url(url, self._allow)
        except BlockedDestination as exc:
            raise Permanent(f"Webhook URL refused: {exc.reason}") from exc
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
                "scheduledTime": ctx.scheduled_at.isoformat().replace("+00:00", "Z")
                if ctx.scheduled_at
                else None,
                "publishedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Masthead-Webhook/0.1",
            SIGNATURE_HEADER: sign(ctx.signing_secret, int(time.time()), body),
            # Receivers de-duplicate on this if they ever see a delivery twice.
            "X-Masthead-Delivery": ctx.post_id,
        }
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except BlockedDestination as exc:
            raise Permanent(f"Webhook URL refused: {exc.reason}") from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Retryable(f"Webhook unreachable: {exc or type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise OutcomeUnknown(
                f"the webhook request was sent but no answer came back ({type(exc).__name__})"
            ) from exc
        if 200 <= response.status_code < 300:
            return SentItem(remote_id=ctx.post_id, public_url=url)
        reason = f"Webhook answered {response.status_code} {response.reason_phrase}".rstrip()
        if response.status_code in RETRYABLE_STATUSES:
            raise Retryable(reason, retry_after_seconds(response))
        if 300 <= response.status_code < 400:
            location = response.headers.get("location", "")
            raise Permanent(f"{reason} to {location}; use the final URL as target.url")
        raise Permanent(reason)

    async def aclose(self) -> None:
        await self._client.aclose()
