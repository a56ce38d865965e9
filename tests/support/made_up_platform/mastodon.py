"""Mastodon, made up: the least a platform module holds."""

from __future__ import annotations

from typing import Any

import httpx

from masthead.config import Settings
from masthead.domain.budgets import Budget, PlatformBudgets
from masthead.domain.rules import Count, MediaCount, PlatformRules, TextLimit
from masthead.platforms.base import PublishContext, Publisher, SentItem
from masthead.platforms.spec import PlatformSpec


class MastodonPublisher(Publisher):
    platform = "mastodon"

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        raise NotImplementedError


def build(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Publisher:
    return MastodonPublisher()


RULES = PlatformRules(
    name="mastodon",
    content_platforms=("mastodon",),
    text_limits=(TextLimit(500, Count.CODE_POINTS),),
    media=MediaCount(0, 4),
)

SPEC = PlatformSpec(
    name="mastodon",
    label="Mastodon",
    build=build,
    rules=RULES,
    budgets=PlatformBudgets(account=Budget(300, 300)),
)
