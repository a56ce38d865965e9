"""`blotato-api-key` authentication and the per-user rate limit, as one dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from masthead.api.errors import ApiError
from masthead.context import AppContext
from masthead.services import api_keys
from masthead.services.api_keys import MISSING_KEY, WRONG_KEY
from masthead.store import users

API_KEY_HEADER = "blotato-api-key"

# Declared for OpenAPI (the security scheme); the check itself is in `authenticate`.
api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)


@dataclass(frozen=True, slots=True)
class Caller:
    user: users.UserRow
    key_id: int


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def authenticate(request: Request) -> Caller:
    ctx = context(request)
    key = request.headers.get(API_KEY_HEADER)
    if not key:
        raise ApiError(401, MISSING_KEY)
    owner = await api_keys.owner_of(ctx.db, ctx.secrets, ctx.known_keys, key)
    if owner is None:
        raise ApiError(401, WRONG_KEY)
    route = request.scope.get("route")
    # `request.url` builds a whole URL object: only the unrouted path needs it.
    path = route.path if route is not None else request.url.path
    await api_keys.admit(ctx.limiter, owner.user.id, f"{request.method} {path}")
    return Caller(owner.user, owner.key_id)


CallerDep = Annotated[Caller, Depends(authenticate)]
"""A route's authenticated caller."""
