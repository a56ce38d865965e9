"""`masthead accounts add --platform youtube --access-token T` asks YouTube whose channel it is
and stores its playlists as subaccounts, as an OAuth connect does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from masthead.cli import app
from masthead.store import accounts
from masthead.store.database import Database
from tests.conftest import make_settings
from tests.fakes.youtube import FakeYouTube


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_accounts_add_finds_the_channel_and_its_playlists(
    tmp_path: Path, fake_yt: FakeYouTube
) -> None:
    env = {
        "MASTHEAD_DATA_DIR": str(tmp_path),
        "MASTHEAD_SECRET_KEY": "cli-secret",
        "MASTHEAD_YOUTUBE_API_URL": fake_yt.url,
    }
    channel = fake_yt.add_channel("Cli Films", "Shorts", "Talks")
    tokens = fake_yt.issue_tokens(channel)
    _run(env, "users", "create", "--email", "cli@example.com", "--no-password")

    output = _run(
        env, "accounts", "add", "--user", "cli@example.com", "--platform", "youtube",
        "--access-token", tokens["access_token"], "--refresh-token", tokens["refresh_token"],
    )  # fmt: skip

    account_id = int(output.strip().splitlines()[-1])
    subs = asyncio.run(_subaccounts(tmp_path, account_id))
    assert sorted((s.kind, s.name) for s in subs) == [("playlist", "Shorts"), ("playlist", "Talks")]
    assert "@clifilms" in _run(env, "accounts", "list", "--user", "cli@example.com")


async def _subaccounts(data_dir: Path, account_id: int) -> list[accounts.SubaccountRow]:
    db = Database(make_settings(data_dir).sqlalchemy_url)
    await db.start()
    try:
        return await db.read(lambda c: accounts.list_subaccounts(c, account_id))
    finally:
        await db.close()
