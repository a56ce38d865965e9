"""One account's credentials in memory, with the store's compare-and-swap (for publisher
tests that call a platform directly, without the database)."""

from __future__ import annotations

from typing import Any


class Credentials:
    def __init__(self, stored: dict[str, Any]) -> None:
        self.stored = stored

    async def load(self) -> dict[str, Any]:
        return dict(self.stored)

    async def save(self, new: dict[str, Any], *, replaces: dict[str, Any]) -> bool:
        if self.stored != replaces:
            return False
        self.stored = dict(new)
        return True

    async def subaccount(self, kind: str, external_id: str) -> dict[str, Any] | None:
        return None
