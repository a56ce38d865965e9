"""Issue 20, class 1 through the web UI, signed in and with the CSRF token: the `masthead_tz`
cookie, the slot form, the calendar's `week`, the list's `before`, rescheduling and numeric ids
in paths never reach the standard library unchecked; each is a 4xx (or a fallback to UTC for
the cookie the browser sets by itself), never a 500."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from masthead.timeutil import iso, utcnow
from tests.support.harness import Caller, Harness, webhook_post
from tests.support.web import page_token, sign_in, user_with_password
from tests.web.conftest import Browsers

BAD_ZONES = ["America", "Etc", "x" * 256, "A/" * 200 + "B", "../../etc/passwd"]
TOO_BIG = str(2**63)
HOOK = "https://hooks.example.com/never"


async def _signed_in(web: tuple[Harness, Browsers]) -> tuple[Harness, httpx.AsyncClient, Caller]:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()
    await sign_in(client, ada.email)
    return harness, client, ada


async def _slots(harness: Harness, ada: Caller) -> list[object]:
    listed = await harness.client.get("/v2/schedule/slots", headers=ada.headers)
    items: list[object] = listed.json()["items"]
    return items


async def test_a_zone_cookie_that_is_no_zone_shows_pages_in_utc(
    web: tuple[Harness, Browsers],
) -> None:
    _, client, _ = await _signed_in(web)

    for zone in BAD_ZONES:
        client.cookies.set("masthead_tz", zone)
        for path in ("/posts", "/settings/slots", "/settings/keys", "/settings/accounts"):
            response = await client.get(path)
            assert response.status_code == 200, (zone, path, response.text[:300])


async def test_the_slot_form_refuses_a_zone_that_is_no_zone(
    web: tuple[Harness, Browsers],
) -> None:
    harness, client, ada = await _signed_in(web)
    account = await harness.account(ada, "webhook")
    token = await page_token(client, "/settings/slots")
    form = {"csrf_token": token, "target": f"webhook:{account}", "day": "monday", "time": "09:30"}

    for zone in BAD_ZONES:
        response = await client.post("/settings/slots", data={**form, "timezone": zone})
        assert response.status_code == 422, (zone, response.text[:300])
        assert "is not an IANA time zone" in response.text
    assert await _slots(harness, ada) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("target", "webhook:{}١"), ("target", "webhook:²"), ("target", f"webhook:{TOO_BIG}")]
    + [("time", t) for t in ("１２:00", "0٩:30", "²:00", "09:3０")],
)
async def test_the_slot_form_takes_ascii_digits_only(
    web: tuple[Harness, Browsers], field: str, value: str
) -> None:
    harness, client, ada = await _signed_in(web)
    account = await harness.account(ada, "webhook")
    token = await page_token(client, "/settings/slots")
    form = {"csrf_token": token, "target": f"webhook:{account}", "day": "monday", "time": "09:30"}

    response = await client.post("/settings/slots", data={**form, field: value.format(account)})

    assert response.status_code == 422, response.text[:300]
    assert await _slots(harness, ada) == []
    accepted = await client.post("/settings/slots", data=form)
    assert accepted.status_code == 303
    assert [slot["selectedTargets"][0]["accountId"] for slot in await _slots(harness, ada)] == [  # type: ignore[index]
        account
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"week": "9999-12-31"},
        {"week": "0001-01-01"},
        {"week": "2026-02-30"},
        {"week": "２０２６-03-02"},
        {"before": "2026-03-01T00:00:00", "before_id": "x"},
        {"before": "0001-01-01T00:00:00+05:00", "before_id": "x"},
        {"before": "9999-12-31T23:59:59-05:00", "before_id": "x"},
        {"before_id": "x" * 65, "before": "2026-03-01T00:00:00Z"},
    ],
)
async def test_calendar_and_list_bounds_out_of_range_are_a_400_naming_the_field(
    web: tuple[Harness, Browsers], query: dict[str, str]
) -> None:
    _, client, _ = await _signed_in(web)

    response = await client.get("/posts", params=query)

    assert response.status_code == 400, response.text[:300]
    assert next(iter(query)) + ":" in response.text


async def test_the_calendars_edges_still_show(web: tuple[Harness, Browsers]) -> None:
    _, client, _ = await _signed_in(web)
    for week in ("0002-01-01", "9998-12-31"):
        assert (await client.get("/posts", params={"week": week})).status_code == 200


@pytest.mark.parametrize(
    ("zone", "when"),
    [
        ("America/Los_Angeles", "9999-12-31T23:00"),
        ("Asia/Tokyo", "0001-01-01T01:00"),
        ("UTC", "２０３１-03-04T09:15"),
        ("UTC", "2031-03-04T09:15Z"),
    ],
)
async def test_rescheduling_off_the_calendar_or_in_other_digits_is_a_422(
    web: tuple[Harness, Browsers], zone: str, when: str
) -> None:
    harness, client, ada = await _signed_in(web)
    account = await harness.account(ada, "webhook")
    later = iso(utcnow() + timedelta(days=1))
    made = await harness.create_post(ada, webhook_post(account, HOOK, scheduledTime=later))
    post_id = made.json()["postSubmissionId"]
    client.cookies.set("masthead_tz", zone)
    token = await page_token(client, "/posts")

    response = await client.post(
        f"/posts/{post_id}/reschedule", data={"csrf_token": token, "when": when}
    )

    assert response.status_code == 422, response.text[:300]
    assert (await harness.status(ada, post_id))["scheduledTime"] == later


async def test_ids_the_store_cannot_hold_are_404(web: tuple[Harness, Browsers]) -> None:
    _, client, _ = await _signed_in(web)
    token = await page_token(client)
    routes = ("/settings/keys/{}/revoke", "/settings/slots/{}/delete")
    routes += ("/settings/accounts/{}/remove",)

    for route in routes:
        for path_id in (TOO_BIG, "9" * 30, "²", "١٢", "0", "-1"):
            response = await client.post(route.format(path_id), data={"csrf_token": token})
            assert response.status_code == 404, (route, path_id, response.text[:300])


async def test_post_pages_with_ids_the_store_cannot_hold_are_404(
    web: tuple[Harness, Browsers],
) -> None:
    _, client, _ = await _signed_in(web)
    token = await page_token(client)
    long_id = "p" * 65

    assert (await client.get(f"/posts/{long_id}")).status_code == 404
    cancel = await client.post(f"/posts/{long_id}/cancel", data={"csrf_token": token})
    assert cancel.status_code == 404
