"""`UTCDateTime`'s one-step SQLite bind gives the text SQLAlchemy's two steps give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from masthead.store.types import UTCDateTime

SQLITE = sqlite.dialect()
VALUES = [
    None,
    datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 12, 4, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2026, 3, 10, 15, 30, tzinfo=UTC),
    datetime(2026, 3, 10, 15, 30, 0, 1, tzinfo=UTC),
    datetime(2, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


def two_steps(value: datetime | None) -> object:
    """What SQLAlchemy does for a TypeDecorator: its `process_bind_param`, then the impl's
    own processor (SQLite's DATETIME formatting)."""
    impl = DateTime(timezone=True).dialect_impl(SQLITE).bind_processor(SQLITE)
    assert impl is not None
    return impl(UTCDateTime(timezone=True).process_bind_param(value, SQLITE))


@pytest.mark.parametrize("value", VALUES)
def test_the_sqlite_bind_is_sqlalchemys_text(value: datetime | None) -> None:
    process = UTCDateTime(timezone=True).dialect_impl(SQLITE).bind_processor(SQLITE)
    assert process is not None
    assert process(value) == two_steps(value)


def test_the_sqlite_bind_refuses_naive_datetimes() -> None:
    process = UTCDateTime(timezone=True).dialect_impl(SQLITE).bind_processor(SQLITE)
    assert process is not None
    with pytest.raises(ValueError, match="naive datetime"):
        process(datetime(2030, 1, 1, 10, 0))


def test_postgresql_keeps_sqlalchemys_bind() -> None:
    dialect = postgresql.dialect()
    process = UTCDateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    value = datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    bound = process(value) if process is not None else value
    assert bound == datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    assert bound.utcoffset() == timedelta(0)
