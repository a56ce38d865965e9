"""Section 2: GET /v2/posts, its window, filters, paging and item shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from masthead.timeutil import iso
from tests.api.conftest import ISO_MS, created_id, hook_post, later
from tests.support.harness import Caller, Harness
from tests.support.receiver import Fault, Receiver

FAR = {"since": "2000-01-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"}


async def list_posts(harness: Harness, caller: Caller, **params: Any) -> dict[str, Any]:
    response = await harness.client.get("/v2/posts", params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["id"] for item in items]


async def test_no_posts_is_an_empty_list_without_cursor(idle: Harness, ada: Caller) -> None:
    assert await list_posts(idle, ada) == {"items": []}


async def test_a_scheduled_item_has_the_compat_shape(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account, text="Hi", scheduledTime="2099-01-02T03:04:05Z")
    body["post"]["content"]["mediaUrls"] = ["https://cdn.example.com/a.jpg"]
    post_id = await created_id(idle, ada, body)
    listed = await list_posts(idle, ada, **FAR)
    assert listed == {
        "items": [
            {
                "id": post_id,
                "postTime": "2099-01-02T03:04:05.000Z",
                "platform": "webhook",
                "text": "Hi",
                "mediaUrls": ["https://cdn.example.com/a.jpg"],
                "state": {"type": "scheduled"},
            }
        ]
    }


async def test_published_and_failed_items_carry_url_and_error(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    receiver.script.append(Fault(status=404))
    failed = await created_id(harness, caller, hook_post(account, url=receiver.url, text="bad"))
    assert (await harness.wait_status(caller, failed, {"failed", "published"}))["status"] == (
        "failed"
    )
    published = await created_id(harness, caller, hook_post(account, url=receiver.url))
    assert (await harness.wait_status(caller, published, {"failed", "published"}))["status"] == (
        "published"
    )
    scheduled = await created_id(harness, caller, hook_post(account, scheduledTime=later()))

    items = {item["id"]: item for item in (await list_posts(harness, caller))["items"]}
    assert items[published]["state"] == {"type": "published", "postUrl": receiver.url}
    assert items[failed]["state"]["type"] == "failed"
    assert "404" in items[failed]["state"]["errorMessage"]
    assert set(items[failed]["state"]) == {"type", "errorMessage"}
    assert items[scheduled]["state"] == {"type": "scheduled"}
    for item in items.values():
        assert re.match(ISO_MS, item["postTime"])

    def only(*statuses: str) -> dict[str, object]:
        return {"status": list(statuses)}

    assert ids(await list_posts(harness, caller, **only("published"))) == [published]
    assert ids(await list_posts(harness, caller, **only("failed"))) == [failed]
    assert ids(await list_posts(harness, caller, **only("scheduled"))) == [scheduled]
    both = ids(await list_posts(harness, caller, **only("published", "failed")))
    assert sorted(both) == sorted([published, failed])


async def test_the_list_knows_three_state_types_and_each_filter_returns_only_its_own(
    idle: Harness, ada: Caller
) -> None:
    """No worker runs here: an immediate post stays waiting (`in-progress` for its status
    route), which the list, with the contract's three types, shows as scheduled."""
    account = await idle.account(ada)
    waiting = await created_id(idle, ada, hook_post(account))
    scheduled = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    assert (await idle.status(ada, waiting))["status"] == "in-progress"

    listed = await list_posts(idle, ada, status="scheduled")
    others = [await list_posts(idle, ada, status=s) for s in ("published", "failed")]

    assert sorted(ids(listed)) == sorted([waiting, scheduled])
    assert {item["state"]["type"] for item in listed["items"]} == {"scheduled"}
    assert [o["items"] for o in others] == [[], []]
    every = (await list_posts(idle, ada))["items"]
    assert {item["state"]["type"] for item in every} == {"scheduled"}


async def test_an_unknown_status_filter_is_a_422(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get(
        "/v2/posts", params={"status": "cancelled"}, headers=ada.headers
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("status")


async def test_the_platform_filter_is_repeatable(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account))
    assert ids(await list_posts(idle, ada, platform="webhook")) == [post_id]
    assert ids(await list_posts(idle, ada, platform="twitter")) == []
    assert ids(await list_posts(idle, ada, platform=["twitter", "webhook"])) == [post_id]


async def test_an_unknown_platform_filter_is_a_422(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get(
        "/v2/posts", params={"platform": "myspace"}, headers=ada.headers
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("platform")


async def test_the_default_window_is_a_week_either_side_of_now(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    now_id = await created_id(idle, ada, hook_post(account))
    inside = await created_id(idle, ada, hook_post(account, scheduledTime=later(6)))
    await created_id(idle, ada, hook_post(account, scheduledTime=later(8)))
    assert ids(await list_posts(idle, ada)) == [inside, now_id]


async def test_since_and_until_bound_the_post_time(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    times = ["2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z", "2099-01-03T00:00:00Z"]
    made = [await created_id(idle, ada, hook_post(account, scheduledTime=t)) for t in times]
    window = {"since": "2099-01-01T12:00:00Z", "until": "2099-01-03T00:00:00+00:00"}
    assert ids(await list_posts(idle, ada, **window)) == [made[2], made[1]]
    offset = {"since": "2099-01-02T02:00:00+02:00", "until": "2099-01-02T02:00:00+02:00"}
    assert ids(await list_posts(idle, ada, **offset)) == [made[1]]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"until": "2099-01-01T00:00:00"},
        {"limit": "0"},
        {"limit": "251"},
        {"limit": "-1"},
        {"limit": "ten"},
    ],
)
async def test_bad_query_values_are_a_422_naming_the_parameter(
    idle: Harness, ada: Caller, params: dict[str, str]
) -> None:
    response = await idle.client.get("/v2/posts", params=params, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["message"].startswith(next(iter(params)))


async def test_limit_bounds_one_and_250_are_accepted(idle: Harness, ada: Caller) -> None:
    for limit in (1, 250):
        response = await idle.client.get("/v2/posts", params={"limit": limit}, headers=ada.headers)
        assert response.status_code == 200


@pytest.mark.parametrize("cursor", ["garbage", "e30", "!!!", "eyJ0IjoxfQ"])
async def test_a_cursor_not_made_by_the_server_is_a_422(
    idle: Harness, ada: Caller, cursor: str
) -> None:
    response = await idle.client.get("/v2/posts", params={"cursor": cursor}, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["message"].startswith("cursor")


async def test_cursor_paging_walks_every_post_newest_first_without_duplicates(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    base = datetime(2099, 5, 1, tzinfo=UTC)
    # Ties on postTime too: the cursor must break them by id, not skip or repeat.
    times = [base + timedelta(hours=h) for h in (0, 1, 1, 1, 2, 3, 3, 4)]
    made = {}
    for when in times:
        made[await created_id(idle, ada, hook_post(account, scheduledTime=when.isoformat()))] = when

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, object] = {**FAR, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = await list_posts(idle, ada, **params)
        pages += 1
        seen += ids(body)
        cursor = body.get("cursor")
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert pages == 3
    assert len(seen) == len(set(seen)) == len(made)
    post_times = [made[post_id] for post_id in seen]
    assert post_times == sorted(post_times, reverse=True)


async def test_an_exactly_full_last_page_has_no_cursor(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    for _ in range(2):
        await created_id(idle, ada, hook_post(account))
    body = await list_posts(idle, ada, limit=2)
    assert len(ids(body)) == 2
    assert "cursor" not in body


async def test_another_users_posts_are_never_listed(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    await created_id(idle, bob, hook_post(await idle.account(bob)))
    mine = await created_id(idle, ada, hook_post(await idle.account(ada)))
    assert ids(await list_posts(idle, ada)) == [mine]


async def test_post_time_of_an_immediate_post_is_when_it_was_made(
    idle: Harness, ada: Caller
) -> None:
    before = datetime.now(UTC)
    await created_id(idle, ada, hook_post(await idle.account(ada)))
    item = (await list_posts(idle, ada))["items"][0]
    assert iso(before - timedelta(seconds=1)) <= item["postTime"] <= iso(datetime.now(UTC))
