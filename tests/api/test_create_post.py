"""Section 2: POST /v2/posts, its 201 shape and every way it refuses a post."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from masthead import app as app_module
from masthead.platforms.registry import AVAILABLE
from masthead.timeutil import iso
from tests.api.conftest import (
    FAR_HOOK,
    ISO_MS,
    UUID,
    created_id,
    facebook_post,
    hook_post,
    in_seconds,
    later,
    twitter_post,
)
from tests.conftest import make_settings
from tests.support.harness import Caller, Harness, running_app
from tests.support.receiver import Receiver


async def post_raw(
    harness: Harness, caller: Caller, content: bytes, content_type: str = "application/json"
) -> Any:
    return await harness.client.post(
        "/v2/posts", content=content, headers={**caller.headers, "Content-Type": content_type}
    )


def assert_422(response: Any, message: str | None = None, path: str | None = None) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message
    assert body["errors"], body
    if path is not None:
        paths = [error["path"] for error in body["errors"]]
        assert path in paths, paths
        assert body["message"].startswith(path) or message is not None


# --- success shapes -------------------------------------------------------------------------


async def test_an_immediate_post_is_201_in_progress_with_a_uuid(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"postSubmissionId", "status"}
    assert re.match(UUID, body["postSubmissionId"])
    assert body["status"] == "in-progress"


async def test_use_next_free_slot_false_publishes_now(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, useNextFreeSlot=False))
    assert response.status_code == 201
    assert response.json()["status"] == "in-progress"


async def test_a_null_scheduled_time_publishes_now(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, scheduledTime=None))
    assert response.status_code == 201
    assert response.json()["status"] == "in-progress"


async def test_a_scheduled_post_is_201_scheduled_with_its_utc_time(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    when = later()
    response = await idle.create_post(ada, hook_post(account, scheduledTime=when))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"postSubmissionId", "status", "scheduledTime"}
    assert body["status"] == "scheduled"
    assert re.match(ISO_MS, body["scheduledTime"])
    assert body["scheduledTime"] == when.replace("Z", ".000Z")


async def test_a_scheduled_time_with_an_offset_is_converted_to_utc(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(
        ada, hook_post(account, scheduledTime="2099-03-10T17:30:00+02:00")
    )
    assert response.status_code == 201
    assert response.json()["scheduledTime"] == "2099-03-10T15:30:00.000Z"


async def test_a_scheduled_time_with_milliseconds_keeps_them(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(
        ada, hook_post(account, scheduledTime="2099-03-10T15:30:00.250Z")
    )
    assert response.json()["scheduledTime"] == "2099-03-10T15:30:00.250Z"


@pytest.mark.parametrize(
    "value", ["2099-03-10T15:30:00", "2099-03-10 15:30", "2099-03-10T15:30:00.000"]
)
async def test_a_scheduled_time_without_an_offset_is_a_422(
    idle: Harness, ada: Caller, value: str
) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, scheduledTime=value))
    assert_422(response, path="scheduledTime")
    assert "offset" in response.json()["message"]


@pytest.mark.parametrize("value", ["tomorrow", "2099-13-40T25:00:00Z", "", 1773156600, True])
async def test_a_scheduled_time_that_is_not_a_date_time_is_a_422(
    idle: Harness, ada: Caller, value: object
) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, scheduledTime=value))
    assert_422(response, path="scheduledTime")


async def test_a_scheduled_time_more_than_a_minute_ago_is_a_422_with_the_compat_message(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    for seconds in (90, 3600, 86400 * 400):
        past = in_seconds(-seconds).isoformat()
        response = await idle.create_post(ada, hook_post(account, scheduledTime=past))
        assert_422(response, message="scheduledTime must be in the future")
        assert response.json()["errors"][0]["path"] == "scheduledTime"


async def test_a_scheduled_time_within_a_minute_ago_publishes_now(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    for seconds in (1, 30, 50):
        past = in_seconds(-seconds).isoformat()
        response = await idle.create_post(ada, hook_post(account, scheduledTime=past))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "in-progress"
        assert "scheduledTime" not in body


async def test_a_scheduled_time_wins_over_use_next_free_slot(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)  # no slot at all: the slot path would be a 422
    when = later(3)
    response = await idle.create_post(
        ada, hook_post(account, scheduledTime=when, useNextFreeSlot=True)
    )
    assert response.status_code == 201, response.text
    assert response.json()["scheduledTime"] == when.replace("Z", ".000Z")


async def test_use_next_free_slot_without_a_slot_is_a_422_no_available_slot(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, useNextFreeSlot=True))
    assert response.status_code == 422
    assert response.json()["message"].startswith("No available slot")


async def test_use_next_free_slot_ignores_slots_of_other_accounts(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada, username="one")
    other = await idle.account(ada, username="two")
    await make_slot(idle, ada, other, in_seconds(86400))
    response = await idle.create_post(ada, hook_post(account, useNextFreeSlot=True))
    assert response.status_code == 422
    assert response.json()["message"].startswith("No available slot")


async def test_use_next_free_slot_must_be_a_boolean(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, useNextFreeSlot="yes"))
    assert_422(response, path="useNextFreeSlot")


async def make_slot(harness: Harness, caller: Caller, account: str, at: datetime) -> str:
    at = at.astimezone(UTC)
    slot = {
        "hour": at.hour,
        "minute": at.minute,
        "day": at.strftime("%A").lower(),
        "selectedTargets": [{"platform": "webhook", "accountId": account}],
    }
    response = await harness.client.post(
        "/v2/schedule/slots", json={"slots": [slot]}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    slot_id: str = response.json()["items"][0]["id"]
    return slot_id


def at_minute(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(second=0, microsecond=0)


async def test_use_next_free_slot_takes_the_earliest_free_slot(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    soon, sooner = at_minute(in_seconds(2 * 86400)), at_minute(in_seconds(86400))
    await make_slot(idle, ada, account, soon)
    await make_slot(idle, ada, account, sooner)

    first = await idle.create_post(ada, hook_post(account, useNextFreeSlot=True))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "scheduled"
    assert first.json()["scheduledTime"] == iso(sooner)
    second = await idle.create_post(ada, hook_post(account, useNextFreeSlot=True))
    assert second.json()["scheduledTime"] == iso(soon)
    third = await idle.create_post(ada, hook_post(account, useNextFreeSlot=True))
    assert third.json()["scheduledTime"] == iso(sooner + timedelta(days=7))


async def test_a_slot_taken_by_a_scheduled_post_is_skipped(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    sooner = at_minute(in_seconds(86400))
    await make_slot(idle, ada, account, sooner)
    await created_id(idle, ada, hook_post(account, scheduledTime=sooner.isoformat()))
    response = await idle.create_post(ada, hook_post(account, useNextFreeSlot=True))
    assert response.json()["scheduledTime"] == iso(sooner + timedelta(days=7))


async def test_concurrent_next_free_slot_requests_get_distinct_slots(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    first, second = at_minute(in_seconds(86400)), at_minute(in_seconds(2 * 86400))
    await make_slot(idle, ada, account, first)
    await make_slot(idle, ada, account, second)

    responses = await asyncio.gather(
        *(idle.create_post(ada, hook_post(account, useNextFreeSlot=True)) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    times = sorted(r.json()["scheduledTime"] for r in responses)
    expected = sorted(iso(t + timedelta(weeks=w)) for t in (first, second) for w in range(5))
    assert times == expected


# --- refusals -------------------------------------------------------------------------------


async def test_invalid_json_is_a_400(idle: Harness, ada: Caller) -> None:
    response = await post_raw(idle, ada, b'{"post": ')
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


async def test_an_empty_body_is_a_400(idle: Harness, ada: Caller) -> None:
    for content in (b"", b"  \n"):
        response = await post_raw(idle, ada, content)
        assert response.status_code == 400
        assert response.json()["message"]


@pytest.mark.parametrize("content", [b"[]", b'"post"', b"42", b"null", b"true"])
async def test_a_body_that_is_not_an_object_is_a_422(
    idle: Harness, ada: Caller, content: bytes
) -> None:
    response = await post_raw(idle, ada, content)
    assert_422(response)


async def test_a_body_without_post_is_a_422_naming_post(idle: Harness, ada: Caller) -> None:
    response = await idle.create_post(ada, {"scheduledTime": later()})
    assert_422(response, path="post")


async def test_a_post_missing_its_fields_names_each_one(idle: Harness, ada: Caller) -> None:
    response = await idle.create_post(ada, {"post": {}})
    assert_422(response)
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"post.accountId", "post.target", "post.content"} <= paths


async def test_text_and_media_urls_are_required(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account)
    del body["post"]["content"]["text"]
    del body["post"]["content"]["mediaUrls"]
    response = await idle.create_post(ada, body)
    assert_422(response)
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"post.content.text", "post.content.mediaUrls"} <= paths


async def test_an_empty_text_is_accepted_where_the_platform_allows_it(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, text=""))
    assert response.status_code == 201, response.text


async def test_another_users_account_id_is_a_422_wrong_account_id(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    account = await idle.account(bob)
    response = await idle.create_post(ada, hook_post(account))
    assert_422(response, message="Wrong Account ID")
    assert response.json()["errors"][0]["path"] == "post.accountId"


async def test_an_unknown_account_id_is_a_422_wrong_account_id(idle: Harness, ada: Caller) -> None:
    response = await idle.create_post(ada, hook_post("987654321"))
    assert_422(response, message="Wrong Account ID")


@pytest.mark.parametrize("account_id", ["0", "01", "abc", "-5", 98432, ""])
async def test_an_account_id_that_is_not_a_numeric_string_is_a_422(
    idle: Harness, ada: Caller, account_id: object
) -> None:
    body = hook_post("1")
    body["post"]["accountId"] = account_id
    response = await idle.create_post(ada, body)
    assert_422(response, path="post.accountId")


async def test_content_platform_must_match_the_target_type(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "twitter")
    body = twitter_post(account)
    body["post"]["content"]["platform"] = "facebook"
    response = await idle.create_post(ada, body)
    assert_422(response, path="post.content.platform")


async def test_the_webhook_target_pairs_with_other_or_webhook(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    for platform, status in (("other", 201), ("webhook", 201), ("twitter", 422)):
        body = hook_post(account)
        body["post"]["content"]["platform"] = platform
        response = await idle.create_post(ada, body)
        assert response.status_code == status, (platform, response.text)


async def test_an_account_of_another_platform_than_the_target_is_a_422(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada, "facebook")
    response = await idle.create_post(ada, hook_post(account))
    assert_422(response, path="post.target.targetType")


async def test_an_unknown_target_type_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account)
    body["post"]["target"]["targetType"] = "myspace"
    response = await idle.create_post(ada, body)
    assert_422(response, path="post.target.targetType")


async def test_additional_posts_on_facebook_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "facebook", subaccounts=[("page", "111", "Page")])
    body = facebook_post(account, "111")
    body["post"]["content"]["additionalPosts"] = [{"text": "more", "mediaUrls": []}]
    response = await idle.create_post(ada, body)
    assert_422(response, path="post.content.additionalPosts")


async def test_a_platform_without_a_publisher_on_this_server_is_a_422_naming_target_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "AVAILABLE", AVAILABLE - {"linkedin"})
    settings = make_settings(tmp_path, api_rate_limits="off")
    async with running_app(settings, run_worker=False) as app:
        ada = await app.user()
        account = await app.account(ada, "linkedin")
        body = twitter_post(account)
        body["post"]["content"]["platform"] = "linkedin"
        body["post"]["target"]["targetType"] = "linkedin"
        response = await app.create_post(ada, body)
    assert_422(response, path="post.target.targetType")
    assert "linkedin" in response.json()["message"]


async def test_a_twitter_thread_is_accepted(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "twitter")
    body = twitter_post(account)
    body["post"]["content"]["additionalPosts"] = [{"text": "two", "mediaUrls": []}]
    response = await idle.create_post(ada, body)
    assert response.status_code == 201, response.text


async def test_a_facebook_page_id_not_among_the_accounts_pages_is_a_422_wrong_page_id(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    await idle.account(bob, "facebook", subaccounts=[("page", "222", "Bob's Page")])
    account = await idle.account(ada, "facebook", subaccounts=[("page", "111", "Page")])
    response = await idle.create_post(ada, facebook_post(account, "222"))
    assert_422(response, message="Wrong Page ID")
    assert response.json()["errors"][0]["path"] == "post.target.pageId"


async def test_a_facebook_post_without_page_id_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "facebook", subaccounts=[("page", "111", "Page")])
    body = facebook_post(account, "111")
    del body["post"]["target"]["pageId"]
    response = await idle.create_post(ada, body)
    assert_422(response, path="post.target.pageId")
    assert response.json()["message"] == "post.target.pageId: is required for facebook"


async def test_a_webhook_post_without_url_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account)
    del body["post"]["target"]["url"]
    response = await idle.create_post(ada, body)
    assert_422(response, path="post.target.url")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/hook",
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://LOCALHOST/hook",
        "http://api.localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://0x7f.0.0.1/hook",
        "http://0177.0.0.1/hook",
        "http://127.1/hook",
        "http://017700000001/hook",
        "http://user:pass@example.com/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
    ],
)
async def test_a_webhook_url_pointing_inside_is_a_422_naming_the_url(
    idle: Harness, ada: Caller, url: str
) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, url=url))
    assert_422(response, path="post.target.url")


async def test_a_public_webhook_url_is_accepted(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, url=FAR_HOOK))
    assert response.status_code == 201


async def test_the_operators_allowed_address_is_accepted(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    response = await harness.create_post(caller, hook_post(account, url=receiver.url))
    assert response.status_code == 201, response.text
    other_port = receiver.url.replace(f":{receiver.port}/", f":{receiver.port + 1}/")
    response = await harness.create_post(caller, hook_post(account, url=other_port))
    assert response.status_code == 422


async def test_a_refused_post_is_not_stored(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    await idle.create_post(ada, hook_post(account, url="http://10.0.0.1/x"))
    await idle.create_post(ada, hook_post("99999"))
    listed = await idle.client.get("/v2/posts", headers=ada.headers)
    assert listed.json() == {"items": []}
