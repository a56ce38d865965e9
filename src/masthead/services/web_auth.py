"""Signing people in to the settings web UI: passwords, sessions, CSRF tokens, rate limits.

A session is a random cookie value whose SHA-256 names a row in `web_sessions`, so every API
process knows it and a leaked table signs nobody in. A new session id is issued at every
sign-in (the one the browser came with, if any, is deleted), so a session id planted before
sign-in is worth nothing after it (session fixation). Failed sign-ins are counted per email in
the database: after `MAX_FAILURES` in `WINDOW` the email is refused until the window ends,
whichever process the guesses reach.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from masthead.security import hash_password
from masthead.store import users, web_sessions
from masthead.store.database import Database
from masthead.timeutil import utcnow

SESSION_LIFETIME = timedelta(days=14)
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so an answer's timing does not tell who has an
    account. Made on first use: importing this module (the CLI does) stays cheap."""
    return hash_password("masthead-no-such-user")


class SignInRefused(Exception):
    """Wrong email or password (deliberately not saying which)."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    """The cookie value: never stored, only its hash is."""
    user: users.UserRow


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    user: users.UserRow
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def sign_in(db: Database, email: str, password: str, previous: str | None) -> SignedIn:
    key = email.strip().lower()
    now = utcnow()
    since = now - WINDOW
    if await db.read(lambda c: web_sessions.failures(c, key, since)) >= MAX_FAILURES:
        raise TooManyAttempts(int(WINDOW.total_seconds()))
    found = await db.read(lambda c: users.password_hash(c, key))
    user, stored = found if found else (None, None)
    if user is None or not _verify(stored, password):
        await db.write(lambda c: web_sessions.record_failure(c, key, now, since))
        raise SignInRefused()
    token = secrets.token_urlsafe(32)
    signed_in_user = user

    def start(conn: Connection) -> None:
        if previous:
            web_sessions.remove(conn, token_hash(previous))
        web_sessions.clear_failures(conn, key)
        web_sessions.add(
            conn,
            id_hash=token_hash(token),
            user_id=signed_in_user.id,
            csrf_token=secrets.token_urlsafe(32),
            now=now,
            expires_at=now + SESSION_LIFETIME,
        )

    await db.write(start)
    return SignedIn(token, user)


async def session(db: Database, token: str | None) -> WebSession | None:
    if not token:
        return None
    hashed = token_hash(token)
    row = await db.read(lambda c: web_sessions.get(c, hashed, utcnow()))
    return WebSession(hashed, row.user, row.csrf_token) if row else None


async def sign_out(db: Database, token_hash_: str) -> None:
    await db.write(lambda c: web_sessions.remove(c, token_hash_))


def csrf_ok(expected: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(expected.encode(), sent.encode())


async def set_password(db: Database, email: str, password: str) -> bool:
    """A new password also signs the user out everywhere: whoever knew the old one and had
    signed in with it keeps nothing. False when there is no such user."""
    hashed = hash_password(password)

    def change(conn: Connection) -> bool:
        user = users.user_by_email(conn, email)
        if user is None:
            return False
        users.set_password_hash(conn, email, hashed)
        web_sessions.remove_all(conn, user.id)
        return True

    return await db.write(change)
