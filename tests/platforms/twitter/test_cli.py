"""The CLI connects X accounts: from a token (`accounts add`) or through OAuth (`connect`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from typer.testing import CliRunner

from masthead.cli import app
from tests.fakes.x import FakeX


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _env(tmp_path: Path, fake: FakeX) -> dict[str, str]:
    return {
        "MASTHEAD_DATA_DIR": str(tmp_path),
        "MASTHEAD_SECRET_KEY": "cli-secret",
        "MASTHEAD_PUBLIC_URL": "https://masthead.example",
        "MASTHEAD_X_API_URL": fake.url,
        "MASTHEAD_X_AUTHORIZE_URL": fake.authorize_url,
        "MASTHEAD_X_CLIENT_ID": fake.client_id,
    }


def test_accounts_add_asks_x_whose_token_it_is(tmp_path: Path, fake_x: FakeX) -> None:
    env = _env(tmp_path, fake_x)
    user = fake_x.add_user("turing")
    token = fake_x.issue_tokens(user)["access_token"]
    _run(env, "users", "create", "--email", "cli@example.com", "--no-password")

    account = _run(
        env, "accounts", "add", "--user", "cli@example.com", "--platform", "twitter",
        "--access-token", token,
    )  # fmt: skip

    assert account.strip().splitlines()[-1].isdigit()
    assert "turing" in _run(env, "accounts", "list", "--user", "cli@example.com")


def test_accounts_connect_prints_the_authorize_url(tmp_path: Path, fake_x: FakeX) -> None:
    env = _env(tmp_path, fake_x)
    _run(env, "users", "create", "--email", "cli@example.com", "--no-password")

    url = _run(env, "accounts", "connect", "--user", "cli@example.com", "--platform", "twitter")

    query = parse_qs(urlsplit(url.strip()).query)
    assert url.startswith(fake_x.authorize_url)
    assert query["redirect_uri"] == ["https://masthead.example/oauth/twitter/callback"]
    assert query["client_id"] == [fake_x.client_id]
