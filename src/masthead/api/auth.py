"""`blotato-api-key` authentication and the per-key rate limit, as one dependency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.security import APIKeyHeader

from masthead.api.errors import ApiError
from masthead.api.ratelimit import ApiRateLimiter, SharedApiRateLimiter
from masthead.context import AppContext
from masthead.security import lookup_prefix
from masthead.store import users
from masthead.timeutil import utcnow

API_KEY_HEADER = "blotato-api-key"
TOUCH_EVERY = timedelta(minutes=1)
"""`last_used_at` is refreshed at most this often, so reads stay reads."""

# Declared for OpenAPI (the security scheme); the check itself is in `authenticate`.
api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)


@dataclass(frozen=True, slots=True)
class Caller:
    user: users.UserRow
    key_id: int


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def limiter(request: Request) -> ApiRateLimiter | SharedApiRateLimiter:
    """The per-key limiter, the API's own part of the process (set by app.py)."""
    found: ApiRateLimiter | SharedApiRateLimiter = request.app.state.limiter
    return found


async def authenticate(request: Request) -> Caller:
    ctx = context(request)
    key = request.headers.get(API_KEY_HEADER)
    if not key:
        raise ApiError(401, "Missing API key: send it in the blotato-api-key header")
    digest = ctx.secrets.digest(key)
    owner = ctx.known_keys.get(digest)
    if owner is None:
        # Cached only when read from the database, so a revoked key drops out within the TTL.
        prefix = lookup_prefix(key)
        candidates = await ctx.db.read(lambda conn: users.active_keys_with_prefix(conn, prefix))
        owner = next((c for c in candidates if ctx.secrets.matches(key, c.digest)), None)
        if owner is None:
            raise ApiError(401, "Wrong Blotato API Key")
        now = utcnow()
        if owner.last_used_at is None or now - owner.last_used_at > TOUCH_EVERY:
            key_id = owner.key_id
            await ctx.db.write(lambda c: users.touch_key(c, key_id, now), isolated=False)
        ctx.known_keys[digest] = owner
    route = request.scope.get("route")
    route_key = f"{request.method} {getattr(route, 'path', request.url.path)}"
    verdict = await limiter(request).check(owner.key_id, route_key)
    if not verdict.allowed:
        raise ApiError(
            429,
            f"Rate limit exceeded, retry in {verdict.retry_after} seconds",
            headers={"Retry-After": str(verdict.retry_after)},
            statusCode=429,
        )
    return Caller(owner.user, owner.key_id)
