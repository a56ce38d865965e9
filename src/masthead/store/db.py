"""Engine construction: the same code on SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

Role = Literal["read", "write"]


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; FULL makes each (group) commit durable
    # against power loss, which the group commit makes affordable.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Let SQLAlchemy, not the driver, emit BEGIN: the driver's own transaction handling
    # breaks SAVEPOINT (SQLAlchemy docs, "Serializable isolation / Savepoints").
    dbapi_connection.isolation_level = None


def make_engine(url: str, *, role: Role = "read", **kwargs: Any) -> AsyncEngine:
    if not url.startswith("sqlite"):
        size = 2 if role == "write" else 10
        return create_async_engine(
            url, pool_size=size, max_overflow=size, pool_pre_ping=True, **kwargs
        )
    engine = create_async_engine(
        url,
        pool_size=1 if role == "write" else 8,
        max_overflow=0 if role == "write" else 8,
        **kwargs,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    # The writer takes the write lock up front (IMMEDIATE) so that busy_timeout applies;
    # a deferred transaction that later writes can fail at once with "database is locked".
    begin = "BEGIN IMMEDIATE" if role == "write" else "BEGIN"

    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    event.listen(engine.sync_engine, "begin", _begin)
    return engine
