"""Every setting in one place: `MASTHEAD_*` environment variables (see docs/settings.md)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from masthead.store.db import is_sqlite, normalise_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MASTHEAD_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = None
    media_store: str = "local"
    api_rate_limits: str = "blotato"
    fetch_allow: Annotated[frozenset[tuple[str, int]], NoDecode] = frozenset()
    log_level: str = "INFO"
    log_format: str = "json"

    # Dispatch engine knobs; the defaults are explained in docs/design.md.
    dispatch_batch_size: int = Field(default=200, ge=1, le=5000)
    dispatch_concurrency: int = Field(default=64, ge=1, le=10_000)
    dispatch_lease_seconds: float = Field(default=120.0, gt=1)
    dispatch_max_attempts: int = Field(default=6, ge=1)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)

    # Bluesky (docs/platforms/bluesky.md). Without a service URL, each account's PDS is found
    # from its handle's DID document; set it to talk to one PDS (bsky.social, your own, a test).
    bluesky_service_url: str | None = None
    bluesky_plc_url: str = "https://plc.directory"
    bluesky_timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("fetch_allow", mode="before")
    @classmethod
    def _parse_allow(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: set[tuple[str, int]] = set()
        for item in filter(None, (part.strip() for part in value.split(","))):
            host, sep, port = item.rpartition(":")
            if not sep or not port.isdigit():
                raise ValueError(f"MASTHEAD_FETCH_ALLOW entry {item!r} must be host:port")
            pairs.add((host.strip("[]"), int(port)))
        return frozenset(pairs)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'masthead.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.sqlalchemy_url)

    @cached_property
    def secret_keys(self) -> list[str]:
        """Newest first. Generated into the data dir (0600) on first use when not set."""
        if self.secret_key:
            return [k.strip() for k in self.secret_key.split(",") if k.strip()]
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process won the race; use its key
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return [path.read_text().strip()]


def load_settings() -> Settings:
    return Settings()
