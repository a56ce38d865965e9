"""Engine construction: the same code on SQLite (embedded default) and PostgreSQL (scale-out).

Store functions are plain synchronous SQLAlchemy code taking a `Connection`. On SQLite they run
whole in a worker thread (one thread hop per unit of work: measured ~0.3 ms for a read, against
~1.2 ms through aiosqlite, which hops threads for every cursor call). On PostgreSQL they run
through SQLAlchemy's greenlet bridge over asyncpg (`AsyncConnection.run_sync`).
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from masthead.private_files import private_sqlite

Role = Literal["read", "write"]


def normalise_url(url: str) -> str:
    """`postgresql://` means asyncpg; SQLite runs on the standard library driver."""
    scheme, _, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+asyncpg://{rest}"
    if scheme.startswith("sqlite"):
        return f"sqlite://{rest}"
    return url


BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return normalise_url(url).startswith("sqlite")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; FULL makes each (group) commit durable
    # against power loss, which the group commit makes affordable.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Checkpoints run beside the writer or between two of its commits (Database._checkpoints),
    # never inside one: an automatic one stalled the writer, and every request waiting on it,
    # for ~100 ms.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()
    # Let SQLAlchemy, not the driver, emit BEGIN: the driver's own transaction handling
    # breaks SAVEPOINT (SQLAlchemy docs, "Serializable isolation / Savepoints").
    dbapi_connection.isolation_level = None


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# orjson for JSON columns: the stdlib decoder was 5% of a worker's CPU in a burst of posts
# (each claim decodes every post's draft).
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def execute_write(conn: Connection, sql: str, params: tuple[Any, ...]) -> None:
    """One compiled write statement. On SQLite it goes straight to the DB-API connection:
    SQLAlchemy's execution (a context, a cursor and a result object per statement) was a
    fifth of a post's insert in the writer thread (24 -> 18 us per post). Its errors are
    wrapped as SQLAlchemy wraps them (callers catch the same `IntegrityError`), and a
    statement outside a transaction begins one, as SQLAlchemy's autobegin does. PostgreSQL
    keeps SQLAlchemy's path, which also invalidates a connection that dropped."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(sql, params)
        return
    if not conn.in_transaction():
        conn.begin()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    try:
        dbapi.execute(sql, params)
    except Exception as exc:
        base = conn.dialect.loaded_dbapi.Error
        raise DBAPIError.instance(sql, params, exc, base, dialect=conn.dialect) from exc


def sqlite_engine(url: str, *, role: Role = "read", pool_size: int = 4) -> Engine:
    private_sqlite(url)
    engine = create_engine(
        normalise_url(url),
        pool_size=1 if role == "write" else pool_size,
        max_overflow=0,
        connect_args={"check_same_thread": False},
        **JSON_CODEC,
    )
    event.listen(engine, "connect", _sqlite_connect)
    # The writer takes the write lock up front (IMMEDIATE) so that busy_timeout applies;
    # a deferred transaction that later writes can fail at once with "database is locked".
    begin = "BEGIN IMMEDIATE" if role == "write" else "BEGIN"

    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    event.listen(engine, "begin", _begin)
    return engine


def postgres_engine(url: str, *, role: Role = "read") -> AsyncEngine:
    size = 2 if role == "write" else 10
    return create_async_engine(
        normalise_url(url), pool_size=size, max_overflow=size, pool_pre_ping=True, **JSON_CODEC
    )
