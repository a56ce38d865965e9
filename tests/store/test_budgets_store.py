"""Budget spending in the database (both engines): all or nothing, per window, and blocks."""

from __future__ import annotations

import pytest

from masthead.domain.budgets import Budget
from masthead.store import budgets
from masthead.store.budgets import BudgetSpent
from masthead.store.database import Database

T = 1_000_000_000.0  # the start of a 10 s window


async def spend(db: Database, wants: list[tuple[str, Budget | None]], now: float) -> float:
    """0.0 when spent, else the wait."""
    try:
        await db.write(lambda c: budgets.spend(c, wants, now))
    except BudgetSpent as exc:
        return exc.wait
    return 0.0


async def test_a_budget_gives_its_limit_per_window_then_says_when_it_refills(db: Database) -> None:
    three = Budget(3, 10)
    spent = [await spend(db, [("k", three)], T + i) for i in range(4)]
    assert spent == [0.0, 0.0, 0.0, pytest.approx(7.0)]
    assert await spend(db, [("k", three)], T + 10) == 0.0  # the next window


async def test_spending_is_all_or_nothing(db: Database) -> None:
    account, app = Budget(5, 10), Budget(1, 10)
    assert await spend(db, [("acct", account), ("app", app)], T) == 0.0
    assert await spend(db, [("acct", account), ("app", app)], T + 1) > 0
    # The refused spend did not use the account's budget: four more still fit.
    assert [await spend(db, [("acct", account)], T + 2) for _ in range(4)] == [0.0] * 4
    assert await spend(db, [("acct", account)], T + 2) > 0


async def test_a_block_holds_every_spend_of_its_key_until_it_ends(db: Database) -> None:
    await db.write(lambda c: budgets.block(c, "acct", T + 30))
    await db.write(lambda c: budgets.block(c, "acct", T + 5))  # an earlier end never shortens

    assert await spend(db, [("acct", None)], T) == pytest.approx(30.0)
    assert await spend(db, [("other", None)], T) == 0.0
    assert await spend(db, [("acct", None)], T + 31) == 0.0
