"""Signing people in to the settings web UI: passwords, sessions, CSRF tokens, rate limits.

A session is a random cookie value whose SHA-256 names a row in `web_sessions`, so every API
process knows it and a leaked table signs nobody in. A new session id is issued at every
sign-in (the one the browser came with, if any, is deleted), so a session id planted before
sign-in is worth nothing after it (session fixation).

Attempts are counted in the database, whichever process they reach, before the password is
checked, in one atomic statement per counter (store/web_sessions.py): per email (`MAX_FAILURES`
in `WINDOW`) and per client address (`MAX_PER_ADDRESS`). A browser the owner signed in from
before (its known-device cookie, or a live session of the same user) is counted on its own
instead, so a stranger who spends the email's attempts cannot lock the owner out of it. A
success takes its attempt back. The password check runs in a bounded thread pool, and runs
the same for unknown emails (against a dummy hash), so timing does not tell who has an
account.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from masthead.security import Secrets, check_password, new_password_hash
from masthead.store import users, web_sessions
from masthead.store.database import Database
from masthead.timeutil import utcnow

SESSION_LIFETIME = timedelta(days=14)
DEVICE_LIFETIME = timedelta(days=365)
MAX_FAILURES = 5
"""Attempts per email, and per known browser, in one window."""
MAX_PER_ADDRESS = 20
"""Attempts per client address in one window: higher, as a household or office shares one."""
WINDOW = timedelta(minutes=15)


class SignInRefused(Exception):
    """Wrong email or password (deliberately not saying which)."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")


@dataclass(frozen=True, slots=True)
class Attempt:
    email: str
    password: str
    address: str
    """The client's address, as the server saw it."""
    session: str | None
    """The session cookie the browser came with, if any."""
    device: str | None
    """Its known-device cookie, if any."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    """The session cookie value: never stored, only its hash is."""
    device: str
    """The known-device cookie value: signed, never stored."""
    user: users.UserRow


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    user: users.UserRow
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _counter(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def new_device(secrets_: Secrets, user_id: str) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{secrets_.sign_device(f'{user_id}.{nonce}')}"


def _device_nonce(secrets_: Secrets, user_id: str, cookie: str | None) -> str | None:
    """The nonce of a known-device cookie that this server gave to `user_id`."""
    nonce, _, signature = (cookie or "").partition(".")
    if nonce and secrets_.verify_device(f"{user_id}.{nonce}", signature):
        return nonce
    return None


async def _known_browser(
    db: Database, secrets_: Secrets, user: users.UserRow | None, attempt: Attempt
) -> str | None:
    """The counter of a browser that `user` signed in from before, or None."""
    if user is None:
        return None
    nonce = _device_nonce(secrets_, user.id, attempt.device)
    if nonce is not None:
        return _counter("device", nonce)
    if attempt.session:
        hashed = token_hash(attempt.session)
        live = await db.read(lambda c: web_sessions.get(c, hashed, utcnow()))
        if live is not None and live.user.id == user.id:
            return _counter("session", hashed)
    return None


def _wait(counted: list[web_sessions.Counted], limits: dict[str, int], now: datetime) -> int:
    """Seconds until every counter that is over its limit starts a new window; 0 if none."""
    over = [c.window_start + WINDOW - now for c in counted if c.attempts > limits[c.key]]
    return max((math.ceil(left.total_seconds()) for left in over), default=0)


async def sign_in(db: Database, secrets_: Secrets, attempt: Attempt) -> SignedIn:
    key = attempt.email.strip().lower()
    now = utcnow()
    since = now - WINDOW
    found = await db.read(lambda c: users.password_hash(c, key))
    user, stored = found if found else (None, None)
    known = await _known_browser(db, secrets_, user, attempt)
    address = _counter("address", attempt.address)
    limits = (
        {known: MAX_FAILURES}
        if known is not None
        else {_counter("email", key): MAX_FAILURES, address: MAX_PER_ADDRESS}
    )
    counted = await db.write(
        lambda c: [web_sessions.count_attempt(c, k, now, since) for k in limits]
    )
    wait = _wait(counted, limits, now)
    if wait:
        raise TooManyAttempts(wait)
    if not await check_password(stored, attempt.password) or user is None:
        raise SignInRefused()
    token = secrets.token_urlsafe(32)
    signed_in_user = user

    def start(conn: Connection) -> None:
        if attempt.session:
            web_sessions.remove(conn, token_hash(attempt.session))
        for counter in limits:
            if counter == address:
                web_sessions.uncount_attempt(conn, counter)
            else:
                web_sessions.clear_attempts(conn, counter)
        web_sessions.add(
            conn,
            id_hash=token_hash(token),
            user_id=signed_in_user.id,
            csrf_token=secrets.token_urlsafe(32),
            now=now,
            expires_at=now + SESSION_LIFETIME,
        )

    await db.write(start)
    device = attempt.device
    if device is None or _device_nonce(secrets_, user.id, device) is None:
        device = new_device(secrets_, user.id)
    return SignedIn(token, device, user)


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
    hashed = await new_password_hash(password)

    def change(conn: Connection) -> bool:
        user = users.user_by_email(conn, email)
        if user is None:
            return False
        users.set_password_hash(conn, email, hashed)
        web_sessions.remove_all(conn, user.id)
        return True

    return await db.write(change)
