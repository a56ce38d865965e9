"""An account's credential store in memory, for tests that call a publisher directly."""

from __future__ import annotations

from typing import Any


class Credentials:
    """One account's credentials in memory, with the store's compare-and-swap."""

    def __init__(
        self,
        stored: dict[str, Any],
        subaccounts: dict[tuple[str, str], dict[str, Any]] | None = None,
    ) -> None:
        self.stored = stored
        self.subaccounts = subaccounts or {}
        """(kind, external id) → the subaccount's credentials (a Facebook Page's token)."""

    async def load(self) -> dict[str, Any]:
        return dict(self.stored)

    async def save(self, new: dict[str, Any], *, replaces: dict[str, Any]) -> bool:
        if self.stored != replaces:
            return False
        self.stored = dict(new)
        return True

    async def subaccount(self, kind: str, external_id: str) -> dict[str, Any] | None:
        return self.subaccounts.get((kind, external_id))
