"""Pure parts of the Threads publisher: Meta's error bodies and when a token is refreshed."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from masthead.platforms.threads import MetaError, ThreadsPublisher
from masthead.timeutil import iso, utcnow


def _answer(status: int, error: object) -> httpx.Response:
    return httpx.Response(status, json={"error": error})


@pytest.mark.parametrize(
    ("status", "error", "rate_limited", "token", "temporary"),
    [
        (400, {"message": "(#4) Application request limit reached", "code": 4}, True, False, False),
        (400, {"message": "(#17) User request limit reached", "code": 17}, True, False, False),
        (429, {"message": "slow down", "code": 613}, True, False, False),
        (400, {"message": "Error validating access token", "code": 190}, False, True, False),
        (500, {"message": "An unknown error has occurred.", "code": 1}, False, False, True),
        (400, {"message": "Please retry", "code": 2, "is_transient": True}, False, False, True),
        (400, {"message": "(#100) Invalid parameter", "code": 100}, False, False, False),
        (400, {"message": "(#10) No permission", "code": 10}, False, False, False),
    ],
)
def test_meta_errors_are_classified_by_code(
    status: int, error: dict[str, object], rate_limited: bool, token: bool, temporary: bool
) -> None:
    parsed = MetaError(_answer(status, error))
    assert (parsed.rate_limited, parsed.token_refused, parsed.temporary) == (
        rate_limited,
        token,
        temporary,
    )
    assert parsed.message == error["message"]


def test_meta_words_carry_the_code_and_subcode_and_the_user_message() -> None:
    parsed = MetaError(
        _answer(
            400,
            {
                "message": "Invalid parameter",
                "code": 100,
                "error_subcode": 2207052,
                "error_user_msg": "The media could not be fetched",
            },
        )
    )
    assert parsed.words == (
        "Invalid parameter (The media could not be fetched) [Threads error 100/2207052]"
    )


def test_a_body_that_is_not_meta_json_still_gives_words() -> None:
    parsed = MetaError(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert (parsed.words, parsed.temporary) == ("Threads answered HTTP 502", True)


@pytest.mark.parametrize(
    ("left_days", "age_days", "due"),
    [
        (59, 1, False),  # fresh
        (51, 9, False),  # more than 50 days left
        (45, 15, True),
        (1, 59, True),
        (45, None, True),  # age unknown (given with --expires-at): refresh
        (None, 2, True),  # end unknown, a day old: refresh to learn it
        (None, 0.5, False),  # end unknown, too new for Meta to refresh
        (None, None, False),  # nothing known (added with --username/--external-id)
    ],
)
def test_when_a_token_is_refreshed(
    left_days: float | None, age_days: float | None, due: bool
) -> None:
    now = utcnow()
    credentials: dict[str, str] = {"access_token": "t"}
    if left_days is not None:
        credentials["expires_at"] = iso(now + timedelta(days=left_days))
    if age_days is not None:
        credentials["issued_at"] = iso(now - timedelta(days=age_days))
    assert ThreadsPublisher._due_for_refresh(credentials, now) is due
