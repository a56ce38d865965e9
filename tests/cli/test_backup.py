"""`masthead backup` and `masthead restore` on the embedded (SQLite) default: a backup taken
while posts are being created holds every post acknowledged before it began; restore refuses a
running server's data dir, and PostgreSQL is pointed at pg_dump."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from masthead.cli import app
from tests.support.deploy import Operator, in_process, seed
from tests.support.harness import webhook_post
from tests.support.receiver import Receiver
from tests.support.server import ServerProcess


class Writer(threading.Thread):
    """Creates posts one after another until stopped; remembers each acknowledged id."""

    def __init__(self, base_url: str, operator: Operator, url: str) -> None:
        super().__init__(daemon=True)
        self.base_url, self.operator, self.url = base_url, operator, url
        self.acknowledged: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.operator.headers) as client:
            while not self.stop.is_set():
                body = webhook_post(self.operator.account_id, self.url, "under load")
                response = client.post("/v2/posts", json=body)
                assert response.status_code == 201, response.text
                self.acknowledged.append(response.json()["postSubmissionId"])

    def wait_for(self, count: int) -> list[str]:
        while len(self.acknowledged) < count and self.is_alive():
            self.stop.wait(0.05)
        assert self.is_alive(), "the writer stopped"
        return list(self.acknowledged)


def masthead(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_a_backup_under_load_restores_every_acknowledged_post(
    tmp_path: Path, receiver: Receiver
) -> None:
    extra = {"MASTHEAD_FETCH_ALLOW": receiver.allow, "MASTHEAD_API_RATE_LIMITS": "off"}
    server = ServerProcess(tmp_path / "live", extra)
    operator = seed(in_process(server.env))
    (tmp_path / "live" / "media" / "ab" / "cd").mkdir(parents=True)
    (tmp_path / "live" / "media" / "ab" / "cd" / "abcd-photo").write_bytes(b"jpeg bytes")
    server.start()
    writer = Writer(server.base_url, operator, receiver.url)
    writer.start()
    try:
        before = writer.wait_for(50)
        taken = masthead(server.env, "backup", str(tmp_path / "backup"))
        assert taken.exit_code == 0, taken.output
        assert "1 media file(s) and the secret key" in taken.stdout
        after = writer.wait_for(len(writer.acknowledged) + 10)  # the server kept taking posts

        refused = masthead(server.env, "restore", str(tmp_path / "backup"))
        assert refused.exit_code == 1
        assert "is running" in refused.output and "stop it first" in refused.output
    finally:
        writer.stop.set()
        writer.join(timeout=30)
        server.terminate()

    moved = ServerProcess(tmp_path / "elsewhere", extra)
    restored = masthead(moved.env, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert (tmp_path / "elsewhere" / "media" / "ab" / "cd" / "abcd-photo").read_bytes() == (
        b"jpeg bytes"
    )
    moved.start()
    try:
        with httpx.Client(base_url=moved.base_url, headers=operator.headers) as client:
            for post_id in before:
                found = client.get(f"/v2/posts/{post_id}")
                assert found.status_code == 200, (post_id, found.text)
            # Posts made after the backup finished are not in it.
            assert client.get(f"/v2/posts/{after[-1]}").status_code == 404
    finally:
        moved.terminate()


def test_restore_moves_the_data_it_replaces_aside(tmp_path: Path) -> None:
    env = {**ServerProcess(tmp_path / "data", {}).env}
    seed(in_process(env), "first@example.com")
    assert masthead(env, "backup", str(tmp_path / "backup")).exit_code == 0
    seed(in_process(env), "later@example.com")

    restored = masthead(env, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    (aside,) = (tmp_path / "data").glob("before-restore-*")
    assert (aside / "masthead.db").exists() and (aside / "secret_key").exists()
    result = masthead(env, "keys", "create", "--user", "later@example.com")
    assert result.exit_code == 1 and "no user with email later@example.com" in result.output


def test_restore_refuses_a_backup_from_a_newer_release(tmp_path: Path) -> None:
    env = {**ServerProcess(tmp_path / "data", {}).env}
    seed(in_process(env))
    assert masthead(env, "backup", str(tmp_path / "backup")).exit_code == 0
    manifest = tmp_path / "backup" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"revision": "', '"revision": "9999'))

    refused = masthead(env, "restore", str(tmp_path / "backup"))
    assert refused.exit_code == 1 and "comes from a newer Masthead" in refused.output
    assert not list((tmp_path / "data").glob("before-restore-*"))


@pytest.mark.parametrize(("args", "tool"), [(("backup",), "pg_dump"), (("restore",), "pg_restore")])
def test_postgresql_is_pointed_at_its_own_tools(
    tmp_path: Path, args: tuple[str, ...], tool: str
) -> None:
    env = {"MASTHEAD_DATABASE_URL": "postgresql://masthead@127.0.0.1:5432/masthead"}
    result = CliRunner().invoke(app, [*args, str(tmp_path / "backup")], env=env)
    assert result.exit_code == 1
    assert "the database is PostgreSQL" in result.output and tool in result.output
    assert not (tmp_path / "backup").exists()
