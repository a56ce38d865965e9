"""Section 9: the analytics routes serve what the collector stored, in the contract's shapes:
ranking with fallbacks, the window on publication time, cursors, 404s across users, totals,
the refresh and its limit."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from masthead.timeutil import iso, utcnow
from tests.api.conftest import ISO_MS
from tests.support.analytics import fail_checks, measure, publish
from tests.support.harness import Caller, Harness

H = timedelta(hours=1)
SCHEDULES = {"webhook": (H, 24 * H)}


async def _get(
    harness: Harness, caller: Caller, path: str, status: int = 200, **params: Any
) -> Any:
    response = await harness.client.get(path, params=params, headers=caller.headers)
    assert response.status_code == status, response.text
    return response.json()


async def _posts(harness: Harness, caller: Caller, texts: list[str], age: timedelta) -> list[str]:
    account = await harness.account(caller)
    return [
        (
            await publish(
                harness.db,
                caller,
                account,
                "webhook",
                [f"r-{text}"],
                utcnow() - age - n * timedelta(minutes=1),
                SCHEDULES,
                text=text,
            )
        )[0]
        for n, text in enumerate(texts)
    ]


async def test_top_posts_rank_by_the_metric_with_its_fallbacks_and_page_by_cursor(
    idle: Harness, ada: Caller
) -> None:
    a, b, c, d = await _posts(idle, ada, ["views", "plays", "impressions", "none"], 2 * H)
    now = utcnow()
    await measure(idle.db, a, {"viewsCount": "10"}, now - H)
    await measure(idle.db, a, {"viewsCount": "50", "likesCount": "1"}, now)
    await measure(idle.db, b, {"playsCount": "40", "impressionsCount": "900"}, now)
    await measure(idle.db, c, {"impressionsCount": "45"}, now)
    await measure(idle.db, d, {"likesCount": "7"}, now)
    body = await _get(idle, ada, "/v2/analytics")
    assert [item["id"] for item in body["items"]] == [a, c, b, d]
    first = body["items"][0]
    assert first["content"] == "views" and first["platform"] == "webhook"
    assert first["postSubmissionId"] == a and first["lastError"] is None
    assert re.match(ISO_MS, first["createdAt"]) and first["postUrl"].endswith("r-views")
    assert first["latestMetrics"]["metrics"] == {"viewsCount": "50", "likesCount": "1"}
    assert [s["metrics"]["viewsCount"] for s in first["metricsHistory"]] == ["10", "50"]
    assert "cursor" not in body
    page = await _get(idle, ada, "/v2/analytics", sortBy="likes_count", limit=1)
    assert [item["id"] for item in page["items"]] == [d]
    rest = await _get(
        idle, ada, "/v2/analytics", sortBy="likes_count", limit=2, cursor=page["cursor"]
    )
    assert [item["id"] for item in rest["items"]] == [a, b]  # then ties (0) newest first
    assert "cursor" in rest


async def test_only_measured_posts_in_the_window_appear(idle: Harness, ada: Caller) -> None:
    newer, older, unmeasured = await _posts(idle, ada, ["newer", "older", "none"], 2 * H)
    await measure(idle.db, older, {"viewsCount": "1"}, utcnow())
    await measure(idle.db, newer, {"viewsCount": "1"}, utcnow())
    since = iso(utcnow() - 2 * H - timedelta(seconds=30))
    body = await _get(idle, ada, "/v2/analytics", since=since)
    assert [item["id"] for item in body["items"]] == [newer]
    until = iso(utcnow() - 2 * H - timedelta(seconds=30))
    body = await _get(idle, ada, "/v2/analytics", until=until)
    assert [item["id"] for item in body["items"]] == [older]
    everything = await _get(idle, ada, "/v2/analytics")
    assert unmeasured not in [item["id"] for item in everything["items"]]


async def test_bad_parameters_are_422_naming_the_field(idle: Harness, ada: Caller) -> None:
    cases = [
        ({"sortBy": "best"}, "sortBy: must be one of views_count"),
        ({"limit": "0"}, "limit"),
        (
            {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            "since: must not be after until",
        ),
        ({"platform": "myspace"}, "platform: must be one of"),
        ({"cursor": "nope"}, "cursor: is not a cursor"),
        ({"accountId": "x1"}, "accountId: must be a numeric account id"),
    ]
    for params, message in cases:
        body = await _get(idle, ada, "/v2/analytics", 422, **params)
        assert body["message"].startswith(message), (params, body)


async def test_published_posts_include_unmeasured_ones_with_search_and_paging(
    idle: Harness, ada: Caller
) -> None:
    a, b, c = await _posts(idle, ada, ["Launch day", "launch recap", "other"], H)
    await measure(idle.db, a, {"likesCount": "3"}, utcnow())
    body = await _get(idle, ada, "/v2/published-posts", query="LAUNCH")
    assert body["count"] == 2
    assert [(i["id"], i["latestMetrics"]) for i in body["items"]] == [
        (
            a,
            {
                "fetchedAt": body["items"][0]["latestMetrics"]["fetchedAt"],
                "metrics": {"likesCount": "3"},
            },
        ),
        (b, None),
    ]
    oldest = await _get(idle, ada, "/v2/published-posts", sortBy="oldest", offset=1, limit=1)
    assert ([i["id"] for i in oldest["items"]], oldest["count"]) == ([b], 3)
    assert (await _get(idle, ada, "/v2/published-posts", 422, sortBy="top"))["message"].startswith(
        "sortBy"
    )
    assert c


async def test_post_analytics_shapes_and_404s_across_users(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    measured, pending, gone = await _posts(idle, ada, ["m", "p", "g"], 2 * H)
    now = utcnow()
    await measure(idle.db, measured, {"likesCount": "44"}, now, raw={"like_count": 44})
    await fail_checks(idle.db, gone, "Post no longer exists on webhook", now)
    body = await _get(idle, ada, f"/v2/posts/{measured}/analytics")
    assert body["metrics"] == {"likesCount": "44"} and body["platformMetrics"] == {"like_count": 44}
    assert body["lastFetchedAt"] == iso(now) and body["lastError"] is None
    assert [s["metrics"] for s in body["history"]] == [{"likesCount": "44"}]
    assert body["id"] == measured and body["platform"] == "webhook"
    assert re.match(ISO_MS, body["nextFetchAt"])
    failed = await _get(idle, ada, f"/v2/posts/{gone}/analytics")
    assert (failed["metrics"], failed["lastFetchedAt"], failed["nextFetchAt"]) == (None, None, None)
    assert failed["lastError"] == "Post no longer exists on webhook"
    waiting = await _get(idle, ada, f"/v2/posts/{pending}/analytics", 404)
    assert waiting == {"message": "Analytics have not yet synced for this post"}
    for other in (
        await _get(idle, bob, f"/v2/posts/{measured}/analytics", 404),
        await _get(idle, ada, "/v2/posts/not-an-id/analytics", 404),
    ):
        assert other == {"message": "Post not found"}
    response = await idle.client.post(
        f"/v2/posts/{measured}/analytics/refresh", headers=bob.headers
    )
    assert response.status_code == 404


async def test_a_scheduled_post_is_not_published(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    later = iso(utcnow() + 24 * H)
    response = await idle.create_post(
        ada,
        {
            "post": {
                "accountId": account,
                "content": {"text": "soon", "mediaUrls": [], "platform": "other"},
                "target": {"targetType": "webhook", "url": "https://hooks.example.com/x"},
            },
            "scheduledTime": later,
        },
    )
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    body = await _get(idle, ada, f"/v2/posts/{post_id}/analytics", 404)
    assert body == {"message": "Post is not published"}


async def test_platform_totals_and_summary_sum_latest_snapshots(idle: Harness, ada: Caller) -> None:
    a, b, _ = await _posts(idle, ada, ["a", "b", "c"], H)
    now = utcnow()
    await measure(idle.db, a, {"viewsCount": "5", "likesCount": "1"}, now - H)
    await measure(idle.db, a, {"viewsCount": "10", "likesCount": "2"}, now)
    await measure(idle.db, b, {"viewsCount": "20", "pinterestSaveRate": 0.5}, now)
    platforms = await _get(idle, ada, "/v2/analytics/platforms")
    assert platforms == {
        "items": [
            {
                "platform": "webhook",
                "postsCount": 3,
                "measuredPostsCount": 2,
                "totals": {"viewsCount": "30", "likesCount": "2"},
            }
        ]
    }
    summary = await _get(idle, ada, "/v2/analytics/summary")
    assert (summary["postsCount"], summary["measuredPostsCount"]) == (3, 2)
    assert summary["totals"] == {"viewsCount": "30", "likesCount": "2"}
    assert summary["topPost"]["id"] == b
    assert re.match(ISO_MS, summary["since"]) and re.match(ISO_MS, summary["until"])
    empty = await _get(
        idle, ada, "/v2/analytics/summary", since=iso(now + H), until=iso(now + 2 * H)
    )
    assert (empty["postsCount"], empty["topPost"], empty["totals"]) == (0, None, {})


async def test_refresh_is_queued_once_per_fifteen_minutes(idle: Harness, ada: Caller) -> None:
    [post_id] = await _posts(idle, ada, ["r"], H)
    path = f"/v2/posts/{post_id}/analytics/refresh"
    response = await idle.client.post(path, headers=ada.headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"id": post_id, "status": "queued"}
    again = await idle.client.post(path, headers=ada.headers)
    assert again.status_code == 429
    assert re.match(r"^Rate limit exceeded, retry in \d+ seconds$", again.json()["message"])
    assert 800 < int(again.headers["Retry-After"]) <= 900
