"""The OAuth helpers every platform shares: PKCE, token answers, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from masthead.config import Settings
from masthead.platforms.base import Permanent
from masthead.platforms.oauth import (
    OAuthCredentials,
    authorize_url,
    challenge,
    credentials_from_token_response,
    expires_within,
    new_verifier,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_challenge_matches_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_long_enough_and_unreserved() -> None:
    verifier = new_verifier()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )


def test_authorize_url_keeps_an_existing_query() -> None:
    url = authorize_url(
        "https://example.test/auth?prompt=consent",
        client_id="c",
        redirect_uri="https://m.test/cb",
        scopes=("a", "b"),
        state="s",
        code_challenge="x",
    )
    query = parse_qs(urlsplit(url).query)
    assert query["prompt"] == ["consent"] and query["scope"] == ["a b"]
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]


def test_token_answer_becomes_credentials_with_an_absolute_expiry() -> None:
    body = {"access_token": "A", "refresh_token": "R", "expires_in": 7200, "scope": "x y"}
    assert credentials_from_token_response(body, now=NOW) == {
        "access_token": "A",
        "refresh_token": "R",
        "expires_at": "2026-12-02T14:00:00.000Z",
        "scope": "x y",
    }


def test_a_refresh_answer_without_refresh_token_keeps_the_stored_one() -> None:
    new = credentials_from_token_response(
        {"access_token": "B", "refresh_token": ""}, previous={"refresh_token": "R"}, now=NOW
    )
    assert new == {"access_token": "B", "refresh_token": "R"}


def test_a_token_answer_without_access_token_is_refused() -> None:
    with pytest.raises(Permanent):
        credentials_from_token_response({"error": "invalid_grant"})


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ({"expires_at": (NOW + timedelta(minutes=4)).isoformat()}, True),
        ({"expires_at": (NOW + timedelta(minutes=6)).isoformat()}, False),
        ({"expires_at": "2026-12-02T11:00:00.000Z"}, True),
        ({}, False),
        ({"expires_at": "garbage", "refresh_token": "R"}, True),
    ],
)
def test_expires_within(credentials: dict[str, str], expected: bool) -> None:
    stored = OAuthCredentials.from_stored(credentials)
    assert expires_within(stored, timedelta(minutes=5), NOW) is expected


def test_x_oauth_settings_are_named_after_x_and_found_for_twitter() -> None:
    settings = Settings(x_client_id="id", x_api_url="http://127.0.0.1:1/")
    app = settings.oauth_app("x")
    assert app is not None and app.api_url == "http://127.0.0.1:1"
    assert app.client_secret is None
    assert Settings(x_client_id=None).oauth_app("x") is None
