"""The operator's own metrics (prefix ``sre_operator_``), in a registry of their own.

Process-wide counters (cycles, queries) are ordinary metrics. Everything about a plan, an SLO, a gate or a
duty is read from the operator's current state at scrape time by a collector (``sources``), so what is
deleted is gone at the next scrape; counters per gate or per SLO are kept here and dropped with their thing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

GATE_STATES = ("Open", "Frozen", "Evaluating", "Invalid")
SLO_LABELS = ["namespace", "service", "slo"]
GATE_LABELS = ["namespace", "gate"]
Source = Callable[[], Iterable[Metric]]

ADMISSIONS = (
    "sre_operator_admissions",
    "Admission decisions on gated workloads: allowed (nothing held it), denied, exception, override, dry-run.",
)
POLICY_ACTIONS = ("sre_operator_policy_actions", "Times a policy rule started to hold for an SLO, per action.")


class _Counts:
    """Counters per labelled thing, forgettable (prometheus_client's counters are not, per child, in bulk)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, labels: tuple[str, ...], amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def items(self) -> list[tuple[tuple[str, ...], float]]:
        with self._lock:
            return list(self._values.items())

    def keep(self, wanted: Callable[[tuple[str, ...]], bool]) -> None:
        with self._lock:
            for labels in [k for k in self._values if not wanted(k)]:
                del self._values[labels]

    def __len__(self) -> int:
        return len(self._values)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    sources: list[Source] = field(default_factory=list)
    """Called at every scrape for the metrics of what exists now."""
    admissions: _Counts = field(default_factory=_Counts)
    """(namespace, gate, decision) -> count."""
    policy_actions: _Counts = field(default_factory=_Counts)
    """(namespace, service, slo, rule, action) -> count."""

    def __post_init__(self) -> None:
        r = self.registry
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
        r.register(_StateCollector(self))

    def forget_gate(self, namespace: str, name: str) -> None:
        self.admissions.keep(lambda labels: labels[:2] != (namespace, name))


class _StateCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> Iterable[Metric]:
        return []  # read at scrape time: nothing to describe up front

    def collect(self) -> Iterator[Metric]:
        admissions = CounterMetricFamily(*ADMISSIONS, labels=[*GATE_LABELS, "decision"])
        for labels, value in self._metrics.admissions.items():
            admissions.add_metric(list(labels), value)
        yield admissions
        actions = CounterMetricFamily(*POLICY_ACTIONS, labels=[*SLO_LABELS, "rule", "action"])
        for labels, value in self._metrics.policy_actions.items():
            actions.add_metric(list(labels), value)
        yield actions
        for source in list(self._metrics.sources):
            yield from source()


@dataclass(frozen=True)
class BudgetSample:
    namespace: str
    service: str
    slo: str
    remaining: float | None
    burn_rates: Mapping[str, float]
    age_seconds: float | None


@dataclass(frozen=True)
class GateSample:
    namespace: str
    name: str
    state: str
    allowed: bool


@dataclass(frozen=True)
class DutySample:
    name: str
    up: bool
    last_success: float | None
    failures: int


def state_families(
    budgets: Iterable[BudgetSample],
    gates: Iterable[GateSample],
    corrective: Iterable[tuple[tuple[str, str, str, str], int]],
    duties: Iterable[DutySample],
    ready: bool,
) -> Iterator[Metric]:
    """The metric families of what the operator knows now (pure: the caller picks what still exists)."""
    remaining = GaugeMetricFamily(
        "sre_operator_slo_error_budget_remaining_ratio",
        "Share of the SLO's error budget left over its window (1 all, below 0 overspent), as last read.",
        labels=SLO_LABELS,
    )
    burn = GaugeMetricFamily(
        "sre_operator_slo_burn_rate_ratio",
        "Burn rate of the SLO's budget per window, as last read.",
        labels=[*SLO_LABELS, "window"],
    )
    age = GaugeMetricFamily(
        "sre_operator_slo_sample_age_seconds", "Age of the latest budget sample when it was read.", labels=SLO_LABELS
    )
    for sample in budgets:
        labels = [sample.namespace, sample.service, sample.slo]
        if sample.remaining is not None:
            remaining.add_metric(labels, sample.remaining)
        for window, rate in sample.burn_rates.items():
            burn.add_metric([*labels, window], rate)
        if sample.age_seconds is not None:
            age.add_metric(labels, sample.age_seconds)
    yield from (remaining, burn, age)
    state = GaugeMetricFamily(
        "sre_operator_gate_state", "1 for the gate's current state, 0 for the others.", labels=[*GATE_LABELS, "state"]
    )
    allowed = GaugeMetricFamily(
        "sre_operator_gate_allowed", "1 while the gate admits gated rollouts.", labels=GATE_LABELS
    )
    for gate in gates:
        for candidate in GATE_STATES:
            state.add_metric([gate.namespace, gate.name, candidate], 1 if candidate == gate.state else 0)
        allowed.add_metric([gate.namespace, gate.name], 1 if gate.allowed else 0)
    yield from (state, allowed)
    actions = GaugeMetricFamily(
        "sre_operator_corrective_actions",
        "Corrective actions of a plan not done yet, by priority; state is open (all of them) or overdue.",
        labels=["namespace", "plan", "priority", "state"],
    )
    for plan_labels, count in corrective:
        actions.add_metric(list(plan_labels), count)
    yield actions
    up = GaugeMetricFamily(
        "sre_operator_duty_up", "1 while the background duty runs and its cycles succeed.", labels=["duty"]
    )
    success = GaugeMetricFamily(
        "sre_operator_duty_last_success_timestamp_seconds",
        "When the duty last finished a cycle (or last started, for long-running duties).",
        labels=["duty"],
    )
    failures = GaugeMetricFamily("sre_operator_duty_failures", "Failures of the duty in a row.", labels=["duty"])
    for duty in duties:
        up.add_metric([duty.name], 1 if duty.up else 0)
        if duty.last_success is not None:
            success.add_metric([duty.name], duty.last_success)
        failures.add_metric([duty.name], duty.failures)
    yield from (up, success, failures)
    yield GaugeMetricFamily(
        "sre_operator_ready", "1 while this replica answers admission and the gate API.", value=1 if ready else 0
    )
