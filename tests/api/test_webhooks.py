"""Section 12: `/v2/webhooks` subscriptions, their secrets, delivery log and redelivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from masthead.store.models import WebhookSubscription
from tests.api.conftest import hook_post, later
from tests.support.harness import Caller, Harness

HOOK = "https://hooks.example.com/events"


async def create(
    harness: Harness, caller: Caller, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await harness.client.post(
        "/v2/webhooks",
        json=body or {"url": HOOK, "events": ["post.published", "post.failed"]},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_shows_the_secret_once_and_stores_it_encrypted(
    idle: Harness, ada: Caller
) -> None:
    created = await create(idle, ada, {"url": HOOK, "events": ["*"], "description": "ops"})
    assert created["secret"].startswith("whsec_")
    assert created["enabled"] is True
    assert created["events"] == ["*"]
    assert created["description"] == "ops"
    assert created["createdAt"].endswith("Z")
    shown = (await idle.client.get(f"/v2/webhooks/{created['id']}", headers=ada.headers)).json()
    listed = (await idle.client.get("/v2/webhooks", headers=ada.headers)).json()
    assert "secret" not in shown
    assert listed["items"] == [shown]
    stored = await idle.db.read(
        lambda c: c.execute(select(WebhookSubscription.secret)).scalar_one()
    )
    assert created["secret"] not in stored
    assert idle.ctx.secrets.decrypt(stored) == created["secret"]


async def test_rotating_the_secret_shows_a_new_one(idle: Harness, ada: Caller) -> None:
    created = await create(idle, ada)
    rotated = await idle.client.post(f"/v2/webhooks/{created['id']}/secret", headers=ada.headers)
    assert rotated.status_code == 201
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]


async def test_an_unknown_event_name_is_a_422_naming_it(idle: Harness, ada: Caller) -> None:
    response = await idle.client.post(
        "/v2/webhooks",
        json={"url": HOOK, "events": ["post.published", "post.exploded"]},
        headers=ada.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "events[1]"
    assert "post.exploded" in response.json()["message"]


async def test_a_private_url_is_refused_at_creation_and_on_change(
    idle: Harness, ada: Caller
) -> None:
    for url in ("http://10.0.0.7/hook", "http://127.0.0.1:8000/hook", "http://[::1]/x"):
        response = await idle.client.post(
            "/v2/webhooks", json={"url": url, "events": ["*"]}, headers=ada.headers
        )
        assert response.status_code == 422, url
        assert response.json()["message"].startswith("url: is refused")
    created = await create(idle, ada)
    patch = await idle.client.patch(
        f"/v2/webhooks/{created['id']}", json={"url": "http://192.168.1.1/"}, headers=ada.headers
    )
    assert patch.status_code == 422
    assert patch.json()["errors"][0]["path"] == "url"


async def test_patch_changes_only_what_it_names(idle: Harness, ada: Caller) -> None:
    created = await create(idle, ada)
    response = await idle.client.patch(
        f"/v2/webhooks/{created['id']}",
        json={"enabled": False, "events": ["post.scheduled"]},
        headers=ada.headers,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["enabled"], changed["events"], changed["url"]) == (
        False,
        ["post.scheduled"],
        HOOK,
    )


async def test_another_users_webhook_is_404_everywhere(
    idle: Harness, ada: Caller, bob: Caller
) -> None:
    created = await create(idle, ada)
    base = f"/v2/webhooks/{created['id']}"
    answers = [
        await idle.client.get(base, headers=bob.headers),
        await idle.client.patch(base, json={"enabled": False}, headers=bob.headers),
        await idle.client.post(f"{base}/secret", headers=bob.headers),
        await idle.client.get(f"{base}/deliveries", headers=bob.headers),
        await idle.client.post(f"{base}/deliveries/1/redeliver", headers=bob.headers),
        await idle.client.delete(base, headers=bob.headers),
    ]
    assert [a.status_code for a in answers] == [404] * 6
    assert (await idle.client.get("/v2/webhooks", headers=bob.headers)).json() == {"items": []}
    assert (await idle.client.get(base, headers=ada.headers)).status_code == 200


async def test_delete_is_204_then_404(idle: Harness, ada: Caller) -> None:
    created = await create(idle, ada)
    base = f"/v2/webhooks/{created['id']}"
    assert (await idle.client.delete(base, headers=ada.headers)).status_code == 204
    assert (await idle.client.get(base, headers=ada.headers)).status_code == 404


async def test_deliveries_page_by_cursor_and_redeliver_queues_the_same_event(
    idle: Harness, ada: Caller
) -> None:
    created = await create(idle, ada, {"url": HOOK, "events": ["post.scheduled"]})
    account = await idle.account(ada)
    for n in range(3):
        response = await idle.create_post(
            ada, hook_post(account, text=f"{n}", scheduledTime=later())
        )
        assert response.status_code == 201
    path = f"/v2/webhooks/{created['id']}/deliveries"
    first = (await idle.client.get(f"{path}?limit=2", headers=ada.headers)).json()
    assert len(first["items"]) == 2
    second = (
        await idle.client.get(f"{path}?limit=2&cursor={first['cursor']}", headers=ada.headers)
    ).json()
    assert "cursor" not in second
    items = first["items"] + second["items"]
    assert len({i["id"] for i in items}) == 3
    assert {(i["event"], i["status"], i["attempts"]) for i in items} == {
        ("post.scheduled", "pending", 0)
    }
    assert all(i["eventId"].startswith("evt_") for i in items)

    again = await idle.client.post(f"{path}/{items[0]['id']}/redeliver", headers=ada.headers)
    assert again.status_code == 202
    unknown = await idle.client.post(f"{path}/999999/redeliver", headers=ada.headers)
    assert unknown.status_code == 404
    bad_cursor = await idle.client.get(f"{path}?cursor=abc", headers=ada.headers)
    assert bad_cursor.status_code == 422


async def test_no_subscription_no_events(idle: Harness, ada: Caller) -> None:
    """A user without subscriptions writes no outbox rows: publishing pays nothing for it."""
    account = await idle.account(ada)
    await idle.create_post(ada, hook_post(account, scheduledTime=later()))
    created = await create(idle, ada, {"url": HOOK, "events": ["*"]})
    path = f"/v2/webhooks/{created['id']}/deliveries"
    assert (await idle.client.get(path, headers=ada.headers)).json() == {"items": []}
