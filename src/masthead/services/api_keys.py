"""API keys a user manages in the web UI: the key itself exists only in the answer to
`create`; afterwards only its digest (to check it) and its prefix (to recognise it) remain."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from masthead.expiring import ExpiringCache
from masthead.security import NewApiKey, Secrets, lookup_prefix
from masthead.services.errors import rate_limited
from masthead.store import users
from masthead.store.database import Database
from masthead.store.users import KeyOwner
from masthead.timeutil import utcnow

NAME_MAX = 200
MISSING_KEY = "Missing API key: send it in the blotato-api-key header"
WRONG_KEY = "Wrong Blotato API Key"


async def create(db: Database, secrets: Secrets, user_id: str, name: str) -> NewApiKey:
    return (await _add(db, secrets, user_id, name))[1]


async def create_for_agent(db: Database, secrets: Secrets, user_id: str, name: str) -> int:
    """A key of its own for an MCP agent signed in with OAuth, listed and revoked with the
    user's keys; its value is never shown (the agent's tokens name it by id)."""
    return (await _add(db, secrets, user_id, name))[0]


async def _add(db: Database, secrets: Secrets, user_id: str, name: str) -> tuple[int, NewApiKey]:
    key = secrets.new_api_key()
    now = utcnow()
    label = name.strip()[:NAME_MAX]
    key_id = await db.write(
        lambda c: users.add_api_key(
            c, user_id=user_id, name=label, prefix=key.prefix, digest=key.digest, now=now
        )
    )
    return key_id, key


async def listing(db: Database, user_id: str) -> list[users.KeyListing]:
    return await db.read(lambda c: users.list_keys(c, user_id))


async def revoke(
    db: Database, known_keys: ExpiringCache[str, KeyOwner], user_id: str, key_id: int
) -> bool:
    """False for unknown ids and other users' keys. This process forgets the key at once;
    others within their cache's TTL (context.py)."""
    now = utcnow()
    digest = await db.write(lambda c: users.revoke_key(c, user_id, key_id, now))
    if digest is None:
        return False
    known_keys.pop(digest, None)
    return True


TOUCH_EVERY = timedelta(minutes=1)
"""`last_used_at` is refreshed at most this often, so reads stay reads."""


class Verdict(Protocol):
    @property
    def allowed(self) -> bool: ...
    @property
    def retry_after(self) -> int: ...


class Limiter(Protocol):
    """The per-user request limits (api/ratelimit.py), counted per REST route."""

    async def check(self, user_id: str, route: str) -> Verdict: ...


async def owner_of(
    db: Database, secrets: Secrets, known_keys: ExpiringCache[str, KeyOwner], key: str
) -> KeyOwner | None:
    """Who an API key belongs to (None: unknown or revoked), the same check for every door.
    Cached only when read from the database, so a revoked key drops out within the TTL."""
    digest = secrets.digest(key)
    owner = known_keys.get(digest)
    if owner is not None:
        return owner
    prefix = lookup_prefix(key)
    candidates = await db.read(lambda conn: users.active_keys_with_prefix(conn, prefix))
    owner = next((c for c in candidates if secrets.matches(key, c.digest)), None)
    if owner is None:
        return None
    now = utcnow()
    if owner.last_used_at is None or now - owner.last_used_at > TOUCH_EVERY:
        key_id = owner.key_id
        await db.write(lambda c: users.touch_key(c, key_id, now), isolated=False)
    known_keys[digest] = owner
    return owner


async def admit(limiter: Limiter, user_id: str, route: str) -> None:
    """Counts one request against the user's limit for `route` (`METHOD /v2/path`), whichever
    of their keys sent it: a tool shares its REST route's bucket."""
    verdict = await limiter.check(user_id, route)
    if not verdict.allowed:
        raise rate_limited(verdict.retry_after)
