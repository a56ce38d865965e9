"""What a metrics or comments reader is handed, for tests that call one directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from masthead.platforms.base import (
    AccountContext,
    AccountInfo,
    Metric,
    MetricsResult,
    MetricsSnapshot,
    PublishedPost,
)
from masthead.platforms.oauth import credentials_from_token_response
from masthead.timeutil import utcnow
from tests.support.credentials import Credentials


def account(
    platform: str,
    credentials: dict[str, Any],
    external_id: str = "1",
    username: str = "someone",
    **stored: Any,
) -> AccountContext:
    """An account whose store holds `credentials`; `stored` are the credentials the account
    row carries (Meta's never-ending Page token is read from there)."""
    info = AccountInfo(
        id=1, platform=platform, external_id=external_id, username=username, credentials=stored
    )
    return AccountContext(info, Credentials(dict(credentials)))


def signed_in(
    platform: str, tokens: dict[str, Any], external_id: str = "1", username: str = "someone"
) -> AccountContext:
    """An account holding what the platform's OAuth token endpoint answered (`tokens`)."""
    return account(platform, credentials_from_token_response(tokens), external_id, username)


def published(
    remote_id: str,
    post_id: str | None = None,
    data: dict[str, Any] | None = None,
    **target: Any,
) -> PublishedPost:
    """A post Masthead published as `remote_id` (its post id defaults to `p-<remote_id>`),
    with `target` as created and `data` as its send stored."""
    return PublishedPost(
        post_id=post_id or f"p-{remote_id}",
        remote_id=remote_id,
        public_url=None,
        published_at=utcnow(),
        target=target,
        data=data or {},
    )


def measured(result: Mapping[str, MetricsResult]) -> dict[str, Mapping[str, Metric]]:
    """The normalised metrics of each post a reader answered with a snapshot, by post id."""
    return {
        post_id: answer.metrics
        for post_id, answer in result.items()
        if isinstance(answer, MetricsSnapshot)
    }
