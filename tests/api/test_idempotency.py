"""Section 2 (ours): the Idempotency-Key header on POST /v2/posts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from masthead.services.posts import request_hash
from masthead.store import idempotency
from masthead.timeutil import utcnow
from tests.api.conftest import hook_post, later
from tests.support.harness import Caller, Harness
from tests.support.receiver import Receiver


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def listed_ids(harness: Harness, caller: Caller) -> list[str]:
    response = await harness.client.get(
        "/v2/posts", params={"until": "2999-01-01T00:00:00Z"}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_same_key_and_body_replays_the_first_201(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account, scheduledTime=later())
    first = await idle.create_post(ada, body, keyed("order-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers

    second = await idle.create_post(ada, body, keyed("order-1"))
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await listed_ids(idle, ada) == [first.json()["postSubmissionId"]]


async def test_a_replay_does_not_depend_on_key_order_or_spacing(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account)
    first = await idle.create_post(ada, body, keyed("k"))
    reordered = {"post": {k: body["post"][k] for k in reversed(list(body["post"]))}}
    second = await idle.create_post(ada, reordered, keyed("k"))
    assert second.status_code == 201
    assert second.json() == first.json()


async def test_the_same_key_with_another_body_is_a_409(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    first = await idle.create_post(ada, hook_post(account, text="one"), keyed("k"))
    assert first.status_code == 201
    second = await idle.create_post(ada, hook_post(account, text="two"), keyed("k"))
    assert second.status_code == 409
    assert "Idempotency-Key" in second.json()["message"]
    assert await listed_ids(idle, ada) == [first.json()["postSubmissionId"]]


async def test_without_a_key_the_same_body_makes_two_posts(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    first = await idle.create_post(ada, hook_post(account))
    second = await idle.create_post(ada, hook_post(account))
    assert first.json()["postSubmissionId"] != second.json()["postSubmissionId"]
    assert len(await listed_ids(idle, ada)) == 2


async def test_different_keys_make_different_posts(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    first = await idle.create_post(ada, hook_post(account), keyed("a"))
    second = await idle.create_post(ada, hook_post(account), keyed("b"))
    assert first.json()["postSubmissionId"] != second.json()["postSubmissionId"]


async def test_different_users_may_use_the_same_key_independently(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    mine = await idle.account(ada)
    theirs = await idle.account(bob)
    first = await idle.create_post(ada, hook_post(mine, text="ada"), keyed("shared"))
    second = await idle.create_post(bob, hook_post(theirs, text="bob"), keyed("shared"))
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["postSubmissionId"] != second.json()["postSubmissionId"]
    assert await listed_ids(idle, bob) == [second.json()["postSubmissionId"]]


async def test_a_refused_request_is_not_remembered(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    refused = await idle.create_post(ada, hook_post("999999"), keyed("k"))
    assert refused.status_code == 422
    accepted = await idle.create_post(ada, hook_post(account), keyed("k"))
    assert accepted.status_code == 201
    assert "idempotent-replayed" not in accepted.headers


async def test_an_over_long_key_is_a_422(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account), keyed("k" * 256))
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["message"]


async def test_concurrent_identical_requests_with_one_key_make_one_post(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    body = hook_post(account, scheduledTime=later())
    responses = await asyncio.gather(
        *(idle.create_post(ada, body, keyed("burst")) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.json()["postSubmissionId"] for r in responses}) == 1
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count(None) == 1
    assert await listed_ids(idle, ada) == [responses[0].json()["postSubmissionId"]]


async def test_concurrent_requests_with_one_key_and_different_bodies_make_one_post(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    responses = await asyncio.gather(
        *(idle.create_post(ada, hook_post(account, text=str(i)), keyed("race")) for i in range(6))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert len(await listed_ids(idle, ada)) == 1


async def test_a_replayed_immediate_post_is_delivered_once(
    harness: Harness, receiver: Receiver
) -> None:
    caller = await harness.user()
    account = await harness.account(caller)
    body = hook_post(account, url=receiver.url)
    responses = await asyncio.gather(
        *(harness.create_post(caller, body, keyed("once")) for _ in range(5))
    )
    post_ids = {r.json()["postSubmissionId"] for r in responses}
    assert len(post_ids) == 1
    status = await harness.wait_status(caller, post_ids.pop(), {"published", "failed"})
    assert status["status"] == "published"
    again = await harness.create_post(caller, body, keyed("once"))
    assert again.headers["Idempotent-Replayed"] == "true"
    await asyncio.sleep(0.3)
    assert len(receiver.deliveries) == 1


async def test_a_key_older_than_a_day_starts_afresh(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    body = hook_post(account)
    old = utcnow() - timedelta(hours=25)
    await idle.db.write(
        lambda conn: idempotency.remember(
            conn,
            user_id=ada.user_id,
            key="yesterday",
            request_hash=request_hash(body),
            status_code=201,
            response={"postSubmissionId": "old", "status": "in-progress"},
            now=old,
        )
    )
    fresh = await idle.create_post(ada, body, keyed("yesterday"))
    assert fresh.status_code == 201, fresh.text
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["postSubmissionId"] != "old"
    again = await idle.create_post(ada, body, keyed("yesterday"))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == fresh.json()
