"""The small inputs every door takes (digits, row ids, post ids, time zones, date-times, JSON
trees), each parsed by one function here. Whatever the standard library would raise on, or
read differently from what the user meant, is refused as a field error instead: digits mean
ASCII digits (`str.isdigit()` also accepts `²` and `١`), a time zone is a tzdata zone (not a
folder such as `America`), an instant stays within the calendar once moved to UTC, and a JSON
tree is shallow enough to be written back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from masthead.domain.errors import ValidationFailed

MAX_ROW_ID = 2**63 - 1
"""The largest id a 64-bit database column holds."""
MAX_POST_ID_LENGTH = 64
MAX_ZONE_LENGTH = 255
"""No IANA name comes close; longer ones make the file lookup fail with ENAMETOOLONG."""
MAX_JSON_DEPTH = 64
"""orjson reads up to 1024 levels but writes at most 255; no compat body needs more than a few."""
CALENDAR_YEARS = (2, 9998)
"""Days the web calendar shows: a week and a day of zone offset either side stay in range."""
TIME_EXAMPLE = '"2026-03-10T15:30:00Z" or "2026-03-10T17:30:00+02:00"'

_DIGITS = re.compile(r"[0-9]+")
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OutOfCalendar(ValidationFailed):
    """A well-formed instant that falls outside the years 1 to 9999 once moved to UTC."""

    def __init__(self, path: str, *, future: bool) -> None:
        self.future = future
        edge = "after the year 9999" if future else "before the year 1"
        super().__init__(ValidationFailed.one(path, f"is {edge} in UTC").errors)


def ascii_int(value: str) -> int | None:
    """A non-negative integer written in ASCII digits only, else None."""
    return int(value) if _DIGITS.fullmatch(value) else None


def row_id(value: str) -> int | None:
    """A database row id (1 to 2^63 - 1) in ASCII digits; None for anything the store cannot
    hold, which callers answer as "not found" like any other unknown id."""
    number = ascii_int(value) if len(value) <= 19 else None
    return number if number is not None and 0 < number <= MAX_ROW_ID else None


def post_id(value: str) -> str | None:
    """A post id that could be stored at all (PostgreSQL refuses NUL), else None."""
    return value if 0 < len(value) <= MAX_POST_ID_LENGTH and "\x00" not in value else None


def zone(name: str) -> ZoneInfo | None:
    """The tzdata zone called `name`, or None: unknown names, folders of the database
    (`America`, `Etc`), paths and over-long names alike."""
    if len(name) > MAX_ZONE_LENGTH or not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, not a zone file
        return None


def parse_zone(name: str, path: str) -> ZoneInfo:
    found = zone(name)
    if found is None:
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ValidationFailed.one(path, f"{shown!r} is not an IANA time zone")
    return found


def parse_instant(value: str, path: str) -> datetime:
    """An ISO 8601 date-time with its offset (`Z` or `+02:00`), as aware UTC."""
    match = _ISO_DATETIME.fullmatch(value)
    if match is None:
        raise ValidationFailed.one(path, f"must be an ISO 8601 date-time such as {TIME_EXAMPLE}")
    if match.group("offset") is None:
        raise ValidationFailed.one(path, f"must include a timezone offset, e.g. {TIME_EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValidationFailed.one(path, "is not a valid date and time") from None
    return _utc(parsed, path)


def parse_local_time(value: str, where: ZoneInfo, path: str) -> datetime:
    """A wall-clock date-time without offset (an `<input type=datetime-local>`) read in
    `where`, as aware UTC."""
    match = _ISO_DATETIME.fullmatch(value)
    if match is None or match.group("offset") is not None:
        raise ValidationFailed.one(path, "must be a date and time such as 2026-03-10T15:30")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValidationFailed.one(path, "is not a valid date and time") from None
    return _utc(parsed.replace(tzinfo=where), path)


def _utc(parsed: datetime, path: str) -> datetime:
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed out of range by its offset
        raise OutOfCalendar(path, future=parsed.year > 1) from None


def parse_calendar_day(value: str, path: str) -> date:
    """A date (`2026-03-09`) within the years the calendar can show."""
    try:
        day = date.fromisoformat(value) if _ISO_DATE.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed.one(path, "must be a date such as 2026-03-09")
    first, last = CALENDAR_YEARS
    if not first <= day.year <= last:
        raise ValidationFailed.one(path, f"must be within the years {first} to {last}")
    return day


def json_too_deep(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` levels (checked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_text_too_deep(text: bytes, value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """`json_too_deep` for `value` parsed from `text`. Each level opens a bracket, so text
    with no more than `limit` of them cannot nest deeper: counting them costs a tenth of the
    walk, which was a twentieth of the event loop's time on `POST /v2/posts`."""
    if text.count(b"{") + text.count(b"[") <= limit:
        return False
    return json_too_deep(value, limit)
