"""Section 5: scheduled posts listed, read, edited and cancelled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ISO_MS, created_id, hook_post, later
from tests.support.harness import Caller, Harness

NOT_FOUND = {"message": "Schedule not found"}
UNKNOWN = "00000000-0000-0000-0000-000000000000"


async def schedules(harness: Harness, caller: Caller, **params: Any) -> dict[str, Any]:
    response = await harness.client.get("/v2/schedules", params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(harness: Harness, caller: Caller, post_id: str, body: Any) -> Any:
    return await harness.client.patch(f"/v2/schedules/{post_id}", json=body, headers=caller.headers)


async def test_no_schedules_is_an_empty_list_with_count_zero(idle: Harness, ada: Caller) -> None:
    assert await schedules(idle, ada) == {"items": [], "count": "0"}


async def test_a_schedule_item_has_the_compat_shape(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, username="hooky")
    body = hook_post(account, text="Draft", scheduledTime="2099-03-11T17:30:00+02:00")
    post_id = await created_id(idle, ada, body)
    listed = await schedules(idle, ada)
    assert listed == {
        "items": [
            {
                "id": post_id,
                "scheduledAt": "2099-03-11T15:30:00.000Z",
                "draft": body["post"],
                "account": {
                    "id": account,
                    "name": "Hooky",
                    "username": "hooky",
                    "profileImageUrl": None,
                    "subaccountId": None,
                    "subId": None,
                    "subaccountName": None,
                },
            }
        ],
        "count": "1",
    }
    one = await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert one.status_code == 200
    assert one.json() == {"schedule": listed["items"][0]}


async def test_only_future_scheduled_posts_are_listed_soonest_first(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    await created_id(idle, ada, hook_post(account))  # immediate: not a schedule
    late = await created_id(idle, ada, hook_post(account, scheduledTime=later(3)))
    soon = await created_id(idle, ada, hook_post(account, scheduledTime=later(1)))
    mid = await created_id(idle, ada, hook_post(account, scheduledTime=later(2)))
    listed = await schedules(idle, ada)
    assert [item["id"] for item in listed["items"]] == [soon, mid, late]
    assert listed["count"] == "3"
    assert isinstance(listed["count"], str)
    times = [item["scheduledAt"] for item in listed["items"]]
    assert all(re.match(ISO_MS, t) for t in times)


async def test_schedules_page_with_a_cursor_and_count_the_whole_set(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    base = datetime(2099, 6, 1, tzinfo=UTC)
    times = [base + timedelta(minutes=m) for m in (0, 5, 5, 5, 10, 20, 20)]
    for when in times:
        await created_id(idle, ada, hook_post(account, scheduledTime=when.isoformat()))
    seen: list[str] = []
    stamps: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = await schedules(idle, ada, **params)
        pages += 1
        assert page["count"] == "7"
        seen += [item["id"] for item in page["items"]]
        stamps += [item["scheduledAt"] for item in page["items"]]
        cursor = page.get("cursor")
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert stamps == sorted(stamps)


async def test_schedules_default_limit_is_20(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    for day in range(21):
        await created_id(idle, ada, hook_post(account, scheduledTime=later(1 + day)))
    page = await schedules(idle, ada)
    assert len(page["items"]) == 20
    assert page["count"] == "21"
    assert "cursor" in page


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"cursor": "nonsense"}])
async def test_schedules_bad_query_is_a_422(
    idle: Harness, ada: Caller, params: dict[str, str]
) -> None:
    response = await idle.client.get("/v2/schedules", params=params, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["message"].startswith(next(iter(params)))


async def test_schedules_limit_100_is_accepted(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/schedules?limit=100", headers=ada.headers)
    assert response.status_code == 200


async def test_another_users_schedules_are_not_listed(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    await created_id(idle, bob, hook_post(await idle.account(bob), scheduledTime=later()))
    assert await schedules(idle, ada) == {"items": [], "count": "0"}


async def test_an_unknown_schedule_is_a_404(idle: Harness, ada: Caller) -> None:
    for schedule_id in (UNKNOWN, "slots", "x"):
        response = await idle.client.get(f"/v2/schedules/{schedule_id}", headers=ada.headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


async def test_an_immediate_post_is_not_a_schedule(idle: Harness, ada: Caller) -> None:
    post_id = await created_id(idle, ada, hook_post(await idle.account(ada)))
    response = await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_another_users_schedule_is_a_404_to_read_patch_and_delete(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    when = later()
    post_id = await created_id(idle, bob, hook_post(await idle.account(bob), scheduledTime=when))
    read = await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert (read.status_code, read.json()) == (404, NOT_FOUND)
    moved = await patch(idle, ada, post_id, {"patch": {"scheduledTime": later(2)}})
    assert (moved.status_code, moved.json()) == (404, NOT_FOUND)
    deleted = await idle.client.delete(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert (deleted.status_code, deleted.json()) == (404, NOT_FOUND)
    still = await idle.client.get(f"/v2/schedules/{post_id}", headers=bob.headers)
    assert still.status_code == 200
    assert still.json()["schedule"]["scheduledAt"] == when.replace("Z", ".000Z")


async def test_patch_replaces_the_whole_draft(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    original = hook_post(account, text="Old", scheduledTime=later())
    original["post"]["content"]["mediaUrls"] = ["https://cdn.example.com/old.jpg"]
    original["post"]["target"]["extra"] = "kept only while not replaced"
    post_id = await created_id(idle, ada, original)
    before = (await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)).json()

    draft = hook_post(account, text="New", url="https://hooks.example.com/other")["post"]
    response = await patch(idle, ada, post_id, {"patch": {"draft": draft}})
    assert response.status_code == 204
    assert response.content == b""

    after = (await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)).json()
    assert after["schedule"]["draft"] == draft
    assert after["schedule"]["scheduledAt"] == before["schedule"]["scheduledAt"]
    listed = await idle.client.get(
        "/v2/posts", params={"until": "2999-01-01T00:00:00Z"}, headers=ada.headers
    )
    item = listed.json()["items"][0]
    assert (item["text"], item["mediaUrls"]) == ("New", [])


async def test_patch_scheduled_time_moves_the_post(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later(1)))
    response = await patch(
        idle, ada, post_id, {"patch": {"scheduledTime": "2099-12-31T23:00:00-01:00"}}
    )
    assert response.status_code == 204
    one = (await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)).json()
    assert one["schedule"]["scheduledAt"] == "2100-01-01T00:00:00.000Z"
    status = await idle.status(ada, post_id)
    assert status == {
        "postSubmissionId": post_id,
        "status": "scheduled",
        "scheduledTime": "2100-01-01T00:00:00.000Z",
    }


async def test_patch_draft_and_time_together(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later(1)))
    draft = hook_post(account, text="Both")["post"]
    response = await patch(
        idle, ada, post_id, {"patch": {"draft": draft, "scheduledTime": "2099-01-01T00:00:00Z"}}
    )
    assert response.status_code == 204
    one = (await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)).json()
    assert one["schedule"]["draft"] == draft
    assert one["schedule"]["scheduledAt"] == "2099-01-01T00:00:00.000Z"


@pytest.mark.parametrize("seconds", [-30, -3600])
async def test_patch_to_a_past_time_is_a_422_must_be_in_the_future(
    idle: Harness, ada: Caller, seconds: int
) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    past = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    response = await patch(idle, ada, post_id, {"patch": {"scheduledTime": past}})
    assert response.status_code == 422
    assert response.json()["message"] == "scheduledTime must be in the future"
    assert response.json()["errors"][0]["path"] == "patch.scheduledTime"


async def test_patch_time_without_offset_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    response = await patch(idle, ada, post_id, {"patch": {"scheduledTime": "2099-01-01T00:00"}})
    assert response.status_code == 422
    assert response.json()["message"].startswith("patch.scheduledTime")


@pytest.mark.parametrize(
    "body",
    [{"patch": {}}, {}, {"patch": None}, {"patch": "x"}, [], {"patch": {"draft": None}}],
)
async def test_an_empty_or_shapeless_patch_is_a_422(idle: Harness, ada: Caller, body: Any) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    response = await patch(idle, ada, post_id, body)
    assert response.status_code == 422
    assert response.json()["message"].startswith("patch")


async def test_a_patch_with_no_body_is_a_400(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    response = await idle.client.patch(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert response.status_code == 400
    assert response.json()["message"]


async def test_a_patched_draft_is_validated_like_a_new_post(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))

    bad = hook_post(account)["post"]
    bad["content"]["platform"] = "twitter"
    response = await patch(idle, ada, post_id, {"patch": {"draft": bad}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "patch.draft.content.platform"

    inside = hook_post(account, url="http://169.254.169.254/")["post"]
    response = await patch(idle, ada, post_id, {"patch": {"draft": inside}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "patch.draft.target.url"

    theirs = hook_post(await idle.account(bob))["post"]
    response = await patch(idle, ada, post_id, {"patch": {"draft": theirs}})
    assert response.status_code == 422
    assert response.json()["message"] == "Wrong Account ID"


async def test_patch_of_an_unknown_schedule_is_a_404(idle: Harness, ada: Caller) -> None:
    response = await patch(idle, ada, UNKNOWN, {"patch": {"scheduledTime": later()}})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_delete_cancels_the_post_everywhere(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    response = await idle.client.delete(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert response.status_code == 204
    assert response.content == b""

    assert await schedules(idle, ada) == {"items": [], "count": "0"}
    one = await idle.client.get(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert (one.status_code, one.json()) == (404, NOT_FOUND)
    status = await idle.client.get(f"/v2/posts/{post_id}", headers=ada.headers)
    assert (status.status_code, status.json()) == (404, {"message": "Post not found"})
    listed = await idle.client.get(
        "/v2/posts", params={"until": "2999-01-01T00:00:00Z"}, headers=ada.headers
    )
    assert listed.json() == {"items": []}
    again = await idle.client.delete(f"/v2/schedules/{post_id}", headers=ada.headers)
    assert (again.status_code, again.json()) == (404, NOT_FOUND)
    moved = await patch(idle, ada, post_id, {"patch": {"scheduledTime": later()}})
    assert moved.status_code == 404


async def test_delete_with_json_content_type_and_an_empty_body_works(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=later()))
    response = await idle.client.delete(
        f"/v2/schedules/{post_id}",
        headers={**ada.headers, "Content-Type": "application/json", "Content-Length": "0"},
    )
    assert response.status_code == 204


async def test_delete_of_an_unknown_schedule_is_a_404(idle: Harness, ada: Caller) -> None:
    response = await idle.client.delete(f"/v2/schedules/{UNKNOWN}", headers=ada.headers)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_a_freed_slot_time_can_be_taken_again(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    when = later(1)
    post_id = await created_id(idle, ada, hook_post(account, scheduledTime=when))
    await idle.client.delete(f"/v2/schedules/{post_id}", headers=ada.headers)
    again = await created_id(idle, ada, hook_post(account, scheduledTime=when))
    assert [item["id"] for item in (await schedules(idle, ada))["items"]] == [again]


async def test_a_schedule_id_that_cannot_exist_is_a_404(idle: Harness, ada: Caller) -> None:
    for schedule_id in ("a" * 65, "bad%00id"):
        path = f"/v2/schedules/{schedule_id}"
        for response in (
            await idle.client.get(path, headers=ada.headers),
            await patch(idle, ada, schedule_id, {"patch": {"scheduledTime": later()}}),
            await idle.client.delete(path, headers=ada.headers),
        ):
            assert response.status_code == 404
            assert response.json() == NOT_FOUND
