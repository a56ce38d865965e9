"""Backups of a one-machine (SQLite) installation: the database through SQLite's online backup
API (a consistent snapshot while the server keeps writing: in WAL mode the copy reads one
snapshot and never blocks the writer), the local media files and the generated secret key.

A backup is a directory: `masthead.db`, `media/`, `secret_key` (when the data dir has one) and
`manifest.json`. PostgreSQL installations back up with `pg_dump` instead (docs/operations.md).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from masthead import __version__
from masthead.store.migrate import known_revision

DATABASE = "masthead.db"
MEDIA = "media"
SECRET_KEY = "secret_key"
MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """Why a backup or a restore was refused; the message is for the operator."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    masthead: str
    created_at: str
    revision: str | None
    """The database's Alembic revision: a restore refuses one newer than its own code knows."""


@dataclass(frozen=True, slots=True)
class Summary:
    path: Path
    database_bytes: int
    media_files: int
    secret_key: bool
    revision: str | None
    moved_aside: Path | None = None
    """On restore: where the data it replaced was moved (nothing is deleted)."""


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} is not a SQLite file")
    return Path(database)


def _revision(db_file: Path) -> str | None:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return str(row[0]) if row else None


def _copy_media(source: Path, target: Path) -> int:
    """Media files never change once stored (stored under their content's key); files named
    `.*` are uploads still being written, left out."""
    count = 0
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        into = target / Path(folder).relative_to(source)
        into.mkdir(parents=True, exist_ok=True)
        for name in files:
            if not name.startswith("."):
                shutil.copy2(Path(folder) / name, into / name)
                count += 1
    return count


def backup(url: str, data_dir: Path, target: Path, now: datetime) -> Summary:
    source = sqlite_file(url)
    if not source.exists():
        raise BackupError(f"there is no database at {source} to back up")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty directory")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f".{DATABASE}.partial"
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one snapshot, however busy the writer
        # One self-contained file (the copy inherits WAL mode, which would leave -wal beside it).
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if check != "ok":
        raise BackupError(f"the copy failed SQLite's quick_check: {check}")
    database = target / DATABASE
    os.replace(partial, database)
    media = _copy_media(data_dir / MEDIA, target / MEDIA) if (data_dir / MEDIA).is_dir() else 0
    key = data_dir / SECRET_KEY
    if key.exists():
        shutil.copy2(key, target / SECRET_KEY)
        (target / SECRET_KEY).chmod(0o600)
    revision = _revision(database)
    manifest = Manifest(FORMAT, __version__, now.isoformat(), revision)
    (target / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return Summary(target, database.stat().st_size, media, key.exists(), revision)


def read_manifest(source: Path) -> Manifest:
    try:
        fields = json.loads((source / MANIFEST).read_text())
        manifest = Manifest(**fields)
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{source} is not a Masthead backup (no readable {MANIFEST})") from exc
    if manifest.format != FORMAT or not (source / DATABASE).is_file():
        raise BackupError(f"{source} is not a Masthead backup this version can read")
    return manifest


def restore(source: Path, url: str, data_dir: Path, now: datetime) -> Summary:
    """Put a backup in place. The caller holds the data dir's serve lock (no server runs); what
    was there is moved to `<data dir>/before-restore-<time>/`, never deleted."""
    manifest = read_manifest(source)
    if manifest.revision is not None and not known_revision(manifest.revision):
        raise BackupError(
            f"{source} comes from a newer Masthead ({manifest.masthead}, database revision "
            f"{manifest.revision}): install that version or a later one, then restore"
        )
    target = sqlite_file(url)
    aside = data_dir / f"before-restore-{now:%Y%m%dT%H%M%S}"
    replaced = [
        path
        for path in (
            target,
            target.with_name(target.name + "-wal"),
            target.with_name(target.name + "-shm"),
            data_dir / MEDIA,
            data_dir / SECRET_KEY,
        )
        if path.exists()
    ]
    for path in replaced:
        aside.mkdir(parents=True, exist_ok=True)
        os.replace(path, aside / path.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copy2(source / DATABASE, partial)
    os.replace(partial, target)
    media = _copy_media(source / MEDIA, data_dir / MEDIA) if (source / MEDIA).is_dir() else 0
    has_key = (source / SECRET_KEY).exists()
    if has_key:
        shutil.copy2(source / SECRET_KEY, data_dir / SECRET_KEY)
        (data_dir / SECRET_KEY).chmod(0o600)
    return Summary(
        data_dir,
        target.stat().st_size,
        media,
        has_key,
        manifest.revision,
        aside if replaced else None,
    )
