"""How many posts a platform takes per account and per app: the shape of the numbers, which
each platform's spec holds (platforms/registry.py `BUDGETS`, from shared/spec sources).

The dispatch engine spends one unit of a post's budgets before each irreversible publish and
waits, never fails, when a budget is spent. Budgets are fixed windows aligned to the epoch
(like X's `x-rate-limit-reset`), counted in the database so that every worker shares them.
`MASTHEAD_RATE_BUDGETS` overrides any of them: `twitter.account=100/900s,webhook.app=50/1s`.
"""

from __future__ import annotations

from dataclasses import dataclass

from masthead.domain.inputs import ascii_int


@dataclass(frozen=True, slots=True)
class Budget:
    limit: int
    seconds: int


@dataclass(frozen=True, slots=True)
class PlatformBudgets:
    account: Budget | None = None
    app: Budget | None = None


DAY = 86_400


class BudgetSpecError(ValueError):
    pass


def parse_budgets(spec: str, base: dict[str, PlatformBudgets]) -> dict[str, PlatformBudgets]:
    """`platform.account=N/Ss` or `platform.app=N/Ss`, comma-separated; `N=0` removes one."""
    budgets = dict(base)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        platform, dot, scope = name.strip().partition(".")
        count, slash, period = value.strip().partition("/")
        number = ascii_int(count)
        if not (sep and dot and slash and scope in ("account", "app") and number is not None):
            raise BudgetSpecError(
                f"MASTHEAD_RATE_BUDGETS entry {part!r}: use platform.account=N/Ss"
            )
        seconds = ascii_int(period.removesuffix("s"))
        if not seconds:
            raise BudgetSpecError(f"MASTHEAD_RATE_BUDGETS entry {part!r}: period must be like 60s")
        budget = Budget(number, seconds) if number > 0 else None
        current = budgets.get(platform, PlatformBudgets())
        budgets[platform] = (
            PlatformBudgets(account=budget, app=current.app)
            if scope == "account"
            else PlatformBudgets(account=current.account, app=budget)
        )
    return budgets


def window_start(now: float, budget: Budget) -> int:
    return int(now // budget.seconds) * budget.seconds
