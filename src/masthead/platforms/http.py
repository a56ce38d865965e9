"""The HTTP every platform shares: one client per publisher, transport errors sorted into
"certainly not acted" and "outcome unknown", the authorised call that refreshes its token once
after a 401, and the platform's own reading of a refusal (`classify`).

The shape follows Postiz's `SocialAbstract.fetch` + `handleErrors`, with our stricter outcome
rule: only an error raised before the request left (`NOT_ACTED`) may be retried blindly; a
connection lost after a request that `creates` something is `OutcomeUnknown`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from masthead.platforms.base import (
    AccountDisconnected,
    AccountScope,
    OutcomeUnknown,
    Permanent,
    Publisher,
    PublishError,
    Retryable,
)
from masthead.platforms.tokens import Refresher, TokenKeeper

NOT_ACTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors that happen before a request leaves: the platform certainly did not act."""

Classify = Callable[[httpx.Response, bool], PublishError | None]
"""A platform's reading of an answer: the error it means (given whether the call `creates`
something), None for a success."""
Stale = Callable[[AccountScope, httpx.Response], Awaitable[bool]]
"""Whether an answer says the token is stale and worth one refresh (default: a 401)."""


async def _unauthorised(ctx: AccountScope, response: httpx.Response) -> bool:
    return response.status_code == 401


_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """A Retry-After header's wait in seconds, from delta-seconds or an HTTP date; `headers`
    must look names up case-insensitively, as httpx's and aiohttp's do."""
    value = headers.get("retry-after")
    if value is None:
        return None
    if _SECONDS.fullmatch(value.strip()):  # ASCII only: float() also reads "²", "inf", "nan"
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's body when it is a JSON object; None for anything else (a proxy's HTML
    page, an empty body, a list)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def first_words(response: httpx.Response, name: str, keys: tuple[str, ...]) -> str:
    """The platform's own words: the first of `keys` the body fills, when it is a string; the
    status line when the body says nothing."""
    body = json_object(response) or {}
    message = next((body[key] for key in keys if body.get(key)), None)
    if isinstance(message, str) and message:
        return message
    return f"{name} answered HTTP {response.status_code}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def given_token(credentials: Mapping[str, Any], account: str) -> str:
    """The access token of credentials being connected; `account` names what needs it ("An X
    account") in the refusal when there is none."""
    token = str(credentials.get("access_token") or "")
    if not token:
        raise Permanent(f"{account} needs an access token")
    return token


def new_client(
    timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A publisher's client: never follows redirects (a platform's answer is read as given).
    `transport` lets tests run a fake in-process."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport)


class PlatformHttp:
    """One platform's calls: `name` is how messages call it ("LinkedIn")."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        classify: Classify,
        tokens: TokenKeeper | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self._classify = classify
        self._tokens = tokens

    @classmethod
    def with_tokens(
        cls,
        name: str,
        client: httpx.AsyncClient,
        classify: Classify,
        oauth: Refresher | None,
        refresh_margin: timedelta,
    ) -> PlatformHttp:
        """Calls authorised by the account's tokens, refreshed through `oauth` within
        `refresh_margin` of their end."""
        return cls(name, client, classify, TokenKeeper(name, oauth, refresh_margin))

    async def send(
        self, method: str, url: str, *, creates: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request; transport errors become the engine's classes."""
        try:
            return await self.client.request(method, url, **kwargs)
        except NOT_ACTED as exc:
            raise Retryable(f"{self.name} unreachable ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if creates:
                raise OutcomeUnknown(
                    f"the connection to {self.name} dropped after the request was sent "
                    f"({type(exc).__name__})"
                ) from exc
            raise Retryable(f"{self.name} connection failed ({type(exc).__name__})") from exc

    async def whose(
        self,
        credentials: Mapping[str, Any],
        account: str,
        url: str,
        params: Mapping[str, str],
        words: Callable[[httpx.Response], str],
    ) -> tuple[str, Any]:
        """The token of credentials being connected, and the platform's answer (JSON) to whose
        it is; `account` names what needs a token ("An X account"), and a refusal ends the
        connect in the platform's `words`."""
        token = given_token(credentials, account)
        response = await self.send("GET", url, params=params, headers=bearer(token))
        if response.status_code != 200:
            raise Permanent(words(response))
        return token, response.json()

    async def authorised(
        self,
        ctx: AccountScope,
        method: str,
        url: str,
        *,
        creates: bool = False,
        headers: Mapping[str, str] | None = None,
        stale: Stale = _unauthorised,
        sort_errors: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call with the account's bearer token. When the answer says the token is stale
        (a 401, or `stale`'s own test) the token is refreshed once and the call made again:
        the platform did not act on a request it did not authorise. `sort_errors=False` hands
        httpx's transport errors to a caller that reads them itself (a resumable upload)."""
        if self._tokens is None:
            raise AssertionError(f"{self.name} calls need a TokenKeeper")
        token = await self._tokens.token(ctx)
        for attempt in range(2):
            authorised = {**(headers or {}), "Authorization": f"Bearer {token}"}
            if sort_errors:
                response = await self.send(
                    method, url, creates=creates, headers=authorised, **kwargs
                )
            else:
                response = await self.client.request(method, url, headers=authorised, **kwargs)
            if attempt == 0 and await stale(ctx, response):
                token = await self._tokens.token(ctx, stale=token)
                continue
            break
        return response

    def check(self, response: httpx.Response, *, creates: bool = False) -> httpx.Response:
        """The response when it is a success; the platform's error otherwise."""
        error = self._classify(response, creates)
        if error is not None:
            raise error
        return response


def refusal(
    name: str,
    response: httpx.Response,
    message: str,
    *,
    creates: bool,
    throttle_wait: float | None = None,
) -> PublishError | None:
    """The usual reading of an HTTP status, for platforms whose bodies add nothing to it: a
    429 waits (`throttle_wait`, else Retry-After); a 401 disconnects the account; a 503, or any
    5xx to a call that creates nothing, is retried; another 5xx to a creating call leaves the
    outcome unknown; the rest is permanent, in the platform's words."""
    status = response.status_code
    if status < 300:
        return None
    if status == 429:
        wait = throttle_wait if throttle_wait is not None else retry_after(response.headers)
        return Retryable(f"{name} rate limit: {message}", wait)
    if status == 401:
        return AccountDisconnected(f"{name} refused the account's token: {message}")
    if status == 503 or (status >= 500 and not creates):
        # 503: the front door refused before any work; other 5xx create nothing here.
        return Retryable(f"{name} is unavailable: {message}", retry_after(response.headers))
    if status >= 500:
        return OutcomeUnknown(f"{name} answered {status} to the request that creates ({message})")
    return Permanent(message)


class HttpPublisher(Publisher):
    """A publisher that owns one HTTP client, closed with it."""

    _client: httpx.AsyncClient

    async def aclose(self) -> None:
        await self._client.aclose()
