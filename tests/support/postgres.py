"""A throw-away PostgreSQL database on the machine's server (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg

ADMIN_DSN = os.environ.get("MASTHEAD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def admin(sql: str) -> None:
    """One statement as the server's admin (CREATE/DROP/ALTER DATABASE, terminating backends)."""
    conn = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> str:
    """Returns the SQLAlchemy URL of a new empty database; raises OSError when the server is
    not there."""
    name = f"masthead_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
