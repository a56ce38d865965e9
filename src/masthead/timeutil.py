"""UTC now and the compat timestamp format, in one place."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time a platform or a stored credential gave (`Z` or an offset; naive means
    UTC); None when it is absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(value: datetime) -> str:
    """Compat timestamps: UTC with milliseconds and a Z (`2026-03-11T15:30:00.000Z`)."""
    # isoformat is a fifth of strftime's cost; in UTC it always ends in "+00:00".
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
