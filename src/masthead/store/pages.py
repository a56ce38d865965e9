"""Keyset pages: a listing ordered by a time and then an id continues after the last row
seen, so a page costs an index range read however deep it is (no OFFSET)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute


def keyset_page(
    query: Select[Any],
    time: InstrumentedAttribute[Any],
    key: InstrumentedAttribute[str],
    *,
    after: tuple[datetime, str] | None,
    limit: int,
    newest_first: bool,
) -> Select[Any]:
    """Up to `limit` rows by (`time`, `key`), newest or oldest first, past `after` (the time
    and key of the last row already seen)."""
    if after is not None:
        at, last = after
        if newest_first:
            query = query.where(or_(time < at, and_(time == at, key < last)))
        else:
            query = query.where(or_(time > at, and_(time == at, key > last)))
    order = (time.desc(), key.desc()) if newest_first else (time, key)
    return query.order_by(*order).limit(limit)
