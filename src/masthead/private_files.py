"""The data folder and what Masthead keeps in it are for the server's own account only.

Folders are made 0700 and files 0600, and ones made before (by an older version, or by hand)
are tightened at start. SQLite gives its `-wal` and `-shm` files the mode of the database
file, so making that file 0600 before SQLite first opens it covers them too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
log = logging.getLogger(__name__)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("cannot make %s private (mode %o): it belongs to another user", path, mode)


def private_dir(path: Path) -> None:
    """Make `path` (and missing parents) and leave it readable by its owner only."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)


def private_file(path: Path) -> None:
    _tighten(path, PRIVATE_FILE)


def private_sqlite(url: str) -> None:
    """Create the database file of a SQLite `url` 0600 if it is missing (its folder 0700 if
    that is missing too), and tighten it and its companions if they exist."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        private_dir(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    for suffix in SQLITE_COMPANIONS:
        private_file(path.with_name(path.name + suffix))
