"""The operator's own metrics (prefix ``sre_operator_``), in a registry of their own."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

GATE_STATES = ("Open", "Frozen", "Evaluating", "Invalid")


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        slo = ["namespace", "service", "slo"]
        gate = ["namespace", "gate"]
        r = self.registry
        self.budget_remaining = Gauge(
            "sre_operator_slo_error_budget_remaining_ratio",
            "Share of the SLO's error budget left over its window (1 all, below 0 overspent), as last read.",
            slo,
            registry=r,
        )
        self.burn_rate = Gauge(
            "sre_operator_slo_burn_rate_ratio",
            "Burn rate of the SLO's budget per window, as last read.",
            [*slo, "window"],
            registry=r,
        )
        self.sample_age = Gauge(
            "sre_operator_slo_sample_age_seconds", "Age of the latest budget sample when it was read.", slo, registry=r
        )
        self.gate_state = Gauge(
            "sre_operator_gate_state", "1 for the gate's current state, 0 for the others.", [*gate, "state"], registry=r
        )
        self.gate_allowed = Gauge(
            "sre_operator_gate_allowed", "1 while the gate admits gated rollouts.", gate, registry=r
        )
        self.evaluation_duration = Histogram(
            "sre_operator_evaluation_duration_seconds",
            "Duration of one budget evaluation cycle (every plan and gate).",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.evaluations = Counter("sre_operator_evaluations", "Budget evaluation cycles run.", registry=r)
        self.queries = Counter("sre_operator_prometheus_queries", "Queries sent to Prometheus.", registry=r)
        self.query_errors = Counter(
            "sre_operator_prometheus_query_errors", "Evaluation cycles whose Prometheus queries failed.", registry=r
        )
        self.admissions = Counter(
            "sre_operator_admissions",
            "Admission decisions on gated workloads: allowed (nothing held it), denied, exception, override, dry-run.",
            [*gate, "decision"],
            registry=r,
        )
        self.policy_actions = Counter(
            "sre_operator_policy_actions",
            "Times a policy rule started to hold for an SLO, per action.",
            [*slo, "rule", "action"],
            registry=r,
        )
        self.corrective_actions = Gauge(
            "sre_operator_corrective_actions",
            "Corrective actions of a plan not done yet, by priority; state is open (all of them) or overdue.",
            ["namespace", "plan", "priority", "state"],
            registry=r,
        )

    def set_gate(self, namespace: str, name: str, state: str, allowed: bool) -> None:
        for candidate in GATE_STATES:
            self.gate_state.labels(namespace, name, candidate).set(1 if candidate == state else 0)
        self.gate_allowed.labels(namespace, name).set(1 if allowed else 0)

    def forget_gate(self, namespace: str, name: str) -> None:
        for candidate in GATE_STATES:
            self._remove(self.gate_state, namespace, name, candidate)
        self._remove(self.gate_allowed, namespace, name)

    @staticmethod
    def _remove(metric: Gauge, *labels: str) -> None:
        with contextlib.suppress(KeyError):
            metric.remove(*labels)
