"""Apply Alembic migrations from code (`masthead migrate`, and `serve` on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from masthead.private_files import private_sqlite
from masthead.store.db import is_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous on purpose: run before the event loop starts serving."""
    if is_sqlite(url):
        private_sqlite(url)  # before Alembic's engine creates the file with the umask's mode
    command.upgrade(alembic_config(url), revision)


def known_revision(revision: str) -> bool:
    """Whether this code's migrations include `revision` (a newer release's database does not,
    and this code cannot run on it)."""
    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False
