"""Typed credentials read the rows stored today unchanged: each platform's stored shape loads
into its type, and writes back as the same object (no migration, old rows keep working)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from masthead.platforms.base import AccountDisconnected
from masthead.platforms.bluesky import BlueskyCredentials
from masthead.platforms.oauth import OAuthCredentials, credentials_from_token_response
from masthead.platforms.seams import StoredCredentials
from masthead.platforms.threads import ThreadsCredentials, long_lived_credentials

OAUTH_ROW = {
    "access_token": "access-1",
    "refresh_token": "refresh-1",
    "expires_at": "2026-12-04T06:00:00+00:00",
    "scope": "tweet.read tweet.write",
}

STORED_TODAY: list[tuple[str, type[StoredCredentials], dict[str, Any]]] = [
    ("twitter", OAuthCredentials, OAUTH_ROW),
    ("linkedin", OAuthCredentials, {**OAUTH_ROW, "scope": "w_member_social"}),
    ("pinterest", OAuthCredentials, {**OAUTH_ROW, "scope": "pins:write"}),
    ("tiktok", OAuthCredentials, {**OAUTH_ROW, "scope": "video.publish"}),
    ("youtube", OAuthCredentials, {k: v for k, v in OAUTH_ROW.items() if k != "scope"}),
    ("facebook", OAuthCredentials, {"access_token": "user-1", "expires_at": "2027-02-01T00:00"}),
    ("instagram", OAuthCredentials, {"access_token": "user-1"}),
    (
        "threads",
        ThreadsCredentials,
        {
            "access_token": "long-1",
            "expires_at": "2027-02-01T00:00:00+00:00",
            "issued_at": "2026-12-01T00:00:00+00:00",
            "user_id": "1789",
        },
    ),
    (
        "bluesky",
        BlueskyCredentials,
        {
            "handle": "alice.test",
            "app_password": "abcd-efgh-ijkl-mnop",
            "service": "https://pds.example.com",
            "service_from_did": False,
            "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
            "access_jwt": "eyJ.access.1",
            "refresh_jwt": "eyJ.refresh.1",
        },
    ),
]


@pytest.mark.parametrize(
    ("kind", "row"), [(k, r) for _, k, r in STORED_TODAY], ids=[p for p, _, _ in STORED_TODAY]
)
def test_a_row_stored_today_loads_and_writes_back_the_same(
    kind: type[StoredCredentials], row: dict[str, Any]
) -> None:
    loaded = kind.from_stored(row)
    assert loaded.to_stored() == row
    assert {key: getattr(loaded, key) for key in row} == row


def test_keys_a_type_does_not_name_and_null_values_are_kept() -> None:
    row = {"access_token": "a", "expires_at": None, "page_hint": {"id": "1"}}
    loaded = OAuthCredentials.from_stored(row)
    assert loaded.access_token == "a" and loaded.expires_at is None
    assert loaded.to_stored() == row


def test_token_answers_write_the_shape_stored_today() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert credentials_from_token_response(
        {"access_token": "a", "expires_in": 7200, "scope": "s"},
        previous={"refresh_token": "kept"},
        now=now,
    ) == {
        "access_token": "a",
        "refresh_token": "kept",
        "expires_at": "2026-12-04T02:00:00.000Z",
        "scope": "s",
    }
    assert long_lived_credentials({"access_token": "b", "expires_in": 60}, now=now) == {
        "access_token": "b",
        "issued_at": "2026-12-04T00:00:00.000Z",
        "expires_at": "2026-12-04T00:01:00.000Z",
    }


def test_a_bluesky_row_without_a_session_says_to_reconnect() -> None:
    """A row with the app password but no session (its DID and PDS unknown) loads, and any
    call that needs the session is refused as a disconnected account, not sent nowhere."""
    row = {"handle": "alice.test", "app_password": "abcd-efgh-ijkl-mnop"}
    loaded = BlueskyCredentials.from_stored(row)
    assert loaded.to_stored() == row
    with pytest.raises(AccountDisconnected, match="reconnect"):
        loaded.pds  # noqa: B018
    with pytest.raises(AccountDisconnected, match="reconnect"):
        loaded.repo  # noqa: B018
