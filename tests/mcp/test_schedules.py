"""Scheduling through MCP: a post scheduled, read, moved and cancelled; calendar slots made,
used, changed and deleted."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.mcp.conftest import agent
from tests.mcp.test_posts import later
from tests.support.harness import Harness, webhook_post
from tests.support.mcp_client import call, refusal

HOOK = "https://hooks.example.com/masthead"


async def test_schedule_reschedule_and_cancel_a_post(server: Harness) -> None:
    ada = await server.user()
    account = await server.account(ada, "twitter")
    first, moved = later(2), later(5)
    async with agent(server, ada) as client:
        created = await call(
            client,
            "blotato_create_post",
            accountId=account,
            platform="twitter",
            text="in two days",
            scheduledTime=first,
        )
        post_id = created["postSubmissionId"]
        assert created["status"] == "scheduled"
        listed = await call(client, "blotato_list_schedules")
        assert [s["id"] for s in listed["items"]] == [post_id]
        assert listed["count"] == "1"
        updated = await call(client, "blotato_update_schedule", id=post_id, scheduledTime=moved)
        assert updated == {"id": post_id, "updated": True}
        schedule = (await call(client, "blotato_get_schedule", id=post_id))["schedule"]
        status = await call(client, "blotato_get_post_status", postSubmissionId=post_id)
        deleted = await call(client, "blotato_delete_schedule", id=post_id)
        gone = await client.call_tool("blotato_get_post_status", {"postSubmissionId": post_id})
    expected = datetime.fromisoformat(moved)
    assert datetime.fromisoformat(schedule["scheduledAt"]) == expected
    assert datetime.fromisoformat(status["scheduledTime"]) == expected
    assert schedule["draft"]["content"]["text"] == "in two days"
    assert deleted == {"id": post_id, "deleted": True}
    assert refusal(gone) == "Post not found"


async def test_rescheduling_into_the_past_is_refused_as_rest_refuses_it(
    server: Harness,
) -> None:
    ada = await server.user()
    account = await server.account(ada)
    created = await server.create_post(ada, webhook_post(account, HOOK, scheduledTime=later()))
    post_id = created.json()["postSubmissionId"]
    past = {"patch": {"scheduledTime": "2001-01-01T00:00:00Z"}}
    rest = await server.client.patch(f"/v2/schedules/{post_id}", json=past, headers=ada.headers)
    assert rest.status_code == 422
    async with agent(server, ada) as client:
        result = await client.call_tool(
            "blotato_update_schedule", {"id": post_id, "scheduledTime": "2001-01-01T00:00:00Z"}
        )
    assert refusal(result) == rest.json()["message"]


async def test_slots_are_created_used_changed_and_deleted(server: Harness) -> None:
    ada = await server.user()
    account = await server.account(ada, "twitter")
    other = await server.account(ada, "bluesky")
    target = {"platform": "twitter", "accountId": account}
    slot = {"day": "monday", "hour": 9, "minute": 30, "selectedTargets": [target]}
    async with agent(server, ada) as client:
        [made] = (await call(client, "blotato_create_schedule_slots", slots=[slot]))["items"]
        assert (await call(client, "blotato_list_schedule_slots"))["items"] == [made]
        free = (
            await call(
                client, "blotato_find_next_available_slot", platform="twitter", accountId=account
            )
        )["slot"]
        assert free["slotId"] == made["id"]
        post = await call(
            client,
            "blotato_create_post",
            accountId=account,
            platform="twitter",
            text="in the slot",
            useNextFreeSlot=True,
        )
        changed = await call(
            client,
            "blotato_update_schedule_slot",
            id=made["id"],
            selectedTargets=[{"platform": "bluesky", "accountId": other}],
        )
        deleted = await call(client, "blotato_delete_schedule_slot", id=made["id"])
        again = await client.call_tool("blotato_delete_schedule_slot", {"id": made["id"]})
        left = await call(client, "blotato_list_schedule_slots")
    when = datetime.fromisoformat(post["scheduledTime"])
    assert when == datetime.fromisoformat(free["slotTime"])
    assert when.astimezone(UTC).weekday() == 0
    assert (when.hour, when.minute) == (9, 30)
    assert changed["selectedTargets"][0]["accountId"] == other
    assert deleted == {"id": made["id"], "deleted": True}
    assert refusal(again) == "Slot not found"
    assert left == {"items": []}


async def test_a_slot_for_an_unknown_account_is_refused_in_rest_words(server: Harness) -> None:
    ada = await server.user()
    slot = {
        "day": "friday",
        "hour": 7,
        "minute": 0,
        "selectedTargets": [{"platform": "twitter", "accountId": "999"}],
    }
    rest = await server.client.post(
        "/v2/schedule/slots", json={"slots": [slot]}, headers=ada.headers
    )
    assert rest.status_code == 422
    async with agent(server, ada) as client:
        result = await client.call_tool("blotato_create_schedule_slots", {"slots": [slot]})
    assert refusal(result) == rest.json()["message"] == "Wrong Account ID"
