"""`masthead users create --password` and `masthead users set-password`: the passwords the web
UI's sign-in checks, stored as argon2id hashes and never as given."""

from __future__ import annotations

import asyncio
from pathlib import Path

from argon2 import PasswordHasher
from typer.testing import CliRunner

from masthead.cli import app
from masthead.config import Settings
from masthead.store import users
from masthead.store.database import Database


def _stored_hash(tmp_path: Path, email: str) -> str | None:
    async def read() -> str | None:
        settings = Settings(data_dir=tmp_path, secret_key="cli-secret")  # type: ignore[call-arg]
        db = Database(settings.sqlalchemy_url)
        await db.start()
        try:
            found = await db.read(lambda c: users.password_hash(c, email))
        finally:
            await db.close()
        return found[1] if found else None

    return asyncio.run(read())


def test_set_password_replaces_the_hash_and_prompts_when_not_given(tmp_path: Path) -> None:
    env = {"MASTHEAD_DATA_DIR": str(tmp_path), "MASTHEAD_SECRET_KEY": "cli-secret"}
    runner = CliRunner()
    created = runner.invoke(
        app, ["users", "create", "--email", "ada@example.com", "--password", "first-pass"], env=env
    )
    first = _stored_hash(tmp_path, "ada@example.com")
    changed = runner.invoke(
        app,
        ["users", "set-password", "--email", "ada@example.com"],
        env=env,
        input="second\nsecond\n",
    )
    second = _stored_hash(tmp_path, "ada@example.com")
    unknown = runner.invoke(
        app, ["users", "set-password", "--email", "nobody@example.com", "--password", "x"], env=env
    )

    assert created.exit_code == 0 and changed.exit_code == 0, changed.output
    assert first and second and first.startswith("$argon2id$") and first != second
    assert PasswordHasher().verify(second, "second")
    assert "second" not in changed.output
    assert unknown.exit_code == 1 and "no user" in unknown.output
