"""Section 0: error shapes. Every error has a `message`; a server fault never leaks a trace."""

from __future__ import annotations

from typing import Any

import pytest

from masthead.metrics import HTTP_REQUESTS
from masthead.services import accounts as account_service
from masthead.services.api_keys import MISSING_KEY
from masthead.store import posts as post_store
from masthead.store import users
from tests.api.conftest import hook_post, later
from tests.support.harness import Caller, Harness

FAULT = {"code": 9999, "message": "An unknown error occurred."}


def explode(*_: Any, **__: Any) -> Any:
    raise RuntimeError("boom: /secret/path/db.py line 42")


def assert_fault(response: Any) -> None:
    assert response.status_code == 500
    assert response.json() == FAULT
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    assert "boom" not in response.text


async def test_a_fault_in_a_read_route_is_the_compat_500(
    idle: Harness, ada: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(post_store, "list_posts", explode)
    response = await idle.client.get("/v2/posts", headers=ada.headers)
    assert_fault(response)
    assert response.headers["x-request-id"]


async def test_a_fault_while_creating_a_post_is_the_compat_500(
    idle: Harness, ada: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await idle.account(ada)
    monkeypatch.setattr(post_store, "insert_post", explode)
    response = await idle.client.post(
        "/v2/posts", json=hook_post(account), headers={**ada.headers, "x-request-id": "trace-2"}
    )
    assert_fault(response)
    assert response.headers["x-request-id"] == "trace-2"
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_fault_in_authentication_is_the_compat_500(
    idle: Harness, ada: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users, "active_keys_with_prefix", explode)
    assert_fault(await idle.client.get("/v2/users/me", headers=ada.headers))


async def test_a_fault_in_the_account_lookup_is_the_compat_500(
    idle: Harness, ada: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await idle.account(ada)
    monkeypatch.setattr(account_service, "_load", explode)
    assert_fault(await idle.create_post(ada, hook_post(account)))


@pytest.mark.parametrize("key", ["valid", "missing"])
async def test_a_new_post_is_answered_through_every_middleware(
    idle: Harness, ada: Caller, key: str
) -> None:
    """POST /v2/posts skips the router (api/fast_routes.py), not the request id, the
    security headers, the metrics or the error handlers."""
    account = await idle.account(ada)
    counted = HTTP_REQUESTS.labels("POST", "/v2/posts", "201" if key == "valid" else "401")
    before = counted._value.get()
    headers = ada.headers if key == "valid" else {"blotato-api-key": ""}
    response = await idle.client.post(
        "/v2/posts", json=hook_post(account), headers={**headers, "x-request-id": "trace-1"}
    )

    assert response.status_code == (201 if key == "valid" else 401)
    assert response.headers["x-request-id"] == "trace-1"
    assert response.headers["x-frame-options"] == "DENY"
    assert counted._value.get() == before + 1
    if key == "missing":
        assert response.json() == {"message": MISSING_KEY}


async def test_the_server_keeps_answering_after_a_fault(
    idle: Harness, ada: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(post_store, "list_posts", explode)
        assert (await idle.client.get("/v2/posts", headers=ada.headers)).status_code == 500
    assert (await idle.client.get("/v2/posts", headers=ada.headers)).status_code == 200


async def test_an_unknown_route_is_a_404_with_a_message(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/nothing-here", headers=ada.headers)
    assert response.status_code == 404
    assert set(response.json()) == {"message"}


async def test_a_wrong_method_is_a_405_with_a_message(idle: Harness, ada: Caller) -> None:
    response = await idle.client.put("/v2/posts", headers=ada.headers)
    assert response.status_code == 405
    assert response.json()["message"]


async def test_a_body_over_two_megabytes_is_a_413(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    response = await idle.create_post(ada, hook_post(account, text="x" * (2 * 1024 * 1024)))
    assert response.status_code == 413
    assert response.json()["message"]


async def test_a_validation_error_names_its_field_and_lists_every_problem(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada)
    body = hook_post(account, scheduledTime="soon")
    del body["post"]["content"]["mediaUrls"]
    response = await idle.create_post(ada, body)
    assert response.status_code == 422
    result = response.json()
    first = result["errors"][0]
    assert result["message"] == f"{first['path']}: {first['message']}"
    assert {e["path"] for e in result["errors"]} == {"post.content.mediaUrls", "scheduledTime"}
    assert all(set(e) == {"path", "message"} for e in result["errors"])


async def test_a_query_validation_error_has_the_same_shape(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/posts?limit=0", headers=ada.headers)
    body = response.json()
    assert response.status_code == 422
    assert body["message"].startswith("limit: ")
    assert body["errors"][0]["path"] == "limit"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v2/posts/00000000-0000-0000-0000-000000000000", None),
        ("GET", "/v2/schedules/00000000-0000-0000-0000-000000000000", None),
        ("PATCH", "/v2/schedules/00000000-0000-0000-0000-000000000000", {"patch": {}}),
        ("POST", "/v2/schedule/slots", {"slots": [{"hour": 99}]}),
        ("GET", "/v2/users/me/accounts/123/subaccounts", None),
        ("GET", "/v2/social/pinterest/boards", None),
        ("POST", "/v2/posts", {"post": None}),
    ],
)
async def test_every_error_body_has_a_message(
    idle: Harness, ada: Caller, method: str, path: str, body: Any
) -> None:
    response = await idle.client.request(method, path, json=body, headers=ada.headers)
    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["message"], str)
    assert response.json()["message"]


async def test_responses_are_json(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada)
    created = await idle.create_post(ada, hook_post(account, scheduledTime=later()))
    for response in (
        created,
        await idle.client.get("/v2/users/me", headers=ada.headers),
        await idle.client.get("/v2/posts", headers=ada.headers),
        await idle.client.get("/v2/schedules", headers=ada.headers),
    ):
        assert response.headers["content-type"] == "application/json"


async def test_an_oversized_streamed_body_is_a_413(idle: Harness, ada: Caller) -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * (128 * 1024)

    response = await idle.client.post(
        "/v2/posts", content=chunks(), headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["message"]
