"""`is_unavailable` tells a database that cannot be used now (wait and retry, answer 503) from
work that is wrong (a bug, a 500), on errors raised by the real engines."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from masthead.store.outages import is_unavailable
from tests.support.receiver import free_port


def _error(engine: Engine, sql: str) -> BaseException:
    with pytest.raises(Exception) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return caught.value


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "outage.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
    yield path


def test_a_sqlite_database_locked_by_another_writer_is_unavailable(sqlite_file: Path) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{sqlite_file}", connect_args={"timeout": 0.05})
    try:
        assert is_unavailable(_error(engine, "INSERT INTO t VALUES (2)"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


def test_a_read_only_sqlite_database_is_unavailable(sqlite_file: Path) -> None:
    engine = create_engine(
        f"sqlite:///file:{sqlite_file}?mode=ro&uri=true",
    )
    try:
        assert is_unavailable(_error(engine, "INSERT INTO t VALUES (2)"))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "sql", ["INSERT INTO t VALUES (1)", "SELECT * FROM no_such_table", "SELEC 1"]
)
def test_wrong_work_on_sqlite_is_a_bug_not_an_outage(sqlite_file: Path, sql: str) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}")
    try:
        assert not is_unavailable(_error(engine, sql))
    finally:
        engine.dispose()


async def test_a_postgresql_server_that_refuses_connections_is_unavailable() -> None:
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(Exception) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert is_unavailable(caught.value), repr(caught.value)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_terminated_postgresql_connection_is_unavailable_a_bad_query_is_not(
    pg_url: str,
) -> None:
    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(Exception) as bad:
                await conn.execute(text("SELECT * FROM no_such_table"))
        assert not is_unavailable(bad.value), repr(bad.value)
        async with engine.connect() as conn:
            with pytest.raises(Exception) as cut:
                await conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
                await conn.execute(text("SELECT 1"))
        assert is_unavailable(cut.value), repr(cut.value)
    finally:
        await engine.dispose()
