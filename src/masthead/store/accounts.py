"""Connected social accounts and their subaccounts (pages, boards, organizations, playlists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from masthead.domain.events import ACCOUNT_CONNECTED, ACCOUNT_DISCONNECTED
from masthead.store import analytics, events
from masthead.store.models import Account, Subaccount

REMOVED = "removed"
"""The status of an account its user removed: hidden from posting, slots and account lists,
its tokens forgotten, but the row kept so that its posts and their history stay readable
(and connecting the same account again revives it with the same id)."""


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    user_id: str
    platform: str
    external_id: str
    username: str
    fullname: str
    profile_image_url: str | None
    status: str
    credentials: str | None


@dataclass(frozen=True, slots=True)
class SubaccountRow:
    id: int
    account_id: int
    kind: str
    external_id: str
    name: str


_ACCOUNT_COLUMNS = (
    Account.id,
    Account.user_id,
    Account.platform,
    Account.external_id,
    Account.username,
    Account.fullname,
    Account.profile_image_url,
    Account.status,
    Account.credentials,
)


def add_account(
    conn: Connection,
    *,
    user_id: str,
    platform: str,
    external_id: str,
    username: str,
    fullname: str,
    now: datetime,
    credentials: str | None = None,
    profile_image_url: str | None = None,
) -> int:
    result = conn.execute(
        insert(Account)
        .values(
            user_id=user_id,
            platform=platform,
            external_id=external_id,
            username=username,
            fullname=fullname,
            credentials=credentials,
            profile_image_url=profile_image_url,
            status="connected",
            created_at=now,
            updated_at=now,
        )
        .returning(Account.id)
    )
    return int(result.scalar_one())


def add_subaccount(
    conn: Connection,
    *,
    account_id: int,
    kind: str,
    external_id: str,
    name: str,
    credentials: str | None = None,
) -> int:
    result = conn.execute(
        insert(Subaccount)
        .values(
            account_id=account_id,
            kind=kind,
            external_id=external_id,
            name=name,
            credentials=credentials,
        )
        .returning(Subaccount.id)
    )
    return int(result.scalar_one())


def list_accounts(
    conn: Connection, user_id: str, platform: str | None = None, *, removed: bool = False
) -> list[AccountRow]:
    """The user's accounts; `removed=True` adds the removed ones (to label their posts)."""
    query = select(*_ACCOUNT_COLUMNS).where(Account.user_id == user_id).order_by(Account.id)
    if platform:
        query = query.where(Account.platform == platform)
    if not removed:
        query = query.where(Account.status != REMOVED)
    return [AccountRow(*row) for row in conn.execute(query)]


def get_account(conn: Connection, user_id: str, account_id: int) -> AccountRow | None:
    """None for unknown ids, removed accounts and other users' accounts alike (isolation:
    404, not 403)."""
    row = (
        conn.execute(
            select(*_ACCOUNT_COLUMNS).where(
                Account.id == account_id, Account.user_id == user_id, Account.status != REMOVED
            )
        )
    ).first()
    return AccountRow(*row) if row else None


_REMOVED_IDS = select(Account.id).where(
    Account.user_id == bindparam("user_id"), Account.status == REMOVED
)
"""Built once (read on every `GET /v2/posts/{id}`): see store/posts._GET_POST."""


def removed_ids(conn: Connection, user_id: str) -> set[int]:
    return set(conn.execute(_REMOVED_IDS, {"user_id": user_id}).scalars())


def account_by_id(conn: Connection, account_id: int) -> AccountRow | None:
    """For the dispatcher, which acts for every user."""
    row = (conn.execute(select(*_ACCOUNT_COLUMNS).where(Account.id == account_id))).first()
    return AccountRow(*row) if row else None


def list_subaccounts(
    conn: Connection, account_id: int, kind: str | None = None
) -> list[SubaccountRow]:
    query = (
        select(
            Subaccount.id,
            Subaccount.account_id,
            Subaccount.kind,
            Subaccount.external_id,
            Subaccount.name,
        )
        .where(Subaccount.account_id == account_id)
        .order_by(Subaccount.id)
    )
    if kind:
        query = query.where(Subaccount.kind == kind)
    return [SubaccountRow(*row) for row in conn.execute(query)]


def sealed_credentials(conn: Connection, account_id: int) -> str | None:
    """The encrypted credentials, row-locked on PostgreSQL so that a compare-and-swap of a
    refreshed token (dispatch/credentials.py) sees no interleaved writer."""
    query = select(Account.credentials).where(Account.id == account_id).with_for_update()
    return conn.execute(query).scalar_one_or_none()


def sealed_subaccount_credentials(
    conn: Connection, account_id: int, kind: str, external_id: str
) -> str | None:
    """The encrypted credentials of one subaccount ("" when it has none); None when the
    account has no such subaccount."""
    row = conn.execute(
        select(Subaccount.credentials).where(
            Subaccount.account_id == account_id,
            Subaccount.kind == kind,
            Subaccount.external_id == external_id,
        )
    ).first()
    return None if row is None else (row[0] or "")


def replace_credentials(conn: Connection, account_id: int, sealed: str, now: datetime) -> None:
    conn.execute(
        update(Account).where(Account.id == account_id).values(credentials=sealed, updated_at=now)
    )


def disconnect(conn: Connection, account_id: int, reason: str, now: datetime) -> None:
    """Kept, not deleted: its posts and ids stay, and a reconnect revives it. The first
    disconnect of a connected account is an `account.disconnected` event."""
    account = account_by_id(conn, account_id)
    conn.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(status="disconnected", status_reason=reason, updated_at=now)
    )
    if account is not None and account.status == "connected":
        events.account_changed(conn, account, account.user_id, ACCOUNT_DISCONNECTED, now, reason)


def save_connected(
    conn: Connection,
    *,
    user_id: str,
    platform: str,
    external_id: str,
    username: str,
    fullname: str,
    profile_image_url: str | None,
    credentials: str | None,
    subaccounts: list[tuple[str, str, str, str | None]],
    now: datetime,
) -> int:
    """Insert the account, or revive and refresh it when the user connects it again (same
    platform id), so that its numeric accountId never changes. `subaccounts` are
    (kind, external_id, name, sealed credentials); those no longer offered are removed."""
    existing = conn.execute(
        select(Account.id).where(
            Account.user_id == user_id,
            Account.platform == platform,
            Account.external_id == external_id,
        )
    ).scalar_one_or_none()
    if existing is None:
        account_id = add_account(
            conn,
            user_id=user_id,
            platform=platform,
            external_id=external_id,
            username=username,
            fullname=fullname,
            now=now,
            credentials=credentials,
            profile_image_url=profile_image_url,
        )
    else:
        account_id = int(existing)
        conn.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(
                username=username,
                fullname=fullname,
                profile_image_url=profile_image_url,
                credentials=credentials,
                status="connected",
                status_reason=None,
                updated_at=now,
            )
        )
        analytics.resume_account(conn, account_id, now)
    offered = {(kind, sub_id) for kind, sub_id, _, _ in subaccounts}
    for row in list_subaccounts(conn, account_id):
        if (row.kind, row.external_id) not in offered:
            conn.execute(delete(Subaccount).where(Subaccount.id == row.id))
    for kind, sub_id, name, sealed in subaccounts:
        updated = conn.execute(
            update(Subaccount)
            .where(
                Subaccount.account_id == account_id,
                Subaccount.kind == kind,
                Subaccount.external_id == sub_id,
            )
            .values(name=name, credentials=sealed)
        )
        if updated.rowcount == 0:
            add_subaccount(
                conn,
                account_id=account_id,
                kind=kind,
                external_id=sub_id,
                name=name,
                credentials=sealed,
            )
    announce_connected(conn, user_id, account_id, now)
    return account_id


def announce_connected(conn: Connection, user_id: str, account_id: int, now: datetime) -> None:
    """The `account.connected` event, in the transaction that connected the account."""
    saved = account_by_id(conn, account_id)
    if saved is not None:
        events.account_changed(conn, saved, user_id, ACCOUNT_CONNECTED, now)


def remove_account(conn: Connection, user_id: str, account_id: int, now: datetime) -> bool:
    """Mark the account removed and forget its tokens; its posts stay with their history."""
    result = conn.execute(
        update(Account)
        .where(Account.id == account_id, Account.user_id == user_id, Account.status != REMOVED)
        .values(status=REMOVED, status_reason=None, credentials=None, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    conn.execute(
        update(Subaccount).where(Subaccount.account_id == account_id).values(credentials=None)
    )
    return True


def status_reasons(conn: Connection, user_id: str) -> dict[int, str | None]:
    """Why each of the user's accounts is in its state (the platform's words when it
    disconnected one), for the settings page."""
    rows = conn.execute(select(Account.id, Account.status_reason).where(Account.user_id == user_id))
    return {row.id: row.status_reason for row in rows}
