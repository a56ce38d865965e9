"""Platform budgets as data, and their overrides."""

from __future__ import annotations

import pytest

from masthead.domain.budgets import (
    Budget,
    BudgetSpecError,
    PlatformBudgets,
    parse_budgets,
    window_start,
)
from masthead.platforms.registry import BUDGETS


def test_overrides_replace_one_scope_and_keep_the_other() -> None:
    budgets = parse_budgets("twitter.account=50/900s, webhook.app=10/2s", BUDGETS)
    assert budgets["twitter"] == PlatformBudgets(
        account=Budget(50, 900), app=Budget(10_000, 86_400)
    )
    assert budgets["webhook"] == PlatformBudgets(app=Budget(10, 2))
    assert BUDGETS["twitter"].account == Budget(100, 900)  # the defaults are untouched


def test_zero_removes_a_budget() -> None:
    assert parse_budgets("twitter.app=0/1s", BUDGETS)["twitter"].app is None


@pytest.mark.parametrize(
    "spec",
    ["twitter=5/1s", "twitter.user=5/1s", "twitter.app=five/1s", "twitter.app=5/0s", "x.app=5"],
)
def test_bad_overrides_name_the_entry(spec: str) -> None:
    with pytest.raises(BudgetSpecError, match="MASTHEAD_RATE_BUDGETS entry"):
        parse_budgets(spec, BUDGETS)


def test_windows_are_aligned_to_the_epoch() -> None:
    assert window_start(1_000_000_123.4, Budget(100, 900)) == 1_000_000_800 - 900
    assert window_start(1_000_000_123.4, Budget(1, 1)) == 1_000_000_123
