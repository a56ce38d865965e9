"""Connecting LinkedIn through the browser: the member's pages become subaccounts (pageId)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, PublishContext
from masthead.platforms.linkedin import LinkedInPublisher
from tests.conftest import make_settings
from tests.fakes.linkedin import FakeLinkedIn
from tests.platforms.linkedin.conftest import linkedin_post
from tests.support.harness import Harness, running_app
from tests.support.platforms import connected_account, publish

CALLBACK = "http://masthead.test/oauth/linkedin/callback"


async def test_oauth_connects_the_member_with_the_pages_they_administer(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Grace Hopper")
    page = fake_linkedin.add_organization("Navy Labs", {member.id: "ADMINISTRATOR"})
    fake_linkedin.add_organization("Watched Only", {member.id: "ANALYST"})
    fake_linkedin.add_organization("Someone Else's", {})
    fake_linkedin.authorize_as = member.id

    start = await linkedin_app.client.post("/oauth/linkedin/start", headers=caller.headers)
    url = start.json()["authorizeUrl"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(fake_linkedin.authorize_url + "?")
    assert "w_member_social" in query["scope"][0].split()
    assert "w_organization_social" in query["scope"][0].split()
    assert query["redirect_uri"] == [CALLBACK]
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url)
    assert consent.status_code == 302
    page_view = await linkedin_app.client.get(
        consent.headers["location"].removeprefix("http://masthead.test")
    )
    assert page_view.status_code == 200, page_view.text

    listed = await linkedin_app.client.get("/v2/users/me/accounts", headers=caller.headers)
    [account] = listed.json()["items"]
    assert account["platform"] == "linkedin" and account["fullname"] == "Grace Hopper"
    subs = await linkedin_app.client.get(
        f"/v2/users/me/accounts/{account['id']}/subaccounts", headers=caller.headers
    )
    assert [(s["id"], s["name"]) for s in subs.json()["items"]] == [(page.id, "Navy Labs")]

    status = await publish(linkedin_app, caller, linkedin_post(account["id"], "hi", page=page.id))
    assert status["status"] == "published", status
    assert len(fake_linkedin.posts_by(f"urn:li:organization:{page.id}")) == 1


async def test_a_page_the_member_does_not_run_is_refused_at_request_time(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Viewer")
    other = fake_linkedin.add_organization("Not Mine", {})
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)

    response = await linkedin_app.create_post(caller, linkedin_post(account, "x", page=other.id))

    assert response.status_code in (400, 422), response.text
    assert fake_linkedin.calls("posts") == []


async def _context(harness: Harness, fake: FakeLinkedIn, text: str) -> PublishContext:
    caller = await harness.user()
    member = fake.add_member("Crash")
    account = int(await connected_account("linkedin", harness, caller, fake, member))
    return PublishContext(
        post_id="p",
        account=AccountInfo(account, "linkedin", member.id, member.name),
        target={"targetType": "linkedin"},
        items=(ThreadItem(text),),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
    )


async def test_reconcile_after_a_crash_finds_the_post_that_went_out(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    publisher = linkedin_app.ctx.publishers["linkedin"]
    assert isinstance(publisher, LinkedInPublisher)
    ctx = await _context(linkedin_app, fake_linkedin, "went out [before] the crash")
    prepared = await publisher.prepare(ctx, 0)
    sent = await publisher.send(ctx, 0, prepared)

    assert await publisher.reconcile(ctx, 0, prepared) == sent
    assert len(fake_linkedin.posts) == 1


async def test_reconcile_says_unknown_when_linkedin_shows_no_such_post(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    publisher = linkedin_app.ctx.publishers["linkedin"]
    assert isinstance(publisher, LinkedInPublisher)
    ctx = await _context(linkedin_app, fake_linkedin, "never sent")
    prepared = await publisher.prepare(ctx, 0)

    assert await publisher.reconcile(ctx, 0, prepared) is None
    assert fake_linkedin.posts == {}


async def test_without_a_client_id_linkedin_says_which_settings_to_set(
    tmp_path: Path, fake_linkedin: FakeLinkedIn
) -> None:
    settings = make_settings(tmp_path, api_rate_limits="off", linkedin_api_url=fake_linkedin.url)
    async with running_app(settings) as app:
        caller = await app.user()
        response = await app.client.post("/oauth/linkedin/start", headers=caller.headers)
    assert response.status_code == 400
    assert "MASTHEAD_LINKEDIN_CLIENT_ID" in response.json()["message"]
