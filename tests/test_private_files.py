"""private_files.py: the data folder 0700, the database with its WAL and SHM and the secret
key 0600, whether Masthead makes them or finds them made by someone else."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from masthead.cli import app
from masthead.config import Settings
from masthead.store.database import Database


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask, under which files are made world-readable unless Masthead says no."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def migrate(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["migrate"], env={"MASTHEAD_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output


async def test_a_new_data_folder_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    migrate(data_dir)
    settings = Settings(data_dir=data_dir)
    assert settings.secret_keys
    db = Database(settings.sqlalchemy_url)
    await db.start()
    try:
        await db.write(lambda c: c.execute(text("CREATE TABLE scratch (x INTEGER)")))
        files = {p.name: mode(p) for p in data_dir.iterdir()}
    finally:
        await db.close()

    assert mode(data_dir) == 0o700
    assert {"masthead.db-wal", "masthead.db-shm"} <= files.keys()
    assert files == dict.fromkeys(files, 0o600)


async def test_files_made_readable_before_are_tightened_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "secret_key").write_text("an-old-key")
    # A connection left open keeps the WAL and SHM files that an older version made.
    older = sqlite3.connect(data_dir / "masthead.db")
    older.execute("PRAGMA journal_mode=WAL")
    older.execute("CREATE TABLE scratch (x INTEGER)")
    older.commit()
    try:
        made_before = {p.name: mode(p) for p in data_dir.iterdir()}
        migrate(data_dir)
        assert Settings(data_dir=data_dir).secret_keys == ["an-old-key"]
        after = {p.name: mode(p) for p in data_dir.iterdir()}
    finally:
        older.close()

    assert {"masthead.db-wal", "masthead.db-shm", "secret_key"} <= made_before.keys()
    assert made_before == dict.fromkeys(made_before, 0o644)
    assert mode(data_dir) == 0o700
    assert after == dict.fromkeys(made_before, 0o600)
