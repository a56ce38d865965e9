"""The platforms this server has: the one list. A platform missing here is refused at request
time; everything that lists platforms (the API schema, validation's names, the CLI, the web UI,
the budgets) derives from `PLATFORMS`."""

from __future__ import annotations

from masthead.config import Settings
from masthead.domain.budgets import PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.platforms import (
    bluesky,
    facebook,
    instagram,
    linkedin,
    pinterest,
    threads,
    tiktok,
    twitter,
    webhook,
    youtube,
)
from masthead.platforms.base import Publisher
from masthead.platforms.spec import PlatformSpec

PLATFORMS: tuple[PlatformSpec, ...] = (
    twitter.SPEC,
    linkedin.SPEC,
    facebook.SPEC,
    instagram.SPEC,
    tiktok.SPEC,
    pinterest.SPEC,
    threads.SPEC,
    bluesky.SPEC,
    youtube.SPEC,
    webhook.SPEC,
)
"""In the contract's order (section 1), which the OpenAPI document's enums follow."""

SPECS: dict[str, PlatformSpec] = {spec.name: spec for spec in PLATFORMS}
TARGET_TYPES: tuple[str, ...] = tuple(SPECS)
"""Every `targetType`, and every platform an account can belong to."""
SOCIAL: tuple[str, ...] = tuple(spec.name for spec in PLATFORMS if spec.connect != "none")
"""The social networks (every target but the webhook)."""
AVAILABLE: frozenset[str] = frozenset(TARGET_TYPES)
BUDGETS: dict[str, PlatformBudgets] = {
    spec.name: spec.budgets for spec in PLATFORMS if spec.budgets != PlatformBudgets()
}
"""Posts per account and per app, for the dispatch engine (domain/budgets.py)."""
COMMENTS: dict[str, CommentRules] = {
    spec.name: spec.comments for spec in PLATFORMS if spec.comments is not None
}
"""The platforms with comments, and what their comments accept (contract section 10)."""


def build_publishers(settings: Settings) -> dict[str, Publisher]:
    return {spec.name: spec.build(settings) for spec in PLATFORMS}
