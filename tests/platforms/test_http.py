"""The HTTP kit every publisher shares: Retry-After in both forms, transport errors sorted by
whether the platform may have acted, and the authorised call's one refresh after a 401.
Platforms are served in-process through `httpx.MockTransport`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from masthead.platforms.base import (
    AccountInfo,
    OutcomeUnknown,
    PublishContext,
    PublishError,
    Retryable,
)
from masthead.platforms.http import PlatformHttp, new_client, refusal, retry_after
from masthead.platforms.tokens import TokenKeeper
from tests.support.credentials import Credentials


class Refresher:
    def __init__(self) -> None:
        self.calls = 0

    async def refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        return {**current, "access_token": f"fresh-{self.calls}"}


def context(store: Credentials) -> PublishContext:
    account = AccountInfo(id=1, platform="example", external_id="1", username="someone")
    return PublishContext(
        post_id="p",
        account=account,
        target={},
        items=(),
        scheduled_at=None,
        signing_secret="",
        credentials=store,
    )


def no_error(response: httpx.Response, creates: bool) -> PublishError | None:
    return refusal("Example", response, response.text, creates=creates)


def kit(handler: Any, refresher: Refresher | None = None) -> PlatformHttp:
    tokens = TokenKeeper("Example", refresher, timedelta(minutes=5))
    client = new_client(5.0, httpx.MockTransport(handler))
    return PlatformHttp("Example", client, no_error, tokens)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "120"})) == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    wait = retry_after(httpx.Headers({"Retry-After": later}))
    assert wait is not None and 80 <= wait <= 90
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert retry_after(httpx.Headers({"Retry-After": past})) == 0.0
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers({"Retry-After": "1.5"})) == 1.5
    for odd in ("inf", "nan", "-5", "\u00b2", "\u0661\u0662"):  # float() reads some of these
        assert retry_after({"retry-after": odd}) is None, odd
    assert retry_after(httpx.Headers()) is None


@pytest.mark.parametrize(
    ("error", "creates", "expected"),
    [
        (httpx.ConnectError("refused"), True, Retryable),
        (httpx.ConnectTimeout("no answer to SYN"), True, Retryable),
        (httpx.ReadError("reset after sending"), True, OutcomeUnknown),
        (httpx.ReadError("reset after sending"), False, Retryable),
    ],
)
async def test_transport_errors_are_sorted_by_whether_the_platform_may_have_acted(
    error: Exception, creates: bool, expected: type[PublishError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    http = kit(handler)
    with pytest.raises(PublishError) as raised:
        await http.send("POST", "https://example.test/posts", creates=creates)
    assert type(raised.value) is expected
    await http.client.aclose()


async def test_a_401_refreshes_the_token_once_and_calls_again() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(401 if len(seen) == 1 else 200, json={})

    refresher = Refresher()
    store = Credentials({"access_token": "old", "refresh_token": "r"})
    http = kit(handler, refresher)
    response = await http.authorised(context(store), "GET", "https://example.test/me")
    assert response.status_code == 200
    assert seen == ["Bearer old", "Bearer fresh-1"]
    assert store.stored["access_token"] == "fresh-1"
    await http.client.aclose()


async def test_a_second_401_is_the_answer_not_another_refresh() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={}, headers={"Retry-After": "3"})

    refresher = Refresher()
    store = Credentials({"access_token": "old", "refresh_token": "r"})
    http = kit(handler, refresher)
    response = await http.authorised(context(store), "GET", "https://example.test/me")
    assert (response.status_code, refresher.calls) == (401, 1)
    with pytest.raises(PublishError, match="refused the account's token"):
        http.check(response)
    await http.client.aclose()


@pytest.mark.parametrize(
    ("status", "creates", "expected"),
    [(429, True, Retryable), (503, True, Retryable), (500, False, Retryable)],
)
def test_refusals_that_did_nothing_are_retried(
    status: int, creates: bool, expected: type[PublishError]
) -> None:
    response = httpx.Response(status, headers={"Retry-After": "7"})
    error = refusal("Example", response, "busy", creates=creates)
    assert type(error) is expected
    assert isinstance(error, Retryable) and error.retry_after == 7.0


def test_a_500_to_a_call_that_creates_leaves_the_outcome_unknown() -> None:
    error = refusal("Example", httpx.Response(500), "oops", creates=True)
    assert isinstance(error, OutcomeUnknown)
