"""Which account a post goes out on, checked against what the caller owns; removing one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from masthead.domain.errors import FieldError, ValidationFailed
from masthead.domain.posts import PostDraft
from masthead.expiring import ExpiringCache
from masthead.net.guard import BlockedDestination, check_url
from masthead.platforms.registry import SPECS
from masthead.platforms.webhook import WEBHOOK
from masthead.store import accounts
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import utcnow

WRONG_ACCOUNT = "Wrong Account ID"
WRONG_PAGE = "Wrong Page ID"


def subaccount_field(draft: PostDraft) -> tuple[str, str] | None:
    """(target field, subaccount kind) when the draft's platform names a subaccount by a
    field that posting checks (`pageId` names a Facebook page), from the platform's spec."""
    spec = SPECS.get(draft.target_type)
    sub = spec.subaccount if spec is not None else None
    if sub is None or sub.target_field is None:
        return None
    return sub.target_field, sub.kind


def subaccount_of(draft: PostDraft) -> str | None:
    field = subaccount_field(draft)
    value = draft.target.get(field[0]) if field else None
    return str(value) if value not in (None, "") else None


class AccountDirectory:
    """The caller's accounts as posting needs them, each looked up at most once a second.

    Creating a post reads the account (and its pages or boards) on every request; a one-second
    cache takes that read off the hot path. A change (an account removed or disconnected)
    reaches posting within a second, and the dispatcher checks the account again at send time.
    """

    def __init__(self, db: Database, available: frozenset[str], ttl: float = 1.0) -> None:
        self._db = db
        self.available = available
        self._cache: ExpiringCache[tuple[str, int], _Known] = ExpiringCache(10_000, ttl)

    async def resolve(
        self, user_id: str, draft: PostDraft, path: str = "post"
    ) -> accounts.AccountRow:
        """The account the draft names, if the caller owns it and it can take this target."""
        key = (user_id, int(draft.account_id))
        known = self._cache.get(key)
        if known is None:
            known = self._cache[key] = await self._db.read(lambda conn: _load(conn, *key))
        account = known.account
        if account is None:
            raise ValidationFailed.one(
                f"{path}.accountId", "no such account", compat_message=WRONG_ACCOUNT
            )
        if account.platform != draft.target_type:
            raise ValidationFailed.one(
                f"{path}.target.targetType",
                f"account {account.id} is a {account.platform} account, not {draft.target_type}",
            )
        _check_subaccount(known, draft, path)
        if draft.target_type not in self.available:
            raise ValidationFailed.one(
                f"{path}.target.targetType",
                f"publishing to {draft.target_type} is not available on this server yet",
            )
        if account.status != "connected" and draft.target_type != WEBHOOK:
            raise ValidationFailed.one(
                f"{path}.accountId",
                f"account {account.id} is disconnected; reconnect it in Settings",
            )
        return account


@dataclass(frozen=True, slots=True)
class _Known:
    account: accounts.AccountRow | None
    subaccounts: frozenset[tuple[str, str]]
    """(kind, external id) of its pages, organizations, boards and playlists."""


def _load(conn: Connection, user_id: str, account_id: int) -> _Known:
    account = accounts.get_account(conn, user_id, account_id)
    if account is None:
        return _Known(None, frozenset())
    subs = accounts.list_subaccounts(conn, account.id)
    return _Known(account, frozenset((sub.kind, sub.external_id) for sub in subs))


def _check_subaccount(known: _Known, draft: PostDraft, path: str) -> None:
    field = subaccount_field(draft)
    wanted = subaccount_of(draft)
    if field is None or wanted is None or known.account is None:
        return
    if (field[1], wanted) not in known.subaccounts:
        raise ValidationFailed(
            [
                FieldError(
                    f"{path}.target.{field[0]}",
                    f"account {known.account.id} has no {field[1]} {wanted}",
                )
            ],
            WRONG_PAGE,
        )


def check_destination(
    draft: PostDraft, allow: frozenset[tuple[str, int]], path: str = "post"
) -> None:
    """Refuse a webhook URL that points inside (SSRF) now, rather than fail at send time.
    The guard runs again on the resolved address when the post is sent."""
    if draft.target_type != WEBHOOK:
        return
    try:
        check_url(str(draft.target.get("url", "")), allow)
    except BlockedDestination as exc:
        raise ValidationFailed.one(f"{path}.target.url", f"is refused: {exc.reason}") from None


REMOVED_BEFORE_SENDING = "The account was removed before this post was sent"


async def remove(db: Database, user_id: str, account_id: int) -> bool:
    """The account goes; its posts stay, marked as from a removed account (the posts page,
    the API's `accountRemoved`), and those no worker has begun fail with the reason now."""
    now = utcnow()

    def work(conn: Connection) -> bool:
        if not accounts.remove_account(conn, user_id, account_id, now):
            return False
        post_store.fail_unsent_of_account(conn, account_id, REMOVED_BEFORE_SENDING, now)
        return True

    return await db.write(work)
