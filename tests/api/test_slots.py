"""Section 6: weekly calendar slots, the next free one, and their time zones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from masthead.domain.slots import SlotSpec, SlotTarget, free_slots, occurrences
from masthead.timeutil import iso
from tests.api.conftest import ISO_MS, created_id, hook_post
from tests.support.harness import Caller, Harness

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def slot(account: str, day: str = "monday", hour: int = 9, minute: int = 30, **extra: Any) -> Any:
    return {
        "hour": hour,
        "minute": minute,
        "day": day,
        "selectedTargets": [{"platform": "webhook", "accountId": account}],
        **extra,
    }


async def create(harness: Harness, caller: Caller, *slots: Any) -> Any:
    return await harness.client.post(
        "/v2/schedule/slots", json={"slots": list(slots)}, headers=caller.headers
    )


async def created(harness: Harness, caller: Caller, *slots: Any) -> list[dict[str, Any]]:
    response = await create(harness, caller, *slots)
    assert response.status_code == 201, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def next_available(harness: Harness, caller: Caller, body: Any) -> Any:
    return await harness.client.post(
        "/v2/schedule/slots/next-available", json=body, headers=caller.headers
    )


async def test_no_slots_is_an_empty_items_list(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_created_slots_are_201_with_string_ids_and_listed(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await create(
        idle, ada, slot(account, "monday", 9, 30), slot(account, "friday", 17, 0)
    )
    assert response.status_code == 201
    items = response.json()["items"]
    assert [set(item) for item in items] == [{"id", "hour", "minute", "day", "selectedTargets"}] * 2
    assert all(isinstance(item["id"], str) and item["id"].isdigit() for item in items)
    assert [(i["day"], i["hour"], i["minute"]) for i in items] == [
        ("monday", 9, 30),
        ("friday", 17, 0),
    ]
    assert items[0]["selectedTargets"] == [
        {"platform": "webhook", "accountId": account, "subaccountId": None}
    ]
    listed = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert listed.json() == {"items": items}


async def test_a_slot_may_carry_a_time_zone(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    (item,) = await created(idle, ada, slot(account, timezone="Europe/Berlin"))
    assert item["timezone"] == "Europe/Berlin"


async def test_a_slot_target_may_name_a_subaccount(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "facebook", subaccounts=[("page", "123", "Page")])
    body = slot(account)
    body["selectedTargets"] = [
        {"platform": "facebook", "accountId": account, "subaccountId": "123"}
    ]
    (item,) = await created(idle, ada, body)
    assert item["selectedTargets"][0]["subaccountId"] == "123"


@pytest.mark.parametrize(
    "change",
    [
        {"hour": 24},
        {"hour": -1},
        {"minute": 60},
        {"day": "funday"},
        {"day": "Monday"},
        {"hour": "9"},
        {"minute": 1.5},
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": ""},
        {"selectedTargets": None},
        {"selectedTargets": [{"platform": "webhook", "accountId": 5}]},
        {"selectedTargets": [{"platform": "myspace", "accountId": "5"}]},
    ],
)
async def test_an_invalid_slot_is_a_422_and_nothing_is_stored(
    idle: Harness, ada: Caller, change: dict[str, Any]
) -> None:
    account = await idle.account(ada)
    response = await create(idle, ada, slot(account, **change))
    assert response.status_code == 422, response.text
    assert response.json()["message"]
    assert response.json()["errors"]
    listed = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert listed.json() == {"items": []}


async def test_a_slot_body_without_slots_is_a_422(idle: Harness, ada: Caller) -> None:
    bodies: list[Any] = [{}, {"slots": "x"}, []]
    for body in bodies:
        response = await idle.client.post("/v2/schedule/slots", json=body, headers=ada.headers)
        assert response.status_code == 422


async def test_a_slot_for_another_users_account_is_a_422_wrong_account_id(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    theirs = await idle.account(bob)
    response = await create(idle, ada, slot(theirs))
    assert response.status_code == 422
    assert response.json()["message"] == "Wrong Account ID"


async def test_a_slot_target_of_the_wrong_platform_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "twitter")
    response = await create(idle, ada, slot(account))
    assert response.status_code == 422
    assert response.json()["message"].startswith("slots[0].selectedTargets[0].platform: ")


async def test_another_users_slots_are_not_listed(idle: Harness, ada: Caller, bob: Caller) -> None:
    await created(idle, bob, slot(await idle.account(bob)))
    response = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert response.json() == {"items": []}


async def test_patch_changes_a_slots_targets(idle: Harness, ada: Caller) -> None:
    one = await idle.account(ada, username="one")
    two = await idle.account(ada, username="two")
    (item,) = await created(idle, ada, slot(one))
    targets = [{"platform": "webhook", "accountId": two, "subaccountId": None}]
    response = await idle.client.patch(
        f"/v2/schedule/slots/{item['id']}", json={"selectedTargets": targets}, headers=ada.headers
    )
    assert response.status_code == 200
    assert response.json() == {**item, "selectedTargets": targets}
    listed = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert listed.json()["items"] == [response.json()]


async def test_patch_changes_a_slots_time(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    (item,) = await created(idle, ada, slot(account, "monday", 9, 30))
    response = await idle.client.patch(
        f"/v2/schedule/slots/{item['id']}",
        json={"day": "sunday", "hour": 23, "minute": 59, "timezone": "America/New_York"},
        headers=ada.headers,
    )
    assert response.status_code == 200
    assert response.json() == {
        **item,
        "day": "sunday",
        "hour": 23,
        "minute": 59,
        "timezone": "America/New_York",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"hour": 24},
        {"minute": 60},
        {"day": "funday"},
        {"hour": "9"},
        {"hour": None},
        {"timezone": "Nowhere/Land"},
        {"selectedTargets": [{"platform": "webhook", "accountId": "99999"}]},
    ],
)
async def test_an_invalid_slot_patch_is_a_422(
    idle: Harness, ada: Caller, body: dict[str, Any]
) -> None:
    account = await idle.account(ada)
    (item,) = await created(idle, ada, slot(account))
    response = await idle.client.patch(
        f"/v2/schedule/slots/{item['id']}", json=body, headers=ada.headers
    )
    assert response.status_code == 422, response.text
    listed = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert listed.json()["items"] == [item]


async def test_patch_and_delete_of_an_unknown_slot_are_a_404(idle: Harness, ada: Caller) -> None:
    patched = await idle.client.patch(
        "/v2/schedule/slots/987654", json={"hour": 1}, headers=ada.headers
    )
    assert patched.status_code == 404
    assert set(patched.json()) == {"message"}
    deleted = await idle.client.delete("/v2/schedules/slots/987654", headers=ada.headers)
    assert deleted.status_code == 404
    assert set(deleted.json()) == {"message"}


async def test_another_users_slot_is_a_404_to_patch_and_delete(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    (item,) = await created(idle, bob, slot(await idle.account(bob)))
    patched = await idle.client.patch(
        f"/v2/schedule/slots/{item['id']}", json={"hour": 1}, headers=ada.headers
    )
    assert patched.status_code == 404
    empty_patch = await idle.client.patch(
        f"/v2/schedule/slots/{item['id']}", json={}, headers=ada.headers
    )
    assert empty_patch.status_code == 404
    deleted = await idle.client.delete(f"/v2/schedules/slots/{item['id']}", headers=ada.headers)
    assert deleted.status_code == 404
    listed = await idle.client.get("/v2/schedule/slots", headers=bob.headers)
    assert listed.json()["items"] == [item]


async def test_delete_removes_a_slot(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    first, second = await created(idle, ada, slot(account, "monday"), slot(account, "tuesday"))
    response = await idle.client.delete(
        f"/v2/schedules/slots/{first['id']}",
        headers={**ada.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 204
    assert response.content == b""
    listed = await idle.client.get("/v2/schedule/slots", headers=ada.headers)
    assert listed.json() == {"items": [second]}
    again = await idle.client.delete(f"/v2/schedules/slots/{first['id']}", headers=ada.headers)
    assert again.status_code == 404


def upcoming(days: int, hours: int = 0) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).replace(second=0, microsecond=0)


def slot_at(account: str, when: datetime, **extra: Any) -> Any:
    return slot(account, DAYS[when.weekday()], when.hour, when.minute, **extra)


async def test_next_available_answers_the_earliest_slot(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    soon, sooner = upcoming(3), upcoming(1)
    await created(idle, ada, slot_at(account, soon))
    (wanted,) = await created(idle, ada, slot_at(account, sooner))
    response = await next_available(idle, ada, {"platform": "webhook", "accountId": account})
    assert response.status_code == 200
    assert response.json() == {"slot": {"slotId": wanted["id"], "slotTime": iso(sooner)}}
    assert re.match(ISO_MS, response.json()["slot"]["slotTime"])


async def test_next_available_skips_occupied_times(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    sooner, soon = upcoming(1), upcoming(2)
    (first,) = await created(idle, ada, slot_at(account, sooner))
    (second,) = await created(idle, ada, slot_at(account, soon))
    await created_id(idle, ada, hook_post(account, scheduledTime=sooner.isoformat()))
    body = {"platform": "webhook", "accountId": account}
    response = await next_available(idle, ada, body)
    assert response.json() == {"slot": {"slotId": second["id"], "slotTime": iso(soon)}}

    await created_id(idle, ada, hook_post(account, useNextFreeSlot=True))  # takes `soon`
    response = await next_available(idle, ada, body)
    assert response.json() == {
        "slot": {"slotId": first["id"], "slotTime": iso(sooner + timedelta(weeks=1))}
    }


async def test_next_available_with_an_empty_subaccount_id_still_sees_occupied_times(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    sooner = upcoming(1)
    await created(idle, ada, slot_at(account, sooner))
    await created_id(idle, ada, hook_post(account, scheduledTime=sooner.isoformat()))
    body = {"platform": "webhook", "accountId": account, "subaccountId": ""}
    response = await next_available(idle, ada, body)
    assert response.status_code == 200
    assert response.json()["slot"]["slotTime"] == iso(sooner + timedelta(weeks=1))


async def test_next_available_without_slots_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await next_available(idle, ada, {"platform": "webhook", "accountId": account})
    assert response.status_code == 422
    assert response.json()["message"].startswith("No available slot")


async def test_next_available_for_another_users_account_is_a_422(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    theirs = await idle.account(bob)
    await created(idle, bob, slot_at(theirs, upcoming(1)))
    response = await next_available(idle, ada, {"platform": "webhook", "accountId": theirs})
    assert response.status_code == 422
    assert response.json()["message"] == "Wrong Account ID"


@pytest.mark.parametrize(
    "body",
    [{}, {"platform": "webhook"}, {"platform": "webhook", "accountId": 5}, {"accountId": "5"}],
)
async def test_next_available_with_a_bad_body_is_a_422(
    idle: Harness, ada: Caller, body: dict[str, Any]
) -> None:
    response = await next_available(idle, ada, body)
    assert response.status_code == 422


async def test_a_slot_in_a_time_zone_is_its_wall_clock_time_there(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    berlin = ZoneInfo("Europe/Berlin")
    day = (datetime.now(berlin) + timedelta(days=2)).date()
    await created(idle, ada, slot(account, DAYS[day.weekday()], 9, 0, timezone="Europe/Berlin"))
    response = await next_available(idle, ada, {"platform": "webhook", "accountId": account})
    assert response.status_code == 200
    when = datetime.fromisoformat(response.json()["slot"]["slotTime"].replace("Z", "+00:00"))
    local = when.astimezone(berlin)
    assert (local.date(), local.hour, local.minute) == (day, 9, 0)
    assert when.astimezone(UTC).hour in (7, 8)  # CEST or CET


async def test_a_slot_without_a_time_zone_is_utc(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    at = upcoming(1, hours=3)
    await created(idle, ada, slot_at(account, at))
    response = await next_available(idle, ada, {"platform": "webhook", "accountId": account})
    assert response.json()["slot"]["slotTime"] == iso(at)


# --- the pure slot arithmetic (domain/slots.py) ---------------------------------------------


def berlin_slot(day: str, hour: int, minute: int = 0) -> SlotSpec:
    return SlotSpec("1", day, hour, minute, "Europe/Berlin", (SlotTarget("webhook", "7", None),))


def first_after(spec: SlotSpec, after: datetime) -> datetime:
    return next(occurrences(spec, after))


def test_a_berlin_nine_oclock_slot_is_eight_utc_in_winter_and_seven_in_summer() -> None:
    winter = first_after(berlin_slot("monday", 9), datetime(2026, 1, 4, tzinfo=UTC))
    summer = first_after(berlin_slot("monday", 9), datetime(2026, 7, 5, tzinfo=UTC))
    assert winter == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert summer == datetime(2026, 7, 6, 7, 0, tzinfo=UTC)


def test_consecutive_occurrences_follow_the_clock_change() -> None:
    # Central European Summer Time starts on Sunday 2026-03-29.
    spec = berlin_slot("sunday", 9)
    times = list(occurrences(spec, datetime(2026, 3, 20, tzinfo=UTC), days=14))[:3]
    assert times == [
        datetime(2026, 3, 22, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 4, 5, 7, 0, tzinfo=UTC),
    ]


def test_a_wall_time_skipped_by_spring_forward_moves_forward_by_the_jump() -> None:
    skipped = first_after(berlin_slot("sunday", 2, 30), datetime(2026, 3, 28, tzinfo=UTC))
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_a_wall_time_repeated_by_fall_back_takes_its_first_occurrence() -> None:
    repeated = first_after(berlin_slot("sunday", 2, 30), datetime(2026, 10, 24, tzinfo=UTC))
    assert repeated == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_a_slot_near_midnight_utc_falls_on_its_local_day() -> None:
    tokyo = SlotSpec("1", "monday", 1, 0, "Asia/Tokyo", (SlotTarget("webhook", "7", None),))
    when = first_after(tokyo, datetime(2026, 1, 1, tzinfo=UTC))  # a Thursday
    assert when == datetime(2026, 1, 4, 16, 0, tzinfo=UTC)  # Monday 01:00 in Tokyo


def test_free_slots_skip_occupied_instants_and_other_targets() -> None:
    target = SlotTarget("webhook", "7", None)
    spec = SlotSpec("1", "monday", 9, 0, None, (target,))
    after = datetime(2026, 1, 1, tzinfo=UTC)
    first = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    free = free_slots([spec], target, after, {first}, days=21)
    assert [when for _, when in free] == [first + timedelta(weeks=1), first + timedelta(weeks=2)]
    assert free_slots([spec], SlotTarget("webhook", "8", None), after, set()) == []


@pytest.mark.parametrize("path", ["/v2/schedule/slots", "/v2/schedule/slots/next-available"])
async def test_a_slot_body_that_is_not_json_is_a_400(idle: Harness, ada: Caller, path: str) -> None:
    for content in (b"{", b""):
        response = await idle.client.post(
            path, content=content, headers={**ada.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"message"}


async def test_a_slot_patch_that_is_not_json_is_a_400(idle: Harness, ada: Caller) -> None:
    (item,) = await created(idle, ada, slot(await idle.account(ada)))
    response = await idle.client.patch(
        f"/v2/schedule/slots/{item['id']}", content=b"{", headers=ada.headers
    )
    assert response.status_code == 400


async def test_a_slot_error_names_the_field_path(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await create(idle, ada, slot(account), slot(account, hour=24))
    assert response.status_code == 422
    assert response.json()["message"].startswith("slots[1].hour: ")


@pytest.mark.parametrize("slot_id", ["abc", "1" * 30, "-1", "1.5"])
async def test_a_slot_id_that_cannot_exist_is_a_404(
    idle: Harness, ada: Caller, slot_id: str
) -> None:
    patched = await idle.client.patch(
        f"/v2/schedule/slots/{slot_id}", json={"hour": 1}, headers=ada.headers
    )
    assert patched.status_code == 404
    deleted = await idle.client.delete(f"/v2/schedules/slots/{slot_id}", headers=ada.headers)
    assert deleted.status_code == 404
