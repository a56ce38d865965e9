"""Sign-in (services/web_auth.py): the same argon2 check whether the email exists, checks off
the event loop and a few at a time, limits per email and per address that parallel attempts
cannot outrun (on SQLite and PostgreSQL, across processes), and an owner whom strangers
cannot lock out of a browser they signed in from before."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select
from sqlalchemy.engine import Connection

from masthead.security import (
    DUMMY_PASSWORD_HASH,
    PASSWORD_THREADS,
    Secrets,
    hash_password,
)
from masthead.services import maintenance, web_auth
from masthead.store import users, web_sessions
from masthead.store.database import Database
from masthead.store.models import LoginAttempt
from masthead.timeutil import utcnow
from tests.support.harness import Harness, migrate, seed_user
from tests.support.web import PASSWORD, page_token, sign_in, user_with_password
from tests.web.conftest import Argon2Check, Browsers


def _off_the_loop(checks: list[Argon2Check]) -> bool:
    return all(check.thread.startswith("masthead-argon2") for check in checks)


async def test_an_unknown_email_costs_the_same_argon2_check_as_a_wrong_password(
    web: tuple[Harness, Browsers], argon2_checks: list[Argon2Check]
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")

    unknown = await sign_in(browser(), "nobody@example.com", "guess")
    wrong = await sign_in(browser(), ada.email, "guess")

    assert (unknown.status_code, wrong.status_code) == (401, 401)
    assert [check.hash == DUMMY_PASSWORD_HASH for check in argon2_checks] == [True, False]
    real = argon2_checks[1].hash
    assert extract_parameters(DUMMY_PASSWORD_HASH) == extract_parameters(real)
    assert not PasswordHasher().check_needs_rehash(DUMMY_PASSWORD_HASH)
    assert _off_the_loop(argon2_checks)


async def test_parallel_sign_ins_are_checked_off_the_loop_a_few_at_a_time(
    web: tuple[Harness, Browsers], argon2_checks: list[Argon2Check]
) -> None:
    harness, browser = web
    people = [await user_with_password(harness, f"user{n}@example.com") for n in range(6)]

    answers = await asyncio.gather(
        *(sign_in(browser(f"198.51.100.{n}"), person.email) for n, person in enumerate(people)),
        harness.client.get("/healthz"),
    )

    assert [answer.status_code for answer in answers] == [303] * 6 + [200]
    assert len(argon2_checks) == 6 and _off_the_loop(argon2_checks)
    assert max(check.running for check in argon2_checks) <= PASSWORD_THREADS


def _set_password(conn: Connection, email: str, hashed: str) -> None:
    users.set_password_hash(conn, email, hashed)


async def test_thirty_parallel_guesses_through_two_processes_get_five_checks(
    database_url: str, argon2_checks: list[Argon2Check]
) -> None:
    await migrate(database_url)
    secrets = Secrets(["test-secret-key-0123456789"])
    processes = [Database(database_url), Database(database_url)]
    for db in processes:
        await db.start()
    try:
        ada = await seed_user(processes[0], secrets, "ada@example.com")
        hashed = hash_password(PASSWORD)
        await processes[0].write(lambda c: _set_password(c, ada.email, hashed))

        def guess(n: int) -> web_auth.Attempt:
            return web_auth.Attempt(ada.email, "guess", f"198.51.100.{n}", None, None)

        outcomes = await asyncio.gather(
            *(
                web_auth.sign_in(db, secrets, guess(n))
                for n, db in zip(range(30), itertools.cycle(processes), strict=False)
            ),
            return_exceptions=True,
        )
    finally:
        for db in processes:
            await db.close()

    kinds = [type(outcome).__name__ for outcome in outcomes]
    assert (kinds.count("SignInRefused"), kinds.count("TooManyAttempts")) == (5, 25)
    assert len(argon2_checks) == 5


async def test_strangers_who_spend_the_emails_attempts_cannot_lock_the_owner_out(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    desktop, laptop = browser("192.0.2.10"), browser("192.0.2.11")
    assert (await sign_in(desktop, ada.email)).status_code == 303
    assert (await sign_in(laptop, ada.email)).status_code == 303
    await desktop.post("/logout", data={"csrf_token": await page_token(desktop)})
    # The laptop is still signed in, and is known by its session alone.
    laptop.cookies.delete("masthead_device")

    stranger = browser("203.0.113.66")
    guesses = [(await sign_in(stranger, ada.email, "guess")).status_code for _ in range(6)]
    new_browser = await sign_in(browser("192.0.2.12"), ada.email)

    assert guesses == [401] * 5 + [429]
    assert new_browser.status_code == 429
    assert 0 < int(new_browser.headers["retry-after"]) <= 900
    assert "masthead_session" not in desktop.cookies
    assert (await sign_in(desktop, ada.email)).status_code == 303
    assert (await sign_in(laptop, ada.email)).status_code == 303
    # The owner's success from a known browser leaves the email locked for strangers.
    assert (await sign_in(stranger, ada.email)).status_code == 429


async def test_a_known_browser_has_a_limit_of_its_own(web: tuple[Harness, Browsers]) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    desktop = browser("192.0.2.10")
    assert (await sign_in(desktop, ada.email)).status_code == 303
    desktop.cookies.delete("masthead_session")

    guesses = [(await sign_in(desktop, ada.email, "guess")).status_code for _ in range(5)]
    right = await sign_in(desktop, ada.email)
    elsewhere = await sign_in(browser("192.0.2.11"), ada.email)

    assert guesses == [401] * 5
    assert right.status_code == 429
    assert elsewhere.status_code == 303


async def test_one_address_is_limited_across_emails(web: tuple[Harness, Browsers]) -> None:
    _, browser = web
    crowd = browser("203.0.113.66")
    await crowd.get("/login")

    answers = await asyncio.gather(
        *(sign_in(crowd, f"guess{n}@example.com", "guess") for n in range(21))
    )
    other_address = await sign_in(browser("203.0.113.67"), "guess0@example.com", "guess")

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * web_auth.MAX_PER_ADDRESS + [429]
    assert other_address.status_code == 401


async def test_counters_of_ended_windows_are_purged(web: tuple[Harness, Browsers]) -> None:
    harness, _ = web
    now = utcnow()
    ended, running = now - web_auth.WINDOW - timedelta(seconds=1), now

    def count(conn: Connection) -> None:
        web_sessions.count_attempt(conn, "ended", ended, ended - web_auth.WINDOW)
        web_sessions.count_attempt(conn, "running", running, running - web_auth.WINDOW)

    await harness.db.write(count)
    purged = await maintenance.purge_login_attempts(harness.db)
    left = await harness.db.read(lambda c: c.execute(select(LoginAttempt.key)).scalars().all())

    assert (purged, left) == (1, ["running"])
