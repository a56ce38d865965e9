"""The web UI's security properties: CSRF, session fixation, per-user isolation, cookie
flags, the sign-in rate limit, and secrets never shown again after creation."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Connection

from masthead.app import create_app
from masthead.domain.slots import SlotSpec
from masthead.security import Secrets
from masthead.services import web_auth
from masthead.store import accounts, slots, users
from masthead.store.models import ApiKey
from masthead.timeutil import iso, utcnow
from tests.conftest import make_settings
from tests.support.harness import Harness, migrate, webhook_post
from tests.support.web import PASSWORD, csrf_in, page_token, sign_in, user_with_password
from tests.web.conftest import Browsers


async def _live_keys(harness: Harness, user_id: str) -> list[str]:
    return await harness.db.read(lambda c: [k.name for k in users.list_keys(c, user_id)])


async def test_a_form_without_the_sessions_csrf_token_is_refused(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()
    await sign_in(client, ada.email)

    missing = await client.post("/settings/keys", data={"name": "sneaky"})
    wrong = await client.post("/settings/keys", data={"name": "sneaky", "csrf_token": "x" * 43})
    good = await client.post(
        "/settings/keys", data={"name": "mine", "csrf_token": await page_token(client)}
    )

    assert (missing.status_code, wrong.status_code, good.status_code) == (403, 403, 200)
    assert await _live_keys(harness, ada.user_id) == ["mine", "test"]


async def test_the_login_form_is_refused_without_its_csrf_token(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()

    response = await client.post("/login", data={"email": ada.email, "password": "x"})

    assert response.status_code == 403
    assert "masthead_session" not in client.cookies


async def test_sign_in_issues_a_new_session_id_and_forgets_the_planted_one(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    victim = browser()
    await sign_in(victim, ada.email)
    first = victim.cookies["masthead_session"]

    # An attacker who knew the id the browser held before sign-in gets nothing from it.
    response = await sign_in(victim, ada.email)
    second = victim.cookies["masthead_session"]
    attacker = browser()
    attacker.cookies.set("masthead_session", first, domain="masthead.test")

    assert response.status_code == 303
    assert second != first
    assert (await attacker.get("/settings/keys")).status_code == 303
    assert (await victim.get("/settings/keys")).status_code == 200


async def test_a_chosen_session_id_is_never_adopted(web: tuple[Harness, Browsers]) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()
    client.cookies.set("masthead_session", "chosen-by-attacker", domain="masthead.test")

    await sign_in(client, ada.email)

    assert client.cookies["masthead_session"] != "chosen-by-attacker"


async def test_another_users_objects_answer_404_and_stay_untouched(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    eve = await user_with_password(harness, "eve@example.com")
    account_id = await harness.account(ada, "webhook")
    later = iso(utcnow() + timedelta(days=2))
    body = webhook_post(account_id, "https://example.com/hook", scheduledTime=later)
    post_id = (await harness.create_post(ada, body)).json()["postSubmissionId"]
    ada_client = browser()
    await sign_in(ada_client, ada.email)
    created = await ada_client.post(
        "/settings/slots",
        data={
            "csrf_token": await page_token(ada_client),
            "target": f"webhook:{account_id}",
            "day": "monday",
            "time": "09:00",
            "timezone": "Europe/Paris",
        },
    )
    assert created.status_code == 303
    [slot_id] = [s.id for s in (await harness.db.read(lambda c: _slots(c, ada.user_id)))]
    [key_id] = await harness.db.read(lambda c: [k.id for k in users.list_keys(c, ada.user_id)])
    eve_client = browser()
    await sign_in(eve_client, eve.email)
    token = await page_token(eve_client)

    answers = [
        (await eve_client.get(f"/posts/{post_id}")).status_code,
        (await eve_client.post(f"/posts/{post_id}/cancel", data={"csrf_token": token})).status_code,
        (
            await eve_client.post(
                f"/posts/{post_id}/reschedule",
                data={"csrf_token": token, "when": "2030-01-01T10:00"},
            )
        ).status_code,
        (
            await eve_client.post(f"/settings/keys/{key_id}/revoke", data={"csrf_token": token})
        ).status_code,
        (
            await eve_client.post(
                f"/settings/accounts/{account_id}/remove", data={"csrf_token": token}
            )
        ).status_code,
        (
            await eve_client.post(f"/settings/slots/{slot_id}/delete", data={"csrf_token": token})
        ).status_code,
    ]
    pages = [
        (await eve_client.get(p)).text for p in ("/posts", "/settings/accounts", "/settings/slots")
    ]

    assert answers == [404] * 6
    assert all(post_id not in html and f">{account_id}<" not in html for html in pages)
    assert (await harness.status(ada, post_id))["status"] == "scheduled"
    assert await _live_keys(harness, ada.user_id) == ["test"]
    assert await harness.db.read(lambda c: accounts.get_account(c, ada.user_id, int(account_id)))


def _slots(conn: Connection, user_id: str) -> list[SlotSpec]:
    return slots.slot_specs(conn, user_id)


async def test_session_cookie_is_httponly_and_lax_and_not_secure_over_http(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")

    response = await sign_in(browser(), ada.email)

    cookie = response.headers["set-cookie"].lower()
    assert "masthead_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie


async def test_session_cookie_is_secure_when_the_public_url_is_https(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, public_url="https://masthead.test")
    await migrate(settings.sqlalchemy_url)
    app = create_app(settings, run_worker=False)
    async with app.router.lifespan_context(app):
        harness = Harness(settings, app.state.ctx, None)  # type: ignore[arg-type]
        ada = await user_with_password(harness, "ada@example.com")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://masthead.test"
        ) as client:
            response = await sign_in(client, ada.email)

    assert response.status_code == 303
    session_cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and "masthead_session" in v
    )
    assert "secure" in session_cookie.lower() and "httponly" in session_cookie.lower()


async def test_sign_in_is_refused_after_five_failures_even_with_the_right_password(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()

    wrong = [(await sign_in(client, ada.email, "guess")).status_code for _ in range(5)]
    right = await sign_in(client, ada.email)
    other_user_unaffected = await user_with_password(harness, "bob@example.com")
    bob = await sign_in(browser(), other_user_unaffected.email)

    assert wrong == [401] * 5
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert "masthead_session" not in client.cookies
    assert bob.status_code == 303


async def test_pages_send_strangers_to_sign_in_and_the_api_ignores_the_session(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()

    page = await client.get("/settings/keys")
    await sign_in(client, ada.email)
    api = await client.get("/v2/users/me")

    assert page.status_code == 303 and page.headers["location"] == "/login?next=/settings/keys"
    assert api.status_code == 401


async def test_no_secret_is_shown_after_creation(web: tuple[Harness, Browsers]) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    secrets: Secrets = harness.ctx.secrets
    await harness.db.write(
        lambda c: accounts.add_account(
            c,
            user_id=ada.user_id,
            platform="bluesky",
            external_id="did:plc:ada",
            username="ada.test",
            fullname="Ada",
            now=utcnow(),
            credentials=secrets.encrypt('{"app_password": "hunter2-app-pass"}'),
        )
    )
    client = browser()
    await sign_in(client, ada.email)

    created = await client.post(
        "/settings/keys", data={"name": "n8n", "csrf_token": await page_token(client)}
    )
    new_key = re.findall(r'<code id="new-key">(blt_[A-Za-z0-9_-]{40,})</code>', created.text)[0]
    later = [(await client.get(p)).text for p in ("/settings/keys", "/settings/accounts", "/posts")]
    digests = await harness.db.read(lambda c: list(c.execute(select(ApiKey.digest)).scalars()))

    assert new_key in created.text
    for html in later:
        assert new_key not in html and ada.key not in html and "hunter2" not in html
        assert not any(digest in html for digest in digests)
    assert csrf_in(later[0])


async def test_sign_in_only_redirects_within_the_site(web: tuple[Harness, Browsers]) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    locations = []
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example", "/settings/keys"):
        client = browser()
        form = await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "email": ada.email,
                "password": PASSWORD,
                "csrf_token": csrf_in(form.text),
                "next": target,
            },
        )
        locations.append(response.headers["location"])

    assert locations == ["/posts", "/posts", "/posts", "/settings/keys"]


async def test_a_new_password_signs_the_user_out_everywhere(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()
    await sign_in(client, ada.email)

    changed = await web_auth.set_password(harness.db, ada.email, "a brand new password")

    assert changed
    assert (await client.get("/settings/keys")).status_code == 303
    assert (await sign_in(browser(), ada.email, "a brand new password")).status_code == 303
