"""Meta's error body becomes the engine's error class and words a person can act on
(platform-notes 2.3 and 11): which codes wait, which fail, which disconnect."""

from __future__ import annotations

import httpx
import pytest

from masthead.platforms.base import (
    AccountDisconnected,
    OutcomeUnknown,
    Permanent,
    PublishError,
    Retryable,
)
from masthead.platforms.meta import graph_error, raise_for, regain_seconds


def _answer(code: int | None, status: int = 400, **extra: object) -> httpx.Response:
    error: dict[str, object] = {"message": "Meta's words", "fbtrace_id": "AbC123", **extra}
    if code is not None:
        error["code"] = code
    return httpx.Response(status, json={"error": error})


def _raised(response: httpx.Response, *, creates: bool = False) -> PublishError:
    with pytest.raises(PublishError) as caught:
        raise_for(graph_error(response), creates=creates, throttle_wait=7.0)
    return caught.value


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613])
def test_spent_call_budgets_wait_the_throttle_time(code: int) -> None:
    error = _raised(_answer(code))
    assert isinstance(error, Retryable) and error.retry_after == 7.0


@pytest.mark.parametrize("code", [1, 2])
def test_transient_codes_retry_unless_something_was_being_created(code: int) -> None:
    assert isinstance(_raised(_answer(code)), Retryable)
    assert isinstance(_raised(_answer(code), creates=True), OutcomeUnknown)


def test_a_bare_5xx_is_retried_before_creating_and_unknown_after() -> None:
    bare = httpx.Response(502, text="Bad Gateway")
    assert isinstance(_raised(bare), Retryable)
    assert isinstance(_raised(bare, creates=True), OutcomeUnknown)


def test_code_190_disconnects_the_account_with_a_way_out() -> None:
    error = _raised(_answer(190, error_subcode=460))
    assert isinstance(error, AccountDisconnected)
    assert "connect the account again" in error.message
    assert "(code 190, subcode 460, fbtrace_id AbC123)" in error.message


@pytest.mark.parametrize("code", [10, 100, 200, 299, 368, 506])
def test_permission_policy_and_duplicate_codes_fail_without_retry(code: int) -> None:
    error = _raised(_answer(code))
    assert type(error) is Permanent
    assert f"code {code}" in error.message


def test_the_instagram_publishing_limit_waits() -> None:
    error = _raised(_answer(9, error_subcode=2207042))
    assert isinstance(error, Retryable) and "publishing limit" in error.message


def test_metas_user_facing_sentence_is_preferred_to_its_technical_message() -> None:
    response = _answer(
        100, error_user_title="Video too short", error_user_msg="Reels last at least 3 s."
    )
    assert _raised(response).message == (
        "Video too short: Reels last at least 3 s. (code 100, fbtrace_id AbC123)"
    )


def test_meta_says_when_a_spent_budget_returns() -> None:
    usage = (
        '{"1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3},'
        ' {"type": "instagram", "estimated_time_to_regain_access": 12}]}'
    )
    assert regain_seconds(httpx.Headers({"X-Business-Use-Case-Usage": usage})) == 720.0
    quiet = '{"1234": [{"type": "pages", "estimated_time_to_regain_access": 0}], "x": 5}'
    assert regain_seconds(httpx.Headers({"X-Business-Use-Case-Usage": quiet})) is None
    assert regain_seconds(httpx.Headers({"X-Business-Use-Case-Usage": "not json"})) is None
    assert regain_seconds(httpx.Headers({})) is None
