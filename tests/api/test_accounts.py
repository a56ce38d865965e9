"""Section 1: the caller, their accounts, subaccounts and Pinterest boards."""

from __future__ import annotations

from tests.support.harness import Caller, Harness


async def test_me_has_the_compat_shape_and_never_the_key(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/users/me", headers=ada.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["id"] == ada.user_id
    assert body["subscriptionStatus"] == "active"
    assert "apiKey" in body and body["apiKey"] is None
    assert body["email"] == "ada@example.com"
    assert body["name"] == "ada"
    assert body["webhookSigningSecret"].startswith("whsec_")


async def test_me_is_the_callers_own_user(idle: Harness, ada: Caller, bob: Caller) -> None:
    mine = (await idle.client.get("/v2/users/me", headers=ada.headers)).json()
    theirs = (await idle.client.get("/v2/users/me", headers=bob.headers)).json()
    assert mine["id"] == ada.user_id
    assert theirs["id"] == bob.user_id
    assert mine["webhookSigningSecret"] != theirs["webhookSigningSecret"]


async def test_no_accounts_is_an_empty_items_list(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/users/me/accounts", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_accounts_list_has_numeric_string_ids_and_the_compat_fields(
    idle: Harness, ada: Caller
) -> None:
    twitter = await idle.account(ada, "twitter", username="janesmith")
    hook = await idle.account(ada, "webhook", username="hook")
    response = await idle.client.get("/v2/users/me/accounts", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": twitter,
                "platform": "twitter",
                "fullname": "Janesmith",
                "username": "janesmith",
            },
            {"id": hook, "platform": "webhook", "fullname": "Hook", "username": "hook"},
        ]
    }
    assert all(item["id"].isdigit() for item in response.json()["items"])


async def test_accounts_list_filters_by_platform(idle: Harness, ada: Caller) -> None:
    await idle.account(ada, "twitter")
    facebook = await idle.account(ada, "facebook")
    response = await idle.client.get(
        "/v2/users/me/accounts", params={"platform": "facebook"}, headers=ada.headers
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [facebook]


async def test_accounts_list_with_a_platform_that_has_no_accounts_is_empty(
    idle: Harness, ada: Caller
) -> None:
    await idle.account(ada, "twitter")
    for platform in ("pinterest", "mastodon"):
        response = await idle.client.get(
            "/v2/users/me/accounts", params={"platform": platform}, headers=ada.headers
        )
        assert response.status_code == 200
        assert response.json() == {"items": []}


async def test_an_empty_platform_filter_lists_everything(idle: Harness, ada: Caller) -> None:
    await idle.account(ada, "twitter")
    response = await idle.client.get("/v2/users/me/accounts?platform=", headers=ada.headers)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


async def test_accounts_list_never_shows_another_users_accounts(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    await idle.account(bob, "twitter")
    mine = await idle.account(ada, "twitter")
    response = await idle.client.get("/v2/users/me/accounts", headers=ada.headers)
    assert [item["id"] for item in response.json()["items"]] == [mine]


async def test_subaccounts_lists_pages_with_the_compat_shape(idle: Harness, ada: Caller) -> None:
    account = await idle.account(
        ada,
        "facebook",
        subaccounts=[("page", "123456789", "My Business Page"), ("page", "42", "Other Page")],
    )
    response = await idle.client.get(
        f"/v2/users/me/accounts/{account}/subaccounts", headers=ada.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {"id": "123456789", "accountId": account, "name": "My Business Page"},
            {"id": "42", "accountId": account, "name": "Other Page"},
        ]
    }


async def test_subaccounts_accepts_and_ignores_a_platform_query(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "facebook", subaccounts=[("page", "7", "Page")])
    path = f"/v2/users/me/accounts/{account}/subaccounts"
    plain = await idle.client.get(path, headers=ada.headers)
    for platform in ("facebook", "linkedin", "nonsense"):
        response = await idle.client.get(path, params={"platform": platform}, headers=ada.headers)
        assert response.status_code == 200
        assert response.json() == plain.json()


async def test_an_account_without_subaccounts_has_an_empty_list(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "twitter")
    response = await idle.client.get(
        f"/v2/users/me/accounts/{account}/subaccounts", headers=ada.headers
    )
    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_subaccounts_of_an_unknown_account_is_a_404(idle: Harness, ada: Caller) -> None:
    for account in ("999999", "0", "abc", "1" * 30):
        response = await idle.client.get(
            f"/v2/users/me/accounts/{account}/subaccounts", headers=ada.headers
        )
        assert response.status_code == 404, account
        assert set(response.json()) == {"message"}


async def test_another_users_account_subaccounts_are_a_404(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    account = await idle.account(bob, "facebook", subaccounts=[("page", "7", "Bob's Page")])
    response = await idle.client.get(
        f"/v2/users/me/accounts/{account}/subaccounts", headers=ada.headers
    )
    assert response.status_code == 404
    assert "Bob" not in response.text


async def test_pinterest_boards_come_from_stored_board_subaccounts(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(
        ada, "pinterest", subaccounts=[("board", "111", "Recipes"), ("board", "222", "Travel")]
    )
    response = await idle.client.get(
        "/v2/social/pinterest/boards", params={"accountId": account}, headers=ada.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "items": [{"id": "111", "name": "Recipes"}, {"id": "222", "name": "Travel"}]
    }


async def test_pinterest_boards_are_capped_at_250(idle: Harness, ada: Caller) -> None:
    boards = [("board", str(1000 + i), f"Board {i}") for i in range(260)]
    account = await idle.account(ada, "pinterest", subaccounts=boards)
    response = await idle.client.get(
        "/v2/social/pinterest/boards", params={"accountId": account}, headers=ada.headers
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 250
    assert items[0] == {"id": "1000", "name": "Board 0"}


async def test_pinterest_boards_without_account_id_is_a_422(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get("/v2/social/pinterest/boards", headers=ada.headers)
    assert response.status_code == 422
    assert "accountId" in response.json()["message"]


async def test_pinterest_boards_of_a_non_pinterest_account_is_a_422(
    idle: Harness, ada: Caller
) -> None:
    account = await idle.account(ada, "facebook", subaccounts=[("page", "1", "Page")])
    response = await idle.client.get(
        "/v2/social/pinterest/boards", params={"accountId": account}, headers=ada.headers
    )
    assert response.status_code == 422
    assert "accountId" in response.json()["message"]


async def test_pinterest_boards_of_an_unknown_account_is_a_404(idle: Harness, ada: Caller) -> None:
    response = await idle.client.get(
        "/v2/social/pinterest/boards", params={"accountId": "987654"}, headers=ada.headers
    )
    assert response.status_code == 404
    assert response.json()["message"]


async def test_another_users_pinterest_boards_are_a_404(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    account = await idle.account(bob, "pinterest", subaccounts=[("board", "5", "Secret")])
    response = await idle.client.get(
        "/v2/social/pinterest/boards", params={"accountId": account}, headers=ada.headers
    )
    assert response.status_code == 404
    assert "Secret" not in response.text


async def test_boards_are_not_listed_as_subaccounts(idle: Harness, ada: Caller) -> None:
    account = await idle.account(ada, "pinterest", subaccounts=[("board", "5", "Board")])
    response = await idle.client.get(
        f"/v2/users/me/accounts/{account}/subaccounts", headers=ada.headers
    )
    assert response.json() == {"items": []}
