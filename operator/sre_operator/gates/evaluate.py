"""A gate's decision from the objects it names and the latest budget snapshot. Pure.

Broken references make a gate Invalid with one line naming the field; a gate
that is Invalid blocks nothing (unless its policy is known and says
``onUnknown: block``), so a typo never freezes a whole namespace.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sre_operator.budgets.readings import Snapshot, slo_budget
from sre_operator.errors import Problem
from sre_operator.gates.decision import Decision, Memory, decide, invalid
from sre_operator.gates.policy import SloBudget
from sre_operator.incidents.actions import report
from sre_operator.models.assumptions import slo_window
from sre_operator.models.gate import ReleaseGate
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.models.policy import ErrorBudgetPolicy


@dataclass(frozen=True)
class BudgetSource:
    """Where budgets come from this cycle: None before the first read; ``configured`` False without Prometheus."""

    snapshot: Snapshot | None
    stale_after: float
    configured: bool = True
    unreachable_after: float = 0.0

    @property
    def evaluated(self) -> bool:
        return self.snapshot is not None or not self.configured


def plan_budgets(plan: ServiceReliabilityPlan, source: BudgetSource) -> dict[str, SloBudget]:
    """Every SLO of ``plan``, by name, as far as Prometheus tells."""
    namespace, service = plan.metadata.namespace, plan.spec.service.name
    return {
        slo.name: slo_budget(
            source.snapshot,
            (namespace, service, slo.name),
            slo_window(slo),
            source.stale_after,
            source.unreachable_after,
            configured=source.configured,
        )
        for slo in plan.spec.slos
    }


def policy_name(gate: ReleaseGate, plan: ServiceReliabilityPlan | None) -> tuple[str, str]:
    """The policy's name and the field it comes from."""
    if gate.spec.policy_ref is not None:
        return gate.spec.policy_ref.name, "spec.policyRef.name"
    if plan is not None and plan.spec.release is not None:
        return plan.spec.release.policy_ref, "spec.planRef (its spec.release.policyRef)"
    return "", "spec.policyRef"


def gate_decision(
    gate: ReleaseGate,
    plan: ServiceReliabilityPlan | None,
    policy: ErrorBudgetPolicy | None,
    budgets: Mapping[str, SloBudget] | None,
    previous: Memory,
    now: datetime.datetime,
    *,
    plan_problems: Sequence[Problem] = (),
    policy_problems: Sequence[Problem] = (),
    today: datetime.date | None = None,
) -> Decision:
    namespace = gate.metadata.namespace
    if plan is None:
        if plan_problems:
            return invalid(f"spec.planRef.name: plan {gate.spec.plan_ref.name!r} is invalid ({plan_problems[0]})")
        return invalid(f"spec.planRef.name: no ServiceReliabilityPlan {gate.spec.plan_ref.name!r} in {namespace}")
    name, field = policy_name(gate, plan)
    if not name:
        return invalid(f"{field}: no ErrorBudgetPolicy named, and the plan has no spec.release.policyRef")
    if policy is None:
        if policy_problems:
            return invalid(f"{field}: policy {name!r} is invalid ({policy_problems[0]})")
        return invalid(f"{field}: no ErrorBudgetPolicy {name!r} in {namespace}")
    known = {slo.name for slo in plan.spec.slos}
    for i, slo in enumerate(gate.spec.slos):
        if slo not in known:
            listed = ", ".join(sorted(known))
            return invalid(
                f"spec.slos[{i}]: plan {plan.metadata.name!r} has no SLO {slo!r} ({listed})",
                allowed=policy.spec.on_unknown == "allow",
            )
    gated = [budgets[s] for s in (gate.spec.slos or list(budgets))] if budgets is not None else None
    return decide(
        policy.spec,
        gated,
        previous,
        now,
        overrides=gate.spec.overrides,
        dry_run=gate.spec.mode == "dryRun",
        overdue_p0=overdue_p0_actions(plan, today or now.date()),
    )


def overdue_p0_actions(plan: ServiceReliabilityPlan, today: datetime.date) -> tuple[str, ...]:
    actions = plan.spec.postmortem.corrective_actions if plan.spec.postmortem else []
    return report(actions, today, {}).overdue_p0
