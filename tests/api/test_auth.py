"""Section 0: the `blotato-api-key` header on every /v2 route."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy.engine import Connection

from masthead.security import lookup_prefix
from masthead.store import users
from masthead.timeutil import utcnow
from tests.support.harness import Caller, Harness

V2_ROUTES = [
    ("GET", "/v2/users/me"),
    ("GET", "/v2/users/me/accounts"),
    ("GET", "/v2/users/me/accounts/1/subaccounts"),
    ("GET", "/v2/social/pinterest/boards?accountId=1"),
    ("POST", "/v2/posts"),
    ("GET", "/v2/posts"),
    ("GET", "/v2/posts/00000000-0000-0000-0000-000000000000"),
    ("GET", "/v2/schedules"),
    ("GET", "/v2/schedules/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/v2/schedules/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/v2/schedules/00000000-0000-0000-0000-000000000000"),
    ("GET", "/v2/schedule/slots"),
    ("POST", "/v2/schedule/slots"),
    ("PATCH", "/v2/schedule/slots/1"),
    ("DELETE", "/v2/schedules/slots/1"),
    ("POST", "/v2/schedule/slots/next-available"),
]


async def add_key(harness: Harness, caller: Caller, key: str) -> None:
    digest = harness.ctx.secrets.digest(key)
    now = utcnow()

    def work(conn: Connection) -> int:
        return users.add_api_key(
            conn,
            user_id=caller.user_id,
            name="extra",
            prefix=lookup_prefix(key),
            digest=digest,
            now=now,
        )

    await harness.db.write(work)


async def revoke(harness: Harness, key: str) -> None:
    now = utcnow()
    await harness.db.write(lambda conn: users.revoke_keys(conn, lookup_prefix(key), now))


@pytest.mark.parametrize(("method", "path"), V2_ROUTES)
async def test_every_v2_route_without_a_key_is_a_401_with_a_message(
    idle: Harness, method: str, path: str
) -> None:
    response = await idle.client.request(method, path, json={})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"message"}
    assert "blotato-api-key" in body["message"]


@pytest.mark.parametrize(("method", "path"), V2_ROUTES)
async def test_every_v2_route_with_an_unknown_key_is_a_401(
    idle: Harness, ada: Caller, method: str, path: str
) -> None:
    response = await idle.client.request(
        method, path, json={}, headers={"blotato-api-key": ada.key[:-1] + "x"}
    )
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


async def test_an_empty_key_is_a_401(idle: Harness) -> None:
    response = await idle.client.get("/v2/users/me", headers={"blotato-api-key": ""})
    assert response.status_code == 401
    assert response.json()["message"]


async def test_a_key_that_is_not_a_blotato_key_at_all_is_a_401(idle: Harness) -> None:
    response = await idle.client.get("/v2/users/me", headers={"blotato-api-key": "x"})
    assert response.status_code == 401
    assert response.json()["message"]


async def test_a_valid_key_is_accepted(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/users/me", headers=ada.headers)
    assert response.status_code == 200
    assert response.json()["id"] == ada.user_id


async def test_a_key_revoked_before_use_is_a_401(idle: Harness, ada: Caller) -> None:
    await revoke(idle, ada.key)
    response = await idle.client.get("/v2/users/me", headers=ada.headers)
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


async def test_a_key_revoked_after_use_stops_working_within_a_second(
    idle: Harness, ada: Caller
) -> None:
    assert (await idle.client.get("/v2/users/me", headers=ada.headers)).status_code == 200
    await revoke(idle, ada.key)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    status = 200
    while loop.time() < deadline:
        status = (await idle.client.get("/v2/users/me", headers=ada.headers)).status_code
        if status == 401:
            break
        await asyncio.sleep(0.05)
    assert status == 401


async def test_revoking_one_users_keys_leaves_other_users_working(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    await revoke(idle, ada.key)
    assert (await idle.client.get("/v2/users/me", headers=bob.headers)).status_code == 200


async def test_a_key_ending_in_equals_is_compared_exactly(idle: Harness, ada: Caller) -> None:
    key = "blt_" + secrets.token_urlsafe(30) + "="
    await add_key(idle, ada, key)

    exact = await idle.client.get("/v2/users/me", headers={"blotato-api-key": key})
    assert exact.status_code == 200
    assert exact.json()["id"] == ada.user_id
    for near in (key.rstrip("="), key + "=", key[:-1] + "%3D", key.lower(), key.upper()):
        response = await idle.client.get("/v2/users/me", headers={"blotato-api-key": near})
        assert response.status_code == 401, near


async def test_a_key_is_case_sensitive(idle: Harness, ada: Caller) -> None:
    flipped = ada.key[:4] + ada.key[4:].swapcase()
    response = await idle.client.get("/v2/users/me", headers={"blotato-api-key": flipped})
    assert response.status_code == 401


async def test_the_key_is_never_echoed_back(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/users/me", headers=ada.headers)
    assert ada.key not in response.text
    assert response.json()["apiKey"] is None


async def test_routes_outside_v2_need_no_key(idle: Harness) -> None:
    assert (await idle.client.get("/healthz")).status_code == 200
    assert (await idle.client.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/posts"),
        ("PATCH", "/v2/schedules/00000000-0000-0000-0000-000000000000"),
        ("POST", "/v2/schedule/slots"),
        ("PATCH", "/v2/schedule/slots/1"),
        ("POST", "/v2/schedule/slots/next-available"),
    ],
)
async def test_the_key_is_checked_before_the_body(idle: Harness, method: str, path: str) -> None:
    response = await idle.client.request(
        method, path, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


async def test_the_key_is_checked_before_the_query(idle: Harness) -> None:
    for path in ("/v2/posts?limit=0", "/v2/social/pinterest/boards", "/v2/schedules?limit=0"):
        response = await idle.client.get(path)
        assert response.status_code == 401, path
