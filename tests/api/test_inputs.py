"""Issue 20, class 1 through the API: inputs that used to reach the standard library unchecked
(time zone folders and long names, instants pushed off the calendar by their offset, cursors,
huge or non-ASCII ids, JSON deeper than orjson can write back) are 4xx answers naming the field."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from tests.api.conftest import hook_post, later
from tests.api.test_slots import create, slot
from tests.support.harness import Caller, Harness

BAD_ZONES = ["America", "Etc", "Europe/", "x" * 256, "A/" * 200 + "B", "../../etc/passwd"]
OFF_THE_CALENDAR = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


def _field_error(response: Any, path: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"], body
    assert [error["path"] for error in body["errors"]] == [path]


@pytest.mark.parametrize("zone", BAD_ZONES)
async def test_a_slot_zone_that_is_not_a_zone_file_is_a_422(
    idle: Harness, ada: Caller, zone: str
) -> None:
    account = await idle.account(ada)

    response = await create(idle, ada, slot(account, timezone=zone))

    _field_error(response, "slots[0].timezone")


@pytest.mark.parametrize("zone", BAD_ZONES)
async def test_patching_a_slot_to_a_folder_zone_is_a_422(
    idle: Harness, ada: Caller, zone: str
) -> None:
    account = await idle.account(ada)
    made = await create(idle, ada, slot(account))
    slot_id = made.json()["items"][0]["id"]

    response = await idle.client.patch(
        f"/v2/schedule/slots/{slot_id}", json={"timezone": zone}, headers=ada.headers
    )

    _field_error(response, "timezone")


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", OFF_THE_CALENDAR)
async def test_list_bounds_off_the_calendar_are_a_422(
    idle: Harness, ada: Caller, name: str, value: str
) -> None:
    response = await idle.client.get("/v2/posts", params={name: value}, headers=ada.headers)

    _field_error(response, name)


@pytest.mark.parametrize("value", ["2026-03-01T00:00:00", "2026-03-01", "２０２６-03-01T00:00Z"])
async def test_list_bounds_without_offset_or_in_other_digits_are_a_422(
    idle: Harness, ada: Caller, value: str
) -> None:
    response = await idle.client.get("/v2/posts", params={"since": value}, headers=ada.headers)

    _field_error(response, "since")


def _cursor(data: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


@pytest.mark.parametrize("when", [*OFF_THE_CALENDAR, "2026-03-01T00:00:00", 7])
@pytest.mark.parametrize("route", ["/v2/posts", "/v2/schedules"])
async def test_forged_cursors_off_the_calendar_are_a_422(
    idle: Harness, ada: Caller, when: object, route: str
) -> None:
    cursor = _cursor({"t": when, "id": "a"})

    response = await idle.client.get(route, params={"cursor": cursor}, headers=ada.headers)

    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("cursor")


@pytest.mark.parametrize("value", OFF_THE_CALENDAR)
async def test_rescheduling_off_the_calendar_is_a_422(
    idle: Harness, ada: Caller, value: str
) -> None:
    account = await idle.account(ada)
    made = await idle.create_post(ada, hook_post(account, scheduledTime=later()))
    post_id = made.json()["postSubmissionId"]

    response = await idle.client.patch(
        f"/v2/schedules/{post_id}", json={"patch": {"scheduledTime": value}}, headers=ada.headers
    )

    _field_error(response, "patch.scheduledTime")


@pytest.mark.parametrize("account_id", [str(2**63), "9" * 40, "²", "١٢", "0"])
async def test_ids_the_store_cannot_hold_are_unknown(
    idle: Harness, ada: Caller, account_id: str
) -> None:
    subaccounts = await idle.client.get(
        f"/v2/users/me/accounts/{account_id}/subaccounts", headers=ada.headers
    )
    patched = await idle.client.patch(
        f"/v2/schedule/slots/{account_id}", json={"hour": 1}, headers=ada.headers
    )
    deleted = await idle.client.delete(f"/v2/schedules/slots/{account_id}", headers=ada.headers)

    assert [subaccounts.status_code, patched.status_code, deleted.status_code] == [404] * 3


@pytest.mark.parametrize("account_id", ["²", "١", "１２"])
async def test_unicode_digits_are_not_account_ids(
    idle: Harness, ada: Caller, account_id: str
) -> None:
    response = await idle.create_post(ada, hook_post(account_id))

    _field_error(response, "post.accountId")


@pytest.mark.parametrize("depth", [65, 255, 1023])
@pytest.mark.parametrize("route", ["/v2/posts", "/v2/schedule/slots", "/v2/media"])
async def test_json_nested_deeper_than_orjson_writes_is_a_400(
    idle: Harness, ada: Caller, depth: int, route: str
) -> None:
    nested = b'{"a":' * depth + b"1" + b"}" * depth

    response = await idle.client.post(
        route,
        content=b'{"post":' + nested + b"}",
        headers={**ada.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert "nested" in response.json()["message"]


async def test_a_post_nested_to_the_limit_is_still_read(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account, scheduledTime=later())
    deep: Any = "leaf"
    for _ in range(56):
        deep = {"x": deep}
    body["post"]["target"]["extra"] = deep

    response = await idle.create_post(ada, body)

    assert response.status_code == 201, response.text
