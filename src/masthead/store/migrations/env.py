"""Alembic environment: batch mode so that ALTERs work on SQLite; asyncpg on PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from masthead.store.db import is_sqlite, postgres_engine, sqlite_engine
from masthead.store.models import Base

config = context.config
MIGRATION_LOCK = 0x6D617374  # "mast": any constant no other advisory lock here uses
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # API processes and workers started together (compose, a deploy) all migrate: one
            # at a time, each later one finding the schema at head. Released at commit.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


async def _run_postgres(url: str) -> None:
    engine = postgres_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    if is_sqlite(url):
        engine = sqlite_engine(url, role="write")
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_postgres(url))
        return
    raise RuntimeError("run migrations before starting the event loop (masthead.store.migrate)")


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    _run_online()
