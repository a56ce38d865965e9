"""What platform comment tests share."""

from __future__ import annotations

from collections.abc import Sequence

from masthead.platforms.base import PostGone, RemoteComment


def by_id(comments: Sequence[RemoteComment] | PostGone) -> dict[str, RemoteComment]:
    """The comments a platform listed, by their platform id (a post still there)."""
    assert not isinstance(comments, PostGone), comments
    return {c.platform_comment_id: c for c in comments}
