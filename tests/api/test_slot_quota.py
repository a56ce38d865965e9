"""Slots are bounded per request (MASTHEAD_SLOTS_PER_REQUEST) and per user
(MASTHEAD_SLOTS_PER_USER): past either, a 422 on `slots` saying which, and nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.test_slots import create, slot
from tests.conftest import make_settings
from tests.support.harness import Harness, running_app


@pytest.fixture
async def bounded(tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(tmp_path, api_rate_limits="off", slots_per_request=3, slots_per_user=5)
    async with running_app(settings, run_worker=False) as running:
        yield running


async def _count(harness: Harness, headers: dict[str, str]) -> int:
    listed = await harness.client.get("/v2/schedule/slots", headers=headers)
    return len(listed.json()["items"])


async def test_more_slots_than_a_request_may_carry_is_a_422(bounded: Harness) -> None:
    ada = await bounded.user()
    account = await bounded.account(ada)

    refused = await create(bounded, ada, *[slot(account, hour=h) for h in range(4)])
    accepted = await create(bounded, ada, *[slot(account, hour=h) for h in range(3)])

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"path": "slots", "message": "has 4 slots; at most 3 per request"}
    ]
    assert accepted.status_code == 201
    assert await _count(bounded, ada.headers) == 3


async def test_a_user_past_their_slot_quota_gets_a_422_and_nothing_is_stored(
    bounded: Harness,
) -> None:
    ada = await bounded.user("ada@example.com")
    bob = await bounded.user("bob@example.com")
    account = await bounded.account(ada)
    assert (
        await create(bounded, ada, *[slot(account, hour=h) for h in range(3)])
    ).status_code == 201

    refused = await create(bounded, ada, *[slot(account, hour=h) for h in range(3)])
    last = await create(bounded, ada, *[slot(account, hour=h) for h in range(2)])
    theirs = await create(bounded, bob, slot(await bounded.account(bob)))

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["path"] == "slots"
    assert "at most 5 per user" in refused.json()["message"]
    assert [last.status_code, theirs.status_code] == [201, 201]
    assert await _count(bounded, ada.headers) == 5
