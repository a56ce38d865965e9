"""Which account a post goes out on, checked against what the caller owns."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from masthead.domain.errors import FieldError, ValidationFailed
from masthead.domain.posts import WEBHOOK, PostDraft
from masthead.net.guard import BlockedDestination, check_url
from masthead.store import accounts
from masthead.store.database import Database

WRONG_ACCOUNT = "Wrong Account ID"
WRONG_PAGE = "Wrong Page ID"

# Target fields that name a subaccount, and the kind of subaccount they name.
SUBACCOUNT_FIELDS: dict[str, tuple[str, str]] = {
    "facebook": ("pageId", "page"),
    "linkedin": ("pageId", "organization"),
    "pinterest": ("boardId", "board"),
}


def subaccount_of(draft: PostDraft) -> str | None:
    field = SUBACCOUNT_FIELDS.get(draft.target_type)
    value = draft.target.get(field[0]) if field else None
    return str(value) if value not in (None, "") else None


async def resolve(
    db: Database, user_id: str, draft: PostDraft, available: frozenset[str], path: str = "post"
) -> accounts.AccountRow:
    """The account the draft names, if the caller owns it and it can take this target."""
    async with db.read() as conn:
        account = await accounts.get_account(conn, user_id, int(draft.account_id))
        if account is None:
            raise ValidationFailed.one(
                f"{path}.accountId", "no such account", compat_message=WRONG_ACCOUNT
            )
        await _check_subaccount(conn, account, draft, path)
    if account.platform != draft.target_type:
        raise ValidationFailed.one(
            f"{path}.target.targetType",
            f"account {account.id} is a {account.platform} account, not {draft.target_type}",
        )
    if draft.target_type not in available:
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


async def _check_subaccount(
    conn: AsyncConnection, account: accounts.AccountRow, draft: PostDraft, path: str
) -> None:
    field = SUBACCOUNT_FIELDS.get(draft.target_type)
    wanted = subaccount_of(draft)
    if field is None or wanted is None or account.platform != draft.target_type:
        return
    known = await accounts.list_subaccounts(conn, account.id, field[1])
    if all(sub.external_id != wanted for sub in known):
        raise ValidationFailed(
            [
                FieldError(
                    f"{path}.target.{field[0]}", f"account {account.id} has no {field[1]} {wanted}"
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
