"""Section 7: request limits per user (all their keys together), answered 429 with Retry-After."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from masthead.api.ratelimit import BLOTATO_LIMITS, parse_limits
from masthead.config import Settings
from tests.api.conftest import hook_post
from tests.api.test_auth import add_key
from tests.conftest import make_settings
from tests.support.harness import Caller, Harness, running_app

LIMITED = re.compile(r"^Rate limit exceeded, retry in (\d+) seconds$")


@asynccontextmanager
async def limited_app(tmp_path: Path, limits: str) -> AsyncIterator[Harness]:
    async with running_app(make_settings(tmp_path, api_rate_limits=limits), run_worker=False) as h:
        yield h


async def post_n(harness: Harness, caller: Caller, account: str, n: int) -> list[int]:
    return [(await harness.create_post(caller, hook_post(account))).status_code for _ in range(n)]


async def stored(harness: Harness, caller: Caller) -> int:
    # GET /v2/posts is limited too, but far from its limit here.
    response = await harness.client.get("/v2/posts", params={"limit": 250}, headers=caller.headers)
    assert response.status_code == 200
    return len(response.json()["items"])


async def test_the_31st_post_in_a_minute_is_a_429_with_retry_after(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "blotato") as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        assert await post_n(harness, caller, account, 30) == [201] * 30
        response = await harness.create_post(caller, hook_post(account))
        assert response.status_code == 429
        body = response.json()
        assert set(body) == {"statusCode", "message"}
        assert body["statusCode"] == 429
        match = LIMITED.match(body["message"])
        assert match, body["message"]
        assert 1 <= int(match.group(1)) <= 60
        assert response.headers["Retry-After"] == match.group(1)
        assert await stored(harness, caller) == 30


async def test_an_unlimited_route_is_never_limited(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "blotato") as harness:
        caller = await harness.user()
        for _ in range(100):
            response = await harness.client.get("/v2/users/me", headers=caller.headers)
            assert response.status_code == 200


async def test_a_second_key_is_not_a_second_allowance(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "POST /v2/posts=3/min") as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        second = Caller(caller.user_id, caller.email, "blt_" + secrets.token_urlsafe(32))
        await add_key(harness, caller, second.key)
        assert await post_n(harness, caller, account, 2) == [201, 201]
        assert await post_n(harness, second, account, 2) == [201, 429]
        assert await post_n(harness, caller, account, 1) == [429]


async def test_limits_are_per_user(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "POST /v2/posts=2/min") as harness:
        ada = await harness.user("ada@example.com")
        bob = await harness.user("bob@example.com")
        assert await post_n(harness, ada, await harness.account(ada), 3) == [201, 201, 429]
        assert await post_n(harness, bob, await harness.account(bob), 3) == [201, 201, 429]


async def test_limits_are_per_route(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "POST /v2/posts=1/min") as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        assert await post_n(harness, caller, account, 2) == [201, 429]
        response = await harness.client.get("/v2/posts", headers=caller.headers)
        assert response.status_code == 200


async def test_off_disables_every_limit(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "off") as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        assert await post_n(harness, caller, account, 35) == [201] * 35


async def test_a_custom_limit_overrides_the_default(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "POST /v2/posts=5/min") as harness:
        caller = await harness.user()
        account = await harness.account(caller)
        statuses = await post_n(harness, caller, account, 6)
        assert statuses == [201] * 5 + [429]


async def test_reading_a_post_is_limited_to_60_a_minute_apart_from_listing(
    tmp_path: Path,
) -> None:
    async with limited_app(tmp_path, "blotato") as harness:
        caller = await harness.user()
        path = "/v2/posts/00000000-0000-0000-0000-000000000000"
        statuses = [
            (await harness.client.get(path, headers=caller.headers)).status_code for _ in range(61)
        ]
        assert statuses == [404] * 60 + [429]
        listed = await harness.client.get("/v2/posts", headers=caller.headers)
        assert listed.status_code == 200


async def test_listing_posts_is_limited_to_60_a_minute(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "GET /v2/posts=60/min") as harness:
        caller = await harness.user()
        statuses = [
            (await harness.client.get("/v2/posts", headers=caller.headers)).status_code
            for _ in range(61)
        ]
        assert statuses == [200] * 60 + [429]


async def test_pinterest_boards_are_limited_to_45_a_minute(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "blotato") as harness:
        caller = await harness.user()
        account = await harness.account(caller, "pinterest")
        statuses = [
            (
                await harness.client.get(
                    "/v2/social/pinterest/boards",
                    params={"accountId": account},
                    headers=caller.headers,
                )
            ).status_code
            for _ in range(46)
        ]
        assert statuses == [200] * 45 + [429]


async def test_an_unauthenticated_request_is_401_not_429(tmp_path: Path) -> None:
    async with limited_app(tmp_path, "POST /v2/posts=1/min") as harness:
        for _ in range(3):
            response = await harness.client.post("/v2/posts", json={})
            assert response.status_code == 401


def test_parse_limits_understands_blotato_off_and_overrides() -> None:
    assert parse_limits("blotato") == BLOTATO_LIMITS
    assert parse_limits("") == BLOTATO_LIMITS
    assert parse_limits("off") == {}
    assert parse_limits("OFF") == {}
    custom = parse_limits("POST /v2/posts=5/min, GET  /v2/posts=0/min")
    assert custom["POST /v2/posts"] == 5
    assert "GET /v2/posts" not in custom
    assert custom["POST /v2/media"] == 30


@pytest.mark.parametrize("spec", ["POST /v2/posts=5/hour", "POST /v2/posts", "POST /v2/posts=x"])
def test_parse_limits_refuses_what_it_cannot_read(spec: str) -> None:
    with pytest.raises(ValueError, match="MASTHEAD_API_RATE_LIMITS"):
        parse_limits(spec)


@pytest.mark.postgres
async def test_on_postgresql_api_processes_share_one_count_per_user(
    tmp_path: Path, fresh_pg_url: str
) -> None:
    def settings(name: str) -> Settings:
        return make_settings(
            tmp_path / name, database_url=fresh_pg_url, api_rate_limits="POST /v2/posts=3/min"
        )

    async with (
        running_app(settings("a"), run_worker=False) as first,
        running_app(settings("b"), run_worker=False) as second,
    ):
        caller = await first.user()
        account = await first.account(caller)
        other_key = Caller(caller.user_id, caller.email, "blt_" + secrets.token_urlsafe(32))
        await add_key(first, caller, other_key.key)
        answers = await post_n(first, caller, account, 2) + await post_n(
            second, other_key, account, 2
        )
        again = await post_n(first, caller, account, 1)

    assert answers == [201, 201, 201, 429]
    assert again == [429]
