"""An ErrorBudgetPolicy applied to one SLO's budget: which rules hold now. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sre_operator.models.policy import PolicyRule, PolicySpec


@dataclass(frozen=True)
class SloBudget:
    """What is known of one SLO's budget at one moment.

    ``remaining`` is a ratio (1 is the whole budget, below 0 overspent). ``unknown``
    is empty when the numbers can be trusted, otherwise it says why they cannot
    (Prometheus unreachable, no data, a stale sample).
    """

    slo: str
    window: str
    remaining: float | None = None
    burn_rates: Mapping[str, float] = field(default_factory=dict)
    age_seconds: float | None = None
    unknown: str = ""

    @property
    def known(self) -> bool:
        return not self.unknown and self.remaining is not None


@dataclass(frozen=True)
class Firing:
    """A rule of the policy that holds for an SLO, with the sentence that says why."""

    slo: str
    rule: str
    actions: tuple[str, ...]
    because: str

    @property
    def freezes(self) -> bool:
        return "freezeReleases" in self.actions


def percent(ratio: float) -> str:
    """A share of the budget for people: whole percent, with one decimal below ten."""
    value = ratio * 100
    return f"{value:.0f}%" if abs(value) >= 10 else f"{value:.1f}%".replace(".0%", "%")


def budget_sentence(budget: SloBudget) -> str:
    assert budget.remaining is not None
    return f"{budget.slo} has {percent(budget.remaining)} of its {budget.window} budget left"


def rule_holds(rule: PolicyRule, budget: SloBudget) -> str | None:
    """Why ``rule`` holds for ``budget``, or None when it does not (or cannot be judged)."""
    if not budget.known:
        return None
    assert budget.remaining is not None
    when = rule.when
    if when.budget_remaining_below is not None:
        if budget.remaining * 100 < when.budget_remaining_below:
            return budget_sentence(budget)
        return None
    assert when.burn_rate_above is not None
    rate = budget.burn_rates.get(when.burn_rate_above.window)
    if rate is not None and rate > when.burn_rate_above.rate:
        return (
            f"{budget.slo} burns its budget at {rate:.3g}x over {when.burn_rate_above.window} "
            f"(above {when.burn_rate_above.rate:g}x) with {percent(budget.remaining)} of its {budget.window} budget left"
        )
    return None


def firings(policy: PolicySpec, budgets: Mapping[str, SloBudget] | list[SloBudget]) -> list[Firing]:
    """Every rule that holds, SLO by SLO, each SLO's rules in the policy's order."""
    items = budgets.values() if isinstance(budgets, Mapping) else budgets
    found = []
    for budget in items:
        for rule in policy.rules:
            because = rule_holds(rule, budget)
            if because is not None:
                found.append(Firing(budget.slo, rule.name, tuple(rule.actions), because))
    return found
