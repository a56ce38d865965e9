"""The platforms this server has: the one list. A platform missing here is refused at request
time; everything that lists platforms (the API schema, validation's rules, the CLI, the web UI,
the budgets) derives from `PLATFORMS`."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from masthead.config import Settings
from masthead.domain.analytics import Checkpoints, checkpoints_for
from masthead.domain.budgets import PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.domain.rules import PlatformRules, thread_platforms
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
RULES: dict[str, PlatformRules] = {spec.name: spec.rules for spec in PLATFORMS}
"""What each target accepts, keyed by `targetType`; services pass it to validation."""
THREAD_PLATFORMS: tuple[str, ...] = thread_platforms(RULES)
"""Targets that accept `additionalPosts` (twitter, threads, bluesky)."""
BUDGETS: dict[str, PlatformBudgets] = {
    spec.name: spec.budgets for spec in PLATFORMS if spec.budgets != PlatformBudgets()
}
"""Posts per account and per app, for the dispatch engine (domain/budgets.py)."""
COMMENTS: dict[str, CommentRules] = {
    spec.name: spec.comments for spec in PLATFORMS if spec.comments is not None
}
"""The platforms with comments, and what their comments accept (contract section 10)."""


def build_publishers(
    settings: Settings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> dict[str, Publisher]:
    """Every publisher; `transports` (by platform name) serve some of them without a network."""
    chosen = transports or {}
    return {spec.name: spec.build(settings, chosen.get(spec.name)) for spec in PLATFORMS}


def analytics_checkpoints(settings: Settings) -> dict[str, Checkpoints]:
    """Each social platform's collection schedule; raises `CheckpointSpecError` for a bad
    setting (checked at start-up)."""
    return {
        spec.name: checkpoints_for(
            spec.name,
            spec.analytics_checkpoints,
            settings.analytics_checkpoints,
            settings.analytics_platform_checkpoints,
        )
        for spec in PLATFORMS
        if spec.connect != "none"
    }
