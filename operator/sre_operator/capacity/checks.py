"""``spec.capacity`` against the live workloads: each failed check is one plain sentence. Pure: the caller
lists the namespace's workloads, HorizontalPodAutoscalers and PodDisruptionBudgets once and passes them in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sre_operator.models.plan import ServiceReliabilityPlan, WorkloadRef


@dataclass(frozen=True)
class Found:
    """What the namespace holds: workloads by (kind, name), and its autoscalers and disruption budgets."""

    workloads: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    autoscalers: Sequence[Mapping[str, Any]] = ()
    disruption_budgets: Sequence[Mapping[str, Any]] = ()


def _labels_match(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against pod labels; an empty selector matches all."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and (not present or labels[key] not in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _replicas_risk(ref: WorkloadRef, workload: Mapping[str, Any], wanted: int, found: Found) -> str | None:
    if ref.kind == "DaemonSet":
        return None  # one per node by design
    replicas = int((workload.get("spec") or {}).get("replicas", 1) or 0)
    scaler = next(
        (
            h
            for h in found.autoscalers
            if (h.get("spec") or {}).get("scaleTargetRef", {}).get("kind") == ref.kind
            and (h.get("spec") or {}).get("scaleTargetRef", {}).get("name") == ref.name
        ),
        None,
    )
    if scaler is not None:
        minimum = int((scaler.get("spec") or {}).get("minReplicas", 1) or 1)
        if minimum >= wanted:
            return None
        name = scaler["metadata"]["name"]
        return (
            f"{ref.kind} {ref.name} may scale down to {minimum} replica{'s' if minimum != 1 else ''} "
            f"(HorizontalPodAutoscaler {name} minReplicas), below capacity.minReplicas {wanted}."
        )
    if replicas >= wanted:
        return None
    return (
        f"{ref.kind} {ref.name} runs {replicas} replica{'s' if replicas != 1 else ''}, below capacity.minReplicas "
        f"{wanted}, and no HorizontalPodAutoscaler keeps it at {wanted} or more."
    )


def capacity_risks(plan: ServiceReliabilityPlan, found: Found) -> list[str]:
    capacity = plan.spec.capacity
    if capacity is None:
        return []
    risks: list[str] = []
    for ref in capacity.workloads:
        workload = found.workloads.get((ref.kind, ref.name))
        if workload is None:
            risks.append(f"{ref.kind} {ref.name} (capacity.workloads) does not exist in {plan.metadata.namespace}.")
            continue
        spec = workload.get("spec") or {}
        template = (spec.get("template") or {}).get("spec") or {}
        pod_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if capacity.min_replicas is not None:
            risk = _replicas_risk(ref, workload, capacity.min_replicas, found)
            if risk:
                risks.append(risk)
        if capacity.require_pod_disruption_budget and not any(
            _labels_match((b.get("spec") or {}).get("selector") or {}, pod_labels) for b in found.disruption_budgets
        ):
            risks.append(
                f"{ref.kind} {ref.name} has no PodDisruptionBudget selecting its pods "
                "(capacity.requirePodDisruptionBudget): a node drain may take every replica at once."
            )
        for container in template.get("containers") or []:
            if not container.get("readinessProbe"):
                risks.append(
                    f"{ref.kind} {ref.name}: container {container.get('name', '?')} has no readiness probe, "
                    "so traffic reaches it before it can serve."
                )
    return risks
