"""Real database outages for tests: on SQLite another connection holds the write lock
(`BEGIN EXCLUSIVE`) past the busy timeout; on PostgreSQL the database refuses connections
(`ALLOW_CONNECTIONS false`) and every open one is terminated."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.postgres import admin


@dataclass
class Setup:
    url: str
    env: dict[str, str]
    outage: Callable[[], Awaitable[Callable[[], Awaitable[None]]]]
    """Starts the outage; returns what ends it."""


def _sqlite(tmp_path: Path) -> Setup:
    path = tmp_path / "masthead.db"

    async def lock() -> Callable[[], Awaitable[None]]:
        holder = sqlite3.connect(path, isolation_level=None, timeout=15)
        holder.execute("BEGIN EXCLUSIVE")  # WAL: readers go on, every writer waits, then fails

        async def release() -> None:
            holder.execute("ROLLBACK")
            holder.close()

        return release

    return Setup(f"sqlite:///{path}", {}, lock)


def _postgres(url: str) -> Setup:
    name = url.rsplit("/", 1)[1]

    async def refuse() -> Callable[[], Awaitable[None]]:
        await admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )

        async def allow() -> None:
            await admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

        return allow

    return Setup(url, {"MASTHEAD_DATABASE_URL": url}, refuse)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Setup:
    if request.param == "sqlite":
        return _sqlite(tmp_path)
    return _postgres(request.getfixturevalue("fresh_pg_url"))
