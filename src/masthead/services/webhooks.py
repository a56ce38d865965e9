"""Event webhook subscriptions: create, change, delete, rotate the secret, the delivery log
and redelivery. One place for the rules, whichever door (REST, the settings UI) asks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from masthead.domain.errors import ValidationFailed
from masthead.domain.events import parse_events
from masthead.net.guard import BlockedDestination, check_url
from masthead.security import Secrets, new_signing_secret
from masthead.store import deliveries, webhooks
from masthead.store.database import Database
from masthead.store.webhooks import SubscriptionRow
from masthead.timeutil import utcnow

MAX_URL = 2048
MAX_DESCRIPTION = 500
DELIVERIES_LIMIT = 50


class NotFound(Exception):
    """No such subscription or delivery for this user (another user's alike: 404)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A new subscription or a rotated secret: the only times the secret is shown."""

    row: SubscriptionRow
    secret: str


def checked_url(url: str, allow: frozenset[tuple[str, int]]) -> str:
    """The SSRF guard at creation (422); it runs again at every delivery, on the address."""
    if len(url) > MAX_URL:
        raise ValidationFailed.one("url", f"must be at most {MAX_URL} characters")
    try:
        check_url(url, allow)
    except BlockedDestination as exc:
        raise ValidationFailed.one("url", f"is refused: {exc.reason}") from None
    return url


def checked_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed.one("description", f"must be at most {MAX_DESCRIPTION} characters")
    return description


async def create(
    db: Database,
    secrets: Secrets,
    allow: frozenset[tuple[str, int]],
    user_id: str,
    *,
    url: str,
    events: list[str],
    description: str = "",
) -> Subscription:
    url = checked_url(url, allow)
    names = parse_events(events)
    description = checked_description(description)
    secret = new_signing_secret()
    sealed = secrets.encrypt(secret)
    row = await db.write(
        lambda c: webhooks.create(
            c,
            subscription_id="wh_" + uuid.uuid4().hex,
            user_id=user_id,
            url=url,
            events=names,
            description=description,
            sealed_secret=sealed,
            now=utcnow(),
        )
    )
    return Subscription(row, secret)


async def list_for(db: Database, user_id: str) -> list[SubscriptionRow]:
    return await db.read(lambda c: webhooks.list_for(c, user_id))


async def get(db: Database, user_id: str, subscription_id: str) -> SubscriptionRow:
    row = await db.read(lambda c: webhooks.get(c, user_id, subscription_id))
    if row is None:
        raise NotFound()
    return row


async def change(
    db: Database,
    allow: frozenset[tuple[str, int]],
    user_id: str,
    subscription_id: str,
    change: webhooks.Change,
) -> SubscriptionRow:
    checked = webhooks.Change(
        url=None if change.url is None else checked_url(change.url, allow),
        events=None if change.events is None else parse_events(change.events),
        description=None if change.description is None else checked_description(change.description),
        enabled=change.enabled,
    )
    row = await db.write(lambda c: webhooks.change(c, user_id, subscription_id, checked, utcnow()))
    if row is None:
        raise NotFound()
    return row


async def delete(db: Database, user_id: str, subscription_id: str) -> None:
    if not await db.write(lambda c: webhooks.remove(c, user_id, subscription_id)):
        raise NotFound()


async def rotate_secret(
    db: Database, secrets: Secrets, user_id: str, subscription_id: str
) -> Subscription:
    """A new secret; deliveries signed from now on use it (those in flight may not)."""
    secret = new_signing_secret()
    sealed = secrets.encrypt(secret)
    if not await db.write(
        lambda c: webhooks.set_secret(c, user_id, subscription_id, sealed, utcnow())
    ):
        raise NotFound()
    return Subscription(await get(db, user_id, subscription_id), secret)


async def delivery_log(
    db: Database,
    user_id: str,
    subscription_id: str,
    *,
    before: int | None = None,
    limit: int = DELIVERIES_LIMIT,
) -> tuple[list[deliveries.DeliveryRow], int | None]:
    """Newest first; returns the cursor of the next page (the last id shown), if any."""
    await get(db, user_id, subscription_id)
    rows = await db.read(
        lambda c: deliveries.list_for(c, subscription_id, before=before, limit=limit + 1)
    )
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


async def redeliver(db: Database, user_id: str, subscription_id: str, delivery_id: int) -> None:
    """The same event, same id, sent again with a fresh retry window."""
    await get(db, user_id, subscription_id)
    if not await db.write(
        lambda c: deliveries.redeliver(c, subscription_id, delivery_id, utcnow())
    ):
        raise NotFound()


async def switched_off(db: Database, user_id: str) -> list[SubscriptionRow]:
    """Subscriptions disabled for failing the whole window: the settings pages' banner."""
    return await db.read(lambda c: webhooks.disabled_for_failing(c, user_id))
