"""Saturation of a plan's workloads (spec.capacity): recorded ratios and alerts from the standard series. Pure.

CPU is usage over requests and memory the working set over limits (cAdvisor's container series against
kube-state-metrics' requests and limits), CPU throttling the share of CFS periods throttled. Each workload's
pods are picked by name (``<deployment>-<hash>-<id>``, ``<statefulset>-<n>``, ``<daemonset>-<id>``) in
the plan's namespace, and every series by the selectors the platform names (kube-prometheus' by default).
"""

from __future__ import annotations

from typing import Any

from sre_operator.generate import names
from sre_operator.generate.options import RenderOptions
from sre_operator.models.plan import ServiceReliabilityPlan, WorkloadRef
from sre_operator.promql import escape_string

CPU = "slo:workload_cpu_saturation:ratio"
MEMORY = "slo:workload_memory_saturation:ratio"
THROTTLED = "slo:workload_cpu_throttled:ratio"
ALERT_CPU = "WorkloadCPUSaturated"
ALERT_MEMORY = "WorkloadMemorySaturated"
# Pod names as the controllers make them: a pod-template hash and a 5-character suffix, an ordinal, or a
# suffix alone; tight enough that another workload whose name starts the same is not counted.
POD_PATTERNS = {
    "Deployment": "{name}-[a-z0-9]{{6,10}}-[a-z0-9]{{5}}",
    "Rollout": "{name}-[a-z0-9]{{6,10}}-[a-z0-9]{{5}}",
    "StatefulSet": "{name}-[0-9]+",
    "DaemonSet": "{name}-[a-z0-9]{{5}}",
}
SATURATED_FOR = "15m"


def _pods(plan: ServiceReliabilityPlan, ref: WorkloadRef, platform: str) -> str:
    pattern = POD_PATTERNS[ref.kind].format(name=ref.name)
    return f"{platform}, namespace={escape_string(plan.metadata.namespace)}, pod=~{escape_string(pattern)}"


def capacity_group(plan: ServiceReliabilityPlan, options: RenderOptions) -> dict[str, Any] | None:
    capacity = plan.spec.capacity
    if capacity is None or not capacity.workloads:
        return None
    identity = {names.LABEL_NAMESPACE: plan.metadata.namespace, names.LABEL_SERVICE: plan.spec.service.name}
    rules: list[dict[str, Any]] = []

    def ratio(record: str, numerator: str, denominator: str) -> None:
        branches = []
        for ref in capacity.workloads:
            cadvisor, state = _pods(plan, ref, options.cadvisor_selector), _pods(plan, ref, options.kube_state_selector)
            top = numerator.format(cadvisor=cadvisor, state=state)
            bottom = denominator.format(cadvisor=cadvisor, state=state)
            branches.append(f'label_replace(({top}) / ({bottom}), "workload", "{ref.name}", "", "")')
        rules.append({"record": record, "expr": " or ".join(branches), "labels": identity})

    ratio(
        CPU,
        'sum(rate(container_cpu_usage_seconds_total{{{cadvisor}, container!=""}}[5m]))',
        'sum(kube_pod_container_resource_requests{{{state}, resource="cpu"}})',
    )
    ratio(
        MEMORY,
        'sum(container_memory_working_set_bytes{{{cadvisor}, container!=""}})',
        'sum(kube_pod_container_resource_limits{{{state}, resource="memory"}})',
    )
    ratio(
        THROTTLED,
        'sum(rate(container_cpu_cfs_throttled_periods_total{{{cadvisor}, container!=""}}[5m]))',
        'sum(rate(container_cpu_cfs_periods_total{{{cadvisor}, container!=""}}[5m]))',
    )
    saturation = capacity.saturation
    selector = ", ".join(f"{k}={escape_string(v)}" for k, v in identity.items())
    for alert, record, percent, what in (
        (ALERT_CPU, CPU, saturation.cpu_percent if saturation else None, "CPU use over its requests"),
        (ALERT_MEMORY, MEMORY, saturation.memory_percent if saturation else None, "memory working set over its limits"),
    ):
        if percent is None:
            continue
        rules.append(
            {
                "alert": alert,
                "expr": f"{record}{{{selector}}} > {percent / 100:g}",
                "for": SATURATED_FOR,
                "labels": {**identity, "severity": "warning"},
                "annotations": {
                    "summary": f"{{{{ $labels.workload }}}} of {plan.spec.service.name} is saturated: {what} above {percent}%",
                    "description": f"{what[0].upper()}{what[1:]} has stayed above capacity.saturation ({percent}%) for "
                    f"{SATURATED_FOR}; at {{{{ $value | humanizePercentage }}}} the workload is close to its limit.",
                },
            }
        )
    return {"name": f"{plan.spec.service.name}-capacity", "interval": options.rule_interval, "rules": rules}
