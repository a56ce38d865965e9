"""How part 9's per-platform rows judge the batch bound, and what Bluesky's row writes on the
PDS or says when it cannot run (pure functions)."""

from __future__ import annotations

from typing import Any

from bench.metrics_bluesky import WRITES_PER_CALL, post_writes, unavailable_reason
from bench.metrics_read import request_goal, within_bound

from masthead.platforms.metrics import chunked
from tests.fakes.bluesky_appview import MAX_URIS, POST


def test_the_goal_is_one_request_per_batch_or_per_post() -> None:
    assert request_goal(10_000, MAX_URIS) == 400
    assert request_goal(10_001, MAX_URIS) == 401
    assert request_goal(30, MAX_URIS) == 2
    assert request_goal(10_000, 100) == 100
    # One post a request: the platform's requests per post (Instagram: media and insights).
    assert request_goal(500, 1) == 500
    assert request_goal(500, 1, requests_per_post=2) == 1_000
    # A many-ids platform is not charged per post.
    assert request_goal(50, MAX_URIS, requests_per_post=2) == 2


def _row(**changed: Any) -> dict[str, Any]:
    return {"posts": 100, "requests": 4, "goal": 4, "snapshots": 100, "invalid": [], **changed}


def test_a_row_is_within_bound_only_with_every_snapshot_and_nothing_refused() -> None:
    assert within_bound(_row())
    assert within_bound(_row(requests=3))
    assert not within_bound(_row(requests=5))
    assert not within_bound(_row(snapshots=99))
    assert not within_bound(_row(invalid=["app.bsky.feed.getPosts uris must not have ..."]))


def test_posts_are_written_in_calls_the_pds_accepts() -> None:
    calls = [post_writes(numbers) for numbers in chunked(range(450), WRITES_PER_CALL)]
    assert [len(writes) for writes in calls] == [200, 200, 50]
    first = calls[0][0]
    assert first["$type"] == "com.atproto.repo.applyWrites#create"
    assert first["collection"] == POST and first["value"]["$type"] == POST
    assert [w["value"]["text"] for w in calls[2]][-1] == "post 449"


def test_a_missing_pds_says_why_in_one_line() -> None:
    npm = RuntimeError("npm is not installed: the real Bluesky PDS cannot be installed")
    assert unavailable_reason(npm) == str(npm)
    failed = RuntimeError("tools/bluesky-pds/install.sh failed:\nnpm ERR! code E404\n\n")
    assert (
        unavailable_reason(failed) == "tools/bluesky-pds/install.sh failed: ... npm ERR! code E404"
    )
    assert unavailable_reason(RuntimeError()) == "RuntimeError"
