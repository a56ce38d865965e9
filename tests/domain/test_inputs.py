"""The one parser per kind of small input (domain/inputs.py): what the standard library would
raise on or misread comes back as None or as a field error, never as an exception of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masthead.domain import inputs
from masthead.domain.errors import ValidationFailed

UNICODE_DIGITS = ["²", "١", "１２", "߁", "৩", "𝟗"]
"""Characters `str.isdigit()` accepts that are not ASCII digits."""


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_digits_are_ascii_digits_only(text: str) -> None:
    assert text.isdigit()
    assert inputs.ascii_int(text) is None
    assert inputs.row_id(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("0042", 42), (str(2**63 - 1), 2**63 - 1), ("0", None), (str(2**63), None)],
)
def test_row_ids_fit_a_64_bit_column(text: str, expected: int | None) -> None:
    assert inputs.row_id(text) == expected


@given(st.text(max_size=30))
def test_ascii_int_agrees_with_int_on_ascii_digits(text: str) -> None:
    parsed = inputs.ascii_int(text)
    if text and all(c in "0123456789" for c in text):
        assert parsed == int(text)
    else:
        assert parsed is None


@pytest.mark.parametrize(
    "name", ["America", "Etc", "x" * 256, "A" * 300 + "/B", "../etc/passwd", "/UTC", "UTC ", ""]
)
def test_folders_paths_and_long_names_are_not_zones(name: str) -> None:
    assert inputs.zone(name) is None
    with pytest.raises(ValidationFailed) as refused:
        inputs.parse_zone(name, "timezone")
    assert refused.value.errors[0].path == "timezone"


def test_real_zones_are_found() -> None:
    assert inputs.zone("Europe/Paris") == ZoneInfo("Europe/Paris")
    assert inputs.zone("America/Argentina/Buenos_Aires") is not None
    assert inputs.zone("Etc/GMT+5") is not None


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_no_name_makes_the_zone_parser_raise(name: str) -> None:
    inputs.zone(name)


@pytest.mark.parametrize(
    ("text", "future"),
    [("0001-01-01T00:00:00+01:00", False), ("9999-12-31T23:59:59-01:00", True)],
)
def test_instants_pushed_off_the_calendar_by_their_offset_are_refused(
    text: str, future: bool
) -> None:
    with pytest.raises(inputs.OutOfCalendar) as refused:
        inputs.parse_instant(text, "since")
    assert refused.value.future is future
    assert refused.value.errors[0].path == "since"


def test_instants_come_back_as_aware_utc() -> None:
    parsed = inputs.parse_instant("2026-03-10T17:30:00+02:00", "until")
    assert parsed == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize(
    "text", ["2026-03-10T15:30:00", "2026-03-10", "２０２６-03-10T15:30:00Z", "2026-02-30T00:00Z"]
)
def test_naive_unicode_and_impossible_instants_are_field_errors(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        inputs.parse_instant(text, "before")
    assert refused.value.errors[0].path == "before"


OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=OFFSETS))
def test_any_aware_datetime_is_read_back_or_refused(when: datetime) -> None:
    try:
        parsed = inputs.parse_instant(when.isoformat(), "t")
    except inputs.OutOfCalendar:
        return
    assert parsed == when


def test_local_times_are_read_in_the_viewers_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert inputs.parse_local_time("2026-07-01T09:00", paris, "when") == datetime(
        2026, 7, 1, 7, tzinfo=UTC
    )
    with pytest.raises(inputs.OutOfCalendar):
        inputs.parse_local_time("0001-01-01T05:00", ZoneInfo("Asia/Tokyo"), "when")
    with pytest.raises(ValidationFailed):
        inputs.parse_local_time("2026-07-01T09:00Z", paris, "when")


@pytest.mark.parametrize("text", ["0001-01-03", "9999-12-31", "2026-13-01", "2026-W01", "１"])
def test_calendar_days_stay_where_a_week_can_be_shown(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        inputs.parse_calendar_day(text, "week")
    assert refused.value.errors[0].path == "week"


def test_calendar_days_parse() -> None:
    assert inputs.parse_calendar_day("2026-03-09", "week") == date(2026, 3, 9)


@pytest.mark.parametrize("depth", [1, 64])
def test_json_up_to_the_limit_is_kept(depth: int) -> None:
    value = orjson.loads("[" * depth + "]" * depth)
    assert not inputs.json_too_deep(value)


@pytest.mark.parametrize("depth", [65, 255, 1023])
def test_json_deeper_than_the_limit_is_refused(depth: int) -> None:
    value = orjson.loads('{"a":' * depth + "1" + "}" * depth)
    assert inputs.json_too_deep(value)


def test_post_ids_the_store_cannot_hold_are_none() -> None:
    assert inputs.post_id("a" * 64) == "a" * 64
    assert inputs.post_id("a" * 65) is None
    assert inputs.post_id("a\x00b") is None
    assert inputs.post_id("") is None


@pytest.mark.parametrize(
    "text",
    [
        b"[" * 64 + b"]" * 64,
        b'{"a":' * 65 + b"1" + b"}" * 65,
        b'{"a":' * 65 + b"1" + b"}" * 65 + b" " * 10,
        b'{"post":{"content":{"text":"' + b"{[" * 100 + b'"}}}',
    ],
)
def test_json_text_agrees_with_the_walk(text: bytes) -> None:
    value = orjson.loads(text)
    assert inputs.json_text_too_deep(text, value) == inputs.json_too_deep(value)


def test_json_text_with_few_brackets_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typical post opens five brackets: it is known shallow without the walk."""

    def walk(value: object, limit: int = inputs.MAX_JSON_DEPTH) -> bool:
        raise AssertionError("walked a body that cannot be too deep")

    monkeypatch.setattr(inputs, "json_too_deep", walk)
    text = b'{"post":{"accountId":"1","content":{"text":"hi","mediaUrls":[]},"target":{}}}'
    assert not inputs.json_text_too_deep(text, orjson.loads(text))
