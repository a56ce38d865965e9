"""API keys a user manages in the web UI: the key itself exists only in the answer to
`create`; afterwards only its digest (to check it) and its prefix (to recognise it) remain."""

from __future__ import annotations

from cachetools import TTLCache

from masthead.security import NewApiKey, Secrets
from masthead.store import users
from masthead.store.database import Database
from masthead.store.users import KeyOwner
from masthead.timeutil import utcnow

NAME_MAX = 200


async def create(db: Database, secrets: Secrets, user_id: str, name: str) -> NewApiKey:
    key = secrets.new_api_key()
    now = utcnow()
    label = name.strip()[:NAME_MAX]
    await db.write(
        lambda c: users.add_api_key(
            c, user_id=user_id, name=label, prefix=key.prefix, digest=key.digest, now=now
        )
    )
    return key


async def listing(db: Database, user_id: str) -> list[users.KeyListing]:
    return await db.read(lambda c: users.list_keys(c, user_id))


async def revoke(
    db: Database, known_keys: TTLCache[str, KeyOwner], user_id: str, key_id: int
) -> bool:
    """False for unknown ids and other users' keys. This process forgets the key at once;
    others within their cache's TTL (context.py)."""
    now = utcnow()
    digest = await db.write(lambda c: users.revoke_key(c, user_id, key_id, now))
    if digest is None:
        return False
    known_keys.pop(digest, None)
    return True
