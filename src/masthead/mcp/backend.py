"""What the tools need from the running process, and who is calling.

Typed structurally, so that this door depends on the services it calls and not on another
door's context (the app's context object satisfies it as it stands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from masthead.config import Settings
from masthead.dispatch.port import DispatchPort
from masthead.expiring import ExpiringCache
from masthead.media.library import MediaLibrary
from masthead.security import Secrets
from masthead.services.accounts import AccountDirectory
from masthead.services.api_keys import Limiter
from masthead.store.database import Database
from masthead.store.users import KeyOwner, UserRow


class Backend(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def secrets(self) -> Secrets: ...
    @property
    def limiter(self) -> Limiter: ...
    @property
    def port(self) -> DispatchPort: ...
    @property
    def accounts(self) -> AccountDirectory: ...
    @property
    def media(self) -> MediaLibrary: ...
    @property
    def known_keys(self) -> ExpiringCache[str, KeyOwner]: ...


@dataclass(frozen=True, slots=True)
class Call:
    """One tool call: the process's services and the key's owner."""

    backend: Backend
    user: UserRow
