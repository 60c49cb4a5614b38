"""Status documents of the three kinds, built purely from what reconciling found.

Conditions keep their ``lastTransitionTime`` while their status stays the
same, so a reconcile that changes nothing produces the very status already
stored, and the handler writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sre_operator.errors import Problem
from sre_operator.models.assumptions import plan_assumptions, residual_risks
from sre_operator.models.plan import ServiceReliabilityPlan


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ConditionUpdate:
    type: str
    status: bool
    reason: str
    message: str


def merge_conditions(
    previous: Sequence[dict[str, Any]], updates: Sequence[ConditionUpdate], generation: int, now: str
) -> list[dict[str, Any]]:
    """``previous`` with each update applied; untouched types are kept as they were."""
    by_type = {c.get("type"): dict(c) for c in previous}
    for update in updates:
        status = "True" if update.status else "False"
        old = by_type.get(update.type)
        by_type[update.type] = {
            "type": update.type,
            "status": status,
            "reason": update.reason,
            "message": update.message,
            "lastTransitionTime": old["lastTransitionTime"]
            if old and old.get("status") == status and old.get("lastTransitionTime")
            else now,
            "observedGeneration": generation,
        }
    return sorted(by_type.values(), key=lambda c: str(c.get("type")))


def problem_line(problems: Sequence[Problem]) -> str:
    """One line for a condition or Event: the first problem, and how many more there are."""
    first = f"{problems[0].path}: {problems[0].message}"
    return first if len(problems) == 1 else f"{first} (and {len(problems) - 1} more)"


def invalid_status(previous: dict[str, Any], generation: int, problems: Sequence[Problem], now: str) -> dict[str, Any]:
    """Valid=False; everything generated from the last good version stays as it is, and so does its status."""
    conditions = merge_conditions(
        previous.get("conditions") or [],
        [ConditionUpdate("Valid", False, "InvalidSpec", problem_line(problems))],
        generation,
        now,
    )
    return {"observedGeneration": generation, "conditions": conditions}


def plan_status(
    previous: dict[str, Any],
    generation: int,
    plan: ServiceReliabilityPlan,
    generated: Sequence[dict[str, Any]],
    *,
    prometheus_operator: bool,
    now: str,
) -> dict[str, Any]:
    assumptions = plan_assumptions(plan)
    rules_where = (
        "PrometheusRule"
        if prometheus_operator
        else "ConfigMap (no monitoring.coreos.com API in this cluster: load it with a rules sidecar or "
        "a mounted rule_files path)"
    )
    updates = [
        ConditionUpdate("Valid", True, "SpecValid", "The plan is valid."),
        ConditionUpdate("Ready", True, "Generated", f"{len(generated)} objects generated; rules in a {rules_where}."),
        ConditionUpdate(
            "Complete",
            not assumptions,
            "NoAssumptions" if not assumptions else "Assumptions",
            "Every section is explicit."
            if not assumptions
            else f"{len(assumptions)} assumption(s) in status.assumptions.",
        ),
        ConditionUpdate(
            "PrometheusOperator",
            prometheus_operator,
            "Found" if prometheus_operator else "NotInstalled",
            "Rules are delivered as a PrometheusRule."
            if prometheus_operator
            else "monitoring.coreos.com is not served: rules are delivered as a ConfigMap.",
        ),
    ]
    return {
        "observedGeneration": generation,
        "conditions": merge_conditions(previous.get("conditions") or [], updates, generation, now),
        "assumptions": assumptions,
        "residualRisks": residual_risks(plan),
        "generated": [
            {"apiVersion": g["apiVersion"], "kind": g["kind"], "name": g["metadata"]["name"]} for g in generated
        ],
        "sloCount": len(plan.spec.slos),
    }


def not_ready_status(previous: dict[str, Any], generation: int, reason: str, message: str, now: str) -> dict[str, Any]:
    conditions = merge_conditions(
        previous.get("conditions") or [], [ConditionUpdate("Ready", False, reason, message)], generation, now
    )
    return {"conditions": conditions}


def valid_only_status(previous: dict[str, Any], generation: int, now: str) -> dict[str, Any]:
    """Policies and gates for now: valid, with their behaviour still to come."""
    conditions = merge_conditions(
        previous.get("conditions") or [],
        [ConditionUpdate("Valid", True, "SpecValid", "The spec is valid.")],
        generation,
        now,
    )
    return {"observedGeneration": generation, "conditions": conditions}


def changed_fields(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The part of ``new`` that differs from ``previous`` (empty when a status write would change nothing)."""
    return {key: value for key, value in new.items() if previous.get(key) != value}
