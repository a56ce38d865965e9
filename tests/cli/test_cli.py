"""The `masthead` CLI: the commands scripts depend on (ARCHITECTURE.md "CLI")."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from masthead.cli import app
from masthead.context import KEY_CACHE_SECONDS
from masthead.security import Secrets
from masthead.store import webhooks
from masthead.store.database import Database
from masthead.store.models import Event
from masthead.timeutil import utcnow
from tests.support.server import ServerProcess

T = TypeVar("T")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MASTHEAD_DATA_DIR": str(tmp_path), "MASTHEAD_SECRET_KEY": "cli-secret"}


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def on_database(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    db = Database(url)
    await db.start()
    try:
        return await work(db)
    finally:
        await db.close()


def test_a_user_key_and_account_made_on_the_cli_can_post(
    env: dict[str, str], tmp_path: Path
) -> None:
    user_id = run(env, "users", "create", "--email", "Cli@Example.com", "--no-password").strip()
    assert len(user_id) == 36
    key = run(env, "keys", "create", "--user", "cli@example.com", "--name", "n8n").splitlines()[-1]
    assert key.startswith("blt_")
    account = run(env, "accounts", "add", "--user", "cli@example.com", "--platform", "webhook")
    assert account.strip().isdigit()
    listing = run(env, "accounts", "list", "--user", "cli@example.com")
    assert "webhook" in listing

    server = ServerProcess(tmp_path, {"MASTHEAD_SECRET_KEY": "cli-secret"})
    server.start()
    try:
        me = httpx.get(f"{server.base_url}/v2/users/me", headers={"blotato-api-key": key})
        assert me.status_code == 200 and me.json()["email"] == "cli@example.com"
        run(env, "keys", "revoke", key[:12])
        time.sleep(KEY_CACHE_SECONDS + 0.1)  # another process revoked it: wait out the cache
        again = httpx.get(f"{server.base_url}/v2/users/me", headers={"blotato-api-key": key})
        assert again.status_code == 401
    finally:
        server.terminate()


def test_accounts_add_stores_subaccounts_as_pages(env: dict[str, str]) -> None:
    run(env, "users", "create", "--email", "pages@example.com", "--no-password")
    account = run(
        env,
        "accounts",
        "add",
        "--user",
        "pages@example.com",
        "--platform",
        "facebook",
        "--username",
        "owner",
        "--external-id",
        "555",
        "--subaccount",
        "987654321=My Page",
        "--access-token",
        "token-value",
    ).strip()
    assert account.isdigit()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "create", "--user", "nobody@example.com"), "no user with email"),
        (("keys", "revoke", "blt_nothing1"), "no active key"),
        (("accounts", "add", "--user", "x@example.com", "--platform", "myspace"), "--platform"),
    ],
)
def test_cli_mistakes_exit_non_zero_with_a_reason(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 1
    assert message in result.output


def test_a_second_user_with_the_same_email_is_refused(env: dict[str, str]) -> None:
    run(env, "users", "create", "--email", "twice@example.com", "--no-password")
    result = CliRunner().invoke(
        app, ["users", "create", "--email", "twice@example.com", "--no-password"], env=env
    )
    assert result.exit_code == 1 and "already exists" in result.output


def test_a_second_serve_on_the_same_sqlite_data_dir_is_refused(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path, {"MASTHEAD_SECRET_KEY": "cli-secret"})
    first.start()
    try:
        second = subprocess.run(
            [sys.executable, "-m", "masthead", "serve", "--port", "1"],
            env={**first.env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "SQLite mode is one process" in second.stderr
    finally:
        first.terminate()


def test_first_start_prints_the_key_once_with_a_curl_example(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, {"MASTHEAD_SECRET_KEY": "cli-secret"})
    server.start()
    server.terminate()
    output = server.log.read_text()
    key_line = next(line.strip() for line in output.splitlines() if line.strip().startswith("blt_"))
    assert "curl -s http://127.0.0.1" in output and key_line in output
    assert f"Settings UI: {server.base_url}/login" in output
    set_password = next(line.split() for line in output.splitlines() if "set-password" in line)
    assert set_password[1:] == ["users", "set-password", "--email", "admin@localhost"]
    assert Path(set_password[0]).name == "masthead"
    server.start()
    server.terminate()
    assert server.log.read_text().count("Your API key") == 1


def test_version_is_the_installed_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"masthead {version('masthead')}"


def test_accounts_add_with_a_username_is_an_account_connected_event(
    env: dict[str, str], tmp_path: Path
) -> None:
    user_id = run(env, "users", "create", "--email", "hook@example.com", "--no-password").strip()

    async def subscribe(db: Database) -> None:
        sealed = Secrets(["cli-secret"]).encrypt("signing-secret")
        await db.write(
            lambda conn: webhooks.create(
                conn,
                subscription_id="sub-1",
                user_id=user_id,
                url="https://hooks.example.com/in",
                events=["account.connected"],
                description="",
                sealed_secret=sealed,
                now=utcnow(),
            )
        )

    def events(db: Database) -> Awaitable[list[tuple[str, str]]]:
        return db.read(lambda c: [(r.type, r.subject) for r in c.execute(select(Event))])

    url = f"sqlite:///{tmp_path / 'masthead.db'}"
    asyncio.run(on_database(url, subscribe))
    add = ("accounts", "add", "--user", "hook@example.com", "--platform", "twitter")
    account = run(env, *add, "--username", "ada", "--external-id", "42")
    assert asyncio.run(on_database(url, events)) == [
        ("account.connected", f"account:{account.strip()}")
    ]
