"""What ``/metrics`` shows of the operator's state, read at scrape time: only what exists now.

Budgets come from the last decision cycle, filtered by the plans and SLOs the registry holds at the scrape,
so a deleted plan or a removed SLO is gone at once, not a cycle later; gates come from the gate book, which
forgets a deleted gate as its deletion is seen.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from sre_operator.handlers.state import OperatorState
from sre_operator.http.metrics import BudgetSample, DutySample, GateSample, state_families
from sre_operator.models import ServiceReliabilityPlan


def _budgets(state: OperatorState) -> Iterator[BudgetSample]:
    outcome = state.published
    if outcome is None:
        return
    for (namespace, plan_name), (service, budgets) in outcome.budgets.items():
        plan = state.registry.plan(namespace, plan_name)
        if plan is None:
            continue
        current = {slo.name for slo in plan.spec.slos}
        for slo, budget in budgets.items():
            if slo in current:
                remaining = budget.remaining if budget.known else None
                yield BudgetSample(namespace, service, slo, remaining, budget.burn_rates, budget.age_seconds)


def _corrective(state: OperatorState) -> Iterator[tuple[tuple[str, str, str, str], int]]:
    outcome = state.published
    if outcome is None:
        return
    for labels, count in outcome.corrective.items():
        if isinstance(state.registry.plan(labels[0], labels[1]), ServiceReliabilityPlan):
            yield labels, count


def operator_metrics(state: OperatorState) -> Iterator[Metric]:
    gates = [
        GateSample(namespace, name, answer.view.state, answer.view.allowed)
        for (namespace, name), answer in state.book.answers().items()
    ]
    duties = [DutySample(d.name, d.up, d.last_success, d.failures) for d in state.supervisor.duties.values()]
    services = {
        (known.namespace, plan.spec.service.name, slo.name)
        for known, plan in state.registry.plans()
        for slo in plan.spec.slos
    }
    state.metrics.policy_actions.keep(lambda labels: labels[:3] in services)
    yield from state_families(_budgets(state), gates, _corrective(state), duties, state.readiness.ready()[0])
