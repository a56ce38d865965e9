"""SQLite's query plan of a statement a unit of work runs: SQLite keeps no statistics here
(Masthead never runs ANALYZE), so a query that grows with the table shows in its plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection

T = TypeVar("T")


def planned(
    conn: Connection, work: Callable[[Connection], T], starts: str | tuple[str, ...]
) -> tuple[T, list[list[str]]]:
    """`work(conn)`'s result and the plans (each step's text) of the statements it ran that
    start with `starts`, in order."""
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", seen)
    try:
        result = work(conn)
    finally:
        event.remove(conn, "before_cursor_execute", seen)
    plans = [
        [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        for statement, parameters in statements
        if statement.startswith(starts)
    ]
    return result, plans
