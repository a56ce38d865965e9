"""The fake Threads holds publishers to Meta's rules: a request that breaks them is refused as
Meta refuses it and recorded, and a container becomes one post at most."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.threads import FakeThreads


@pytest.fixture
def token(fake_threads: FakeThreads) -> str:
    body = fake_threads.issue_token(fake_threads.add_user("test"))
    value: str = body["access_token"]
    return value


async def _create(fake: FakeThreads, token: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=fake.url) as client:
        return await client.post(
            "/v1.0/me/threads", data=params, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"media_type": "TEXT", "text": "hi", "replyControl": "everyone"}, "Unknown parameter"),
        ({"media_type": "IMAGE", "text": "no image"}, "image_url is required"),
        ({"media_type": "TEXT", "text": "x" * 501}, "at most 500 characters"),
        ({"media_type": "TEXT", "text": "x" * 497 + "😀"}, "at most 500 characters"),
        ({"media_type": "TEXT", "text": "hi", "reply_control": "friends"}, "must be one of"),
        ({"media_type": "POLL", "text": "hi"}, "must be one of"),
        ({"media_type": "CAROUSEL", "children": "1"}, "between 2 and 20 children"),
        ({"text": "hi"}, "media_type is required"),
    ],
)
async def test_requests_that_break_meta_rules_are_refused_and_recorded(
    fake_threads: FakeThreads, token: str, params: dict[str, str], problem: str
) -> None:
    response = await _create(fake_threads, token, **params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert problem in response.json()["error"]["message"]
    assert len(fake_threads.invalid) == 1 and problem in fake_threads.invalid[0]
    fake_threads.invalid.clear()


async def test_a_container_is_published_once_at_most(fake_threads: FakeThreads, token: str) -> None:
    container = (await _create(fake_threads, token, media_type="TEXT", text="once")).json()["id"]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=fake_threads.url, headers=headers) as client:
        first = await client.post("/v1.0/me/threads_publish", data={"creation_id": container})
        second = await client.post("/v1.0/me/threads_publish", data={"creation_id": container})
        status = await client.get(f"/v1.0/{container}", params={"fields": "status"})

    assert first.status_code == 200 and second.status_code == 400
    assert status.json() == {"id": container, "status": "PUBLISHED"}
    assert len(fake_threads.posts) == 1
