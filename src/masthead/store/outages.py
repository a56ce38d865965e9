"""Which database errors mean "the database is unavailable right now" rather than a bug.

An outage (SQLite locked past its busy timeout, a full or read-only disk, PostgreSQL gone,
restarting or refusing connections) is worth waiting out: the dispatcher backs off and tries
again, the API answers 503 with `Retry-After`. Anything else (a constraint violated, a bad
query) is a bug and is reported as one.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy import exc as sa

RETRY_AFTER_SECONDS = 5
"""What a 503 tells clients to wait: about how long the dispatcher's backoff takes to notice
the database is back."""
UNAVAILABLE_MESSAGE = (
    f"The database is unavailable right now. Try again in {RETRY_AFTER_SECONDS} seconds."
)
"""What every door says during an outage (REST's 503 message, MCP's tool error)."""

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa.DBAPIError,
    sa.TimeoutError,
    ConnectionError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
"""What the database layer raises; `is_unavailable` tells an outage from a bug."""

_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
"""PostgreSQL's connection exceptions, insufficient resources (disk full, too many
connections) and operator intervention (shutdown, terminated backend, cannot connect now)."""
_NOT_ACCEPTING_CONNECTIONS = "55000"
"""`ALTER DATABASE ... ALLOW_CONNECTIONS false` (object not in prerequisite state)."""
_SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
"""SQLite's primary result codes BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN and
PROTOCOL (https://sqlite.org/rescode.html)."""


def _sqlstate(error: BaseException | None) -> str:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) else ""


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says the database cannot be used now, not that the work was wrong."""
    cause: BaseException | None = error
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig  # the driver's own error, with its code
        if isinstance(cause, sqlite3.Error):  # "no such table" is an OperationalError too
            return cause.sqlite_errorcode & 0xFF in _SQLITE_UNAVAILABLE
        if isinstance(error, sa.InterfaceError) or (
            isinstance(error, sa.OperationalError) and not _sqlstate(cause)
        ):
            return True  # the connection itself failed
    if isinstance(cause, sa.TimeoutError | ConnectionError | asyncpg.InterfaceError):
        return True  # no pooled connection in time; a refused or reset socket
    if isinstance(cause, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
        return True
    state = _sqlstate(cause)
    return state.startswith(_UNAVAILABLE_SQLSTATE_CLASSES) or state == _NOT_ACCEPTING_CONNECTIONS
