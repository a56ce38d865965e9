"""Every fact about one platform, in the platform's own module (`SPEC = PlatformSpec(...)`).

The registry lists the specs; everything that needs a platform's name, label, settings, doc
page, subaccounts or budgets (the API schema, the CLI, the account cards, posting checks, the
dispatch engine) reads them from there, so a new platform is its module and one registry line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import httpx

from masthead.config import OAuthApp, Settings
from masthead.domain.budgets import PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.domain.rules import PlatformRules
from masthead.platforms.base import Publisher

Connect = Literal["oauth", "credentials", "none"]
"""How an account is connected from the web UI: through the browser (OAuth), with a form of
credentials (Bluesky's handle and app password), or not at all (webhook)."""


@dataclass(frozen=True, slots=True)
class Subaccount:
    """A page, organization, board or playlist an account posts to."""

    kind: str
    """What `subaccounts.kind` says in the database: page, organization, board, playlist."""
    target_field: str | None = None
    """The target field that names one (`pageId`), checked against the account's subaccounts
    when a post is created; None when posting does not name one that way."""


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    name: str
    """The contract's `targetType` and the accounts' `platform`."""
    label: str
    """What people call it (the web UI's cards and filters)."""
    build: Callable[[Settings, httpx.AsyncBaseTransport | None], Publisher]
    """The publisher from the settings; a transport (tests: a fake in-process) replaces the
    network for its HTTP client."""
    rules: PlatformRules
    """What a post to it may carry (the machinery is `domain/rules.py`); validation reads it
    through the registry's `RULES`."""
    connect: Connect = "oauth"
    settings_prefix: str = ""
    """MASTHEAD_<PREFIX>_* (`x` for twitter); the platform's name when empty."""
    doc: str = ""
    """Its page in docs/platforms/ (without .md); the platform's name when empty."""
    subaccount: Subaccount | None = None
    budgets: PlatformBudgets = field(default_factory=PlatformBudgets)
    """Posts per account and per app (domain/budgets.py; MASTHEAD_RATE_BUDGETS overrides)."""
    comments: CommentRules | None = None
    """What its comments accept; None: the platform has no comments (contract section 10)."""
    analytics_checkpoints: tuple[timedelta, ...] | None = None
    """When its posts' metrics are read after publishing, where the contract's default does
    not suit it (domain/analytics.py; MASTHEAD_ANALYTICS_CHECKPOINTS* override)."""

    @property
    def prefix(self) -> str:
        return self.settings_prefix or self.name

    @property
    def doc_page(self) -> str:
        return self.doc or self.name

    @property
    def client_id_setting(self) -> str:
        return f"MASTHEAD_{self.prefix.upper()}_CLIENT_ID"

    def oauth_app(self, settings: Settings) -> OAuthApp | None:
        return settings.oauth_app(self.prefix)
