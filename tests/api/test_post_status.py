"""Section 2: GET /v2/posts/{postSubmissionId} in each of its four states."""

from __future__ import annotations

import re

from tests.api.conftest import ISO_MS, created_id, hook_post, later
from tests.support.harness import Caller, Harness
from tests.support.receiver import Fault, Receiver


async def test_a_scheduled_post_reports_scheduled_with_its_time(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(
        idle, ada, hook_post(account, scheduledTime="2099-03-11T17:30:00+02:00")
    )
    response = await idle.client.get(f"/v2/posts/{post_id}", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {
        "postSubmissionId": post_id,
        "status": "scheduled",
        "scheduledTime": "2099-03-11T15:30:00.000Z",
    }
    assert re.match(ISO_MS, response.json()["scheduledTime"])


async def test_an_immediate_post_not_yet_sent_is_in_progress(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    post_id = await created_id(idle, ada, hook_post(account))
    assert await idle.status(ada, post_id) == {"postSubmissionId": post_id, "status": "in-progress"}


async def test_a_published_post_has_its_public_url_and_each_post(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    post_id = await created_id(harness, caller, hook_post(account, url=receiver.url))
    status = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "published", status
    assert status["postSubmissionId"] == post_id
    assert status["publicUrl"] == receiver.url
    assert "errorMessage" not in status
    assert "scheduledTime" not in status
    assert len(status["posts"]) == 1
    assert status["posts"][0]["publicUrl"] == receiver.url
    assert set(status["posts"][0]) == {"publicUrl", "platformPostId"}


async def test_a_permanently_failed_post_has_an_error_message(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.script.append(Fault(status=404))
    caller = await harness.user()
    account = await harness.account(caller)
    post_id = await created_id(harness, caller, hook_post(account, url=receiver.url))
    status = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "failed"
    assert isinstance(status["errorMessage"], str) and "404" in status["errorMessage"]
    assert "publicUrl" not in status
    assert "outcome" not in status


async def test_a_post_being_sent_is_in_progress(harness: Harness, receiver: Receiver) -> None:
    receiver.script.append(Fault(status=200, delay=1.0))
    caller = await harness.user()
    account = await harness.account(caller)
    post_id = await created_id(harness, caller, hook_post(account, url=receiver.url))
    await receiver.wait_for(1)
    assert (await harness.status(caller, post_id))["status"] == "in-progress"
    final = await harness.wait_status(caller, post_id, {"published", "failed"})
    assert final["status"] == "published"


async def test_an_unknown_post_id_is_a_404_post_not_found(idle: Harness, ada: Caller) -> None:
    for post_id in ("00000000-0000-0000-0000-000000000000", "nope", "1"):
        response = await idle.client.get(f"/v2/posts/{post_id}", headers=ada.headers)
        assert response.status_code == 404
        assert response.json() == {"message": "Post not found"}


async def test_another_users_post_is_a_404(idle: Harness, ada: Caller, bob: Caller) -> None:
    account = await idle.account(bob)
    post_id = await created_id(idle, bob, hook_post(account, scheduledTime=later()))
    response = await idle.client.get(f"/v2/posts/{post_id}", headers=ada.headers)
    assert response.status_code == 404
    assert response.json() == {"message": "Post not found"}
    assert (await idle.client.get(f"/v2/posts/{post_id}", headers=bob.headers)).status_code == 200


async def test_an_id_that_cannot_exist_is_a_404_not_a_validation_error(
    idle: Harness, ada: Caller
) -> None:
    for post_id in ("a" * 65, "x" * 2000, "bad%00id"):
        response = await idle.client.get(f"/v2/posts/{post_id}", headers=ada.headers)
        assert response.status_code == 404
        assert response.json() == {"message": "Post not found"}
