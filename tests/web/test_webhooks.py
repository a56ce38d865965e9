"""/settings/webhooks: create with the secret shown once, switch off and on, delete, the
delivery log with redelivery, the banner for a webhook Masthead switched off, CSRF and 404."""

from __future__ import annotations

import re

from httpx import AsyncClient as Client
from sqlalchemy import update

from masthead.store.models import WebhookSubscription
from masthead.timeutil import utcnow
from tests.api.conftest import hook_post, later
from tests.support.harness import Caller, Harness
from tests.support.web import page_token, sign_in, user_with_password
from tests.web.conftest import Browsers

HOOK = "https://hooks.example.com/events"


async def signed_in(web: tuple[Harness, Browsers], email: str) -> tuple[Caller, Client, str]:
    """A user signed in on their own browser, with the webhooks page's CSRF token."""
    harness, browser = web
    caller = await user_with_password(harness, email)
    client = browser()
    await sign_in(client, caller.email)
    return caller, client, await page_token(client, "/settings/webhooks")


async def test_create_shows_the_secret_once_then_lists_switches_and_deletes(
    web: tuple[Harness, Browsers],
) -> None:
    ada, client, token = await signed_in(web, "ada@example.com")

    created = await client.post(
        "/settings/webhooks",
        data={"csrf_token": token, "url": HOOK, "events": ["post.failed", "account.disconnected"]},
    )
    assert created.status_code == 201
    secret = re.search(r"whsec_[A-Za-z0-9_-]+", created.text)
    assert secret is not None
    listed = await client.get("/settings/webhooks")
    assert HOOK in listed.text and "post.failed, account.disconnected" in listed.text
    assert secret.group(0) not in listed.text
    [hook] = (await client.get("/v2/webhooks", headers=ada.headers)).json()["items"]

    off = await client.post(f"/settings/webhooks/{hook['id']}/disable", data={"csrf_token": token})
    assert off.status_code == 303
    assert (await client.get("/v2/webhooks", headers=ada.headers)).json()["items"][0][
        "enabled"
    ] is False
    gone = await client.post(f"/settings/webhooks/{hook['id']}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert (await client.get("/v2/webhooks", headers=ada.headers)).json() == {"items": []}


async def test_a_private_url_is_shown_as_refused(web: tuple[Harness, Browsers]) -> None:
    _, client, token = await signed_in(web, "ada@example.com")
    refused = await client.post(
        "/settings/webhooks", data={"csrf_token": token, "url": "http://169.254.169.254/"}
    )
    assert refused.status_code == 422
    assert "url: is refused" in refused.text


async def test_the_log_lists_deliveries_and_redelivers(web: tuple[Harness, Browsers]) -> None:
    harness, _ = web
    ada, client, token = await signed_in(web, "ada@example.com")
    await client.post("/settings/webhooks", data={"csrf_token": token, "url": HOOK})
    [hook] = (await client.get("/v2/webhooks", headers=ada.headers)).json()["items"]
    account = await harness.account(ada)
    await harness.create_post(ada, hook_post(account, scheduledTime=later()))

    log = await client.get(f"/settings/webhooks/{hook['id']}")
    assert "post.scheduled" in log.text and "pending" in log.text
    [delivery_id] = re.findall(r'id="delivery-(\d+)"', log.text)
    again = await client.post(
        f"/settings/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver",
        data={"csrf_token": token},
    )
    assert again.status_code == 303
    refused = await client.post(
        f"/settings/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver",
        data={"csrf_token": "x" * 43},
    )
    assert refused.status_code == 403


async def test_a_switched_off_webhook_shows_a_banner(web: tuple[Harness, Browsers]) -> None:
    harness, _ = web
    _, client, token = await signed_in(web, "ada@example.com")
    await client.post("/settings/webhooks", data={"csrf_token": token, "url": HOOK})
    reason = "Switched off: every delivery failed for 72 hours"
    await harness.db.write(
        lambda c: c.execute(
            update(WebhookSubscription).values(
                enabled=False, disabled_reason=reason, updated_at=utcnow()
            )
        )
    )
    html = (await client.get("/settings/webhooks")).text
    assert 'role="alert"' in html and reason in html


async def test_another_users_webhook_is_404(web: tuple[Harness, Browsers]) -> None:
    ada, ada_client, token = await signed_in(web, "ada@example.com")
    await ada_client.post("/settings/webhooks", data={"csrf_token": token, "url": HOOK})
    [hook] = (await ada_client.get("/v2/webhooks", headers=ada.headers)).json()["items"]
    _, eve_client, eve_token = await signed_in(web, "eve@example.com")
    base = f"/settings/webhooks/{hook['id']}"
    answers = [
        (await eve_client.get(base)).status_code,
        (await eve_client.post(f"{base}/disable", data={"csrf_token": eve_token})).status_code,
        (await eve_client.post(f"{base}/delete", data={"csrf_token": eve_token})).status_code,
        (
            await eve_client.post(f"{base}/deliveries/1/redeliver", data={"csrf_token": eve_token})
        ).status_code,
    ]
    assert answers == [404] * 4
    assert HOOK not in (await eve_client.get("/settings/webhooks")).text
    assert (await ada_client.get("/v2/webhooks", headers=ada.headers)).json()["items"][0]["enabled"]
