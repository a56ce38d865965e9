"""Connecting Pinterest through the browser: boards become subaccounts, listed for
`GET /v2/social/pinterest/boards`; and a pin whose answer was lost is found on its board."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, PublishContext
from masthead.platforms.pinterest import PinterestPublisher
from masthead.store import accounts
from tests.fakes.pinterest import FakePinterest
from tests.platforms.pinterest.conftest import pin_post
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.images import png
from tests.support.platforms import connected_account, publish


async def test_oauth_connects_the_account_and_lists_its_boards(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller = await pinterest_app.user()
    user = fake_pinterest.add_user("baker", boards=("Bread", "Cakes"))
    fake_pinterest.authorize_as = user.id

    start = await pinterest_app.client.post("/oauth/pinterest/start", headers=caller.headers)
    url = start.json()["authorizeUrl"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(fake_pinterest.authorize_url + "?")
    assert set(query["scope"][0].split(",")) >= {"pins:write", "boards:read"}
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url)
    assert consent.status_code == 302
    page = await pinterest_app.client.get(consent.headers["location"])
    assert page.status_code == 200, page.text

    [account] = (
        await pinterest_app.client.get("/v2/users/me/accounts", headers=caller.headers)
    ).json()["items"]
    assert account["platform"] == "pinterest" and account["username"] == "baker"
    boards = await pinterest_app.client.get(
        "/v2/social/pinterest/boards", params={"accountId": account["id"]}, headers=caller.headers
    )
    assert boards.status_code == 200, boards.text
    assert sorted(b["name"] for b in boards.json()["items"]) == ["Bread", "Cakes"]
    assert {b["id"] for b in boards.json()["items"]} == set(user.boards)

    board = next(iter(user.boards))
    image = files.add("loaf.png", png(20, 20))
    status = await publish(pinterest_app, caller, pin_post(account["id"], board, "loaf", (image,)))
    assert status["status"] == "published", status
    assert fake_pinterest.calls("token")[0].body.startswith(b"grant_type=authorization_code")


async def test_every_board_is_found_across_pages(
    pinterest_app: Harness, fake_pinterest: FakePinterest
) -> None:
    caller = await pinterest_app.user()
    fake_pinterest.boards_page_size_cap = 2
    user = fake_pinterest.add_user("many", boards=tuple(f"Board {i}" for i in range(5)))

    account = await connected_account("pinterest", pinterest_app, caller, fake_pinterest, user)

    subs = await pinterest_app.db.read(lambda c: accounts.list_subaccounts(c, int(account)))
    assert sorted(s.external_id for s in subs) == sorted(user.boards)
    assert len(fake_pinterest.calls("boards")) == 3


async def test_a_board_the_account_does_not_have_is_refused_at_request_time(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller = await pinterest_app.user()
    user = fake_pinterest.add_user("mine")
    account = await connected_account("pinterest", pinterest_app, caller, fake_pinterest, user)

    response = await pinterest_app.create_post(
        caller, pin_post(account, "999", "nope", (files.add("n.png", png(9, 9)),))
    )

    assert response.status_code in (400, 422), response.text
    assert fake_pinterest.calls("pins") == []


async def test_reconcile_after_a_crash_finds_the_pin_and_says_unknown_when_there_is_none(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    publisher = pinterest_app.ctx.publishers["pinterest"]
    assert isinstance(publisher, PinterestPublisher)
    caller = await pinterest_app.user()
    user = fake_pinterest.add_user("crash")
    account = int(await connected_account("pinterest", pinterest_app, caller, fake_pinterest, user))
    board = next(iter(user.boards))
    prepared = {"since": "2026-01-01T00:00:00.000Z", "image_urls": [files.add("c.png", png(9, 9))]}

    def context(text: str) -> PublishContext:
        return PublishContext(
            post_id="p",
            account=AccountInfo(account, "pinterest", user.id, user.username),
            target={"targetType": "pinterest", "boardId": board, "title": "Crash"},
            items=(ThreadItem(text),),
            scheduled_at=None,
            signing_secret="",
            credentials=AccountCredentials(pinterest_app.db, pinterest_app.ctx.secrets, account),
        )

    sent = await publisher.send(context("went out"), 0, prepared)

    assert await publisher.reconcile(context("went out"), 0, prepared) == sent
    assert await publisher.reconcile(context("never sent"), 0, prepared) is None
    assert len(fake_pinterest.pins) == 1
