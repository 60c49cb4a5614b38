"""spec.capacity against the live workloads, every ``--capacity-interval`` seconds, for the plans that name
workloads (plans without any cost nothing): replicas, disruption budgets, readiness probes. Each failed
check is a sentence in status.residualRisks and a Warning Event when it first appears; a fix clears it."""

from __future__ import annotations

import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from sre_operator.capacity import capacity_risks
from sre_operator.handlers.state import OperatorState
from sre_operator.k8s.client import PLAN
from sre_operator.k8s.workloads import capacity_inventory
from sre_operator.models import ServiceReliabilityPlan
from sre_operator.registry import Known
from sre_operator.status import capacity_status, checked_status, now_rfc3339

logger = logging.getLogger(__name__)


def check_plan(state: OperatorState, known: Known, plan: ServiceReliabilityPlan) -> None:
    capacity = plan.spec.capacity
    if capacity is None or not capacity.workloads:
        return
    found = capacity_inventory(
        state.cluster, known.namespace, capacity.workloads, capacity.require_pod_disruption_budget
    )
    risks = capacity_risks(plan, found)
    now = now_rfc3339()
    seen: list[dict[str, Any]] = []

    def delta_of(status: dict[str, Any]) -> dict[str, Any]:
        seen.append(status)
        return checked_status(PLAN.kind, capacity_status(status, plan, risks, known.generation, now))

    # Conditions and residualRisks are also the reconcile's: a guarded write never undoes its latest.
    written = state.cluster.patch_status_guarded(PLAN, known.namespace, known.name, known.stored, delta_of)
    if written is None:
        return
    before = set(seen[-1].get("capacityRisks") or [])
    for risk in risks:
        if risk not in before:
            state.cluster.post_event(known.reference, "Warning", "CapacityRisk", risk)
    if before and not risks:
        state.cluster.post_event(known.reference, "Normal", "CapacityChecked", "Every capacity check passes again.")


def check_all(state: OperatorState) -> None:
    state.collector.note_activity()
    for known, plan in list(state.registry.plans()):
        try:
            check_plan(state, known, plan)
        except ApiException as error:
            logger.warning(
                "capacity of plan %s/%s not checked: %s %s", known.namespace, known.name, error.status, error.reason
            )
