"""Budgets as Prometheus holds them: the queries, and their answers turned into per-SLO readings. Pure.

Three instant queries read every SLO of every plan at once, however many there
are: the remaining budget, the time of its latest sample, and every burn rate.
The series are the ones the generated rules record, keyed by their identity
labels (namespace, service, slo).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sre_operator.gates.policy import SloBudget
from sre_operator.generate import names

SloKey = tuple[str, str, str]
"""(namespace, service, slo): an SLO's identity in Prometheus."""

REMAINING_QUERY = names.BUDGET_REMAINING
SAMPLED_AT_QUERY = f"timestamp({names.BUDGET_REMAINING})"
BURN_RATES_QUERY = names.BURN_RATE
QUERIES = (REMAINING_QUERY, SAMPLED_AT_QUERY, BURN_RATES_QUERY)


@dataclass(frozen=True)
class Reading:
    remaining: float | None
    sampled_at: float | None
    burn_rates: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """Every SLO's reading from one evaluation (``error`` set when Prometheus could not be read)."""

    read_at: float
    readings: Mapping[SloKey, Reading] = field(default_factory=dict)
    error: str = ""
    queries: int = 0
    last_success: float | None = None
    """When Prometheus last answered (``read_at`` itself when this read succeeded)."""

    @property
    def unreachable_for(self) -> float:
        """Seconds Prometheus has failed to answer (0 while it answers)."""
        if not self.error:
            return 0.0
        return self.read_at - (self.last_success if self.last_success is not None else self.read_at)


def _key(metric: Mapping[str, str]) -> SloKey | None:
    namespace = metric.get(names.LABEL_NAMESPACE)
    service = metric.get(names.LABEL_SERVICE)
    slo = metric.get(names.LABEL_SLO)
    if not (namespace and service and slo):
        return None
    return namespace, service, slo


def _number(sample: Sequence[Any]) -> float | None:
    try:
        value = float(sample[1])
    except (IndexError, TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def readings_from(
    remaining: Sequence[Mapping[str, Any]],
    sampled_at: Sequence[Mapping[str, Any]],
    burn_rates: Sequence[Mapping[str, Any]],
) -> dict[SloKey, Reading]:
    """Readings from the three queries' vectors (Prometheus' ``data.result``).

    An SLO split by ``groupBy`` has several series; its budget is the lowest of
    them (the worst route decides) and each burn rate the highest.
    """
    lowest: dict[SloKey, float | None] = {}
    for item in remaining:
        key = _key(item.get("metric") or {})
        if key is None:
            continue
        value = _number(item.get("value") or ())
        known = lowest.get(key)
        lowest[key] = value if known is None else (known if value is None else min(known, value))
    times: dict[SloKey, float] = {}
    for item in sampled_at:
        key = _key(item.get("metric") or {})
        value = _number(item.get("value") or ())
        if key is not None and value is not None:
            times[key] = max(times.get(key, value), value)
    rates: dict[SloKey, dict[str, float]] = {}
    for item in burn_rates:
        metric = item.get("metric") or {}
        key, window = _key(metric), metric.get(names.LABEL_WINDOW)
        value = _number(item.get("value") or ())
        if key is None or not window or value is None:
            continue
        per_window = rates.setdefault(key, {})
        per_window[window] = max(per_window.get(window, value), value)
    keys = set(lowest) | set(rates)
    return {key: Reading(lowest.get(key), times.get(key), rates.get(key, {})) for key in keys}


def _age_words(age: float) -> str:
    minutes = age / 60
    return f"{minutes:.0f}m" if minutes < 120 else f"{minutes / 60:.0f}h"


def slo_budget(
    snapshot: Snapshot | None,
    key: SloKey,
    window: str,
    stale_after: float,
    unreachable_after: float = 0.0,
    *,
    configured: bool = True,
) -> SloBudget:
    """What the gate may trust of one SLO: its numbers, or why they are unknown.

    After a failed read the last readings stand for ``unreachable_after`` seconds, so one lost query
    does not move a gate; past that, every budget is unknown and says why."""
    slo = key[2]
    if not configured:
        return SloBudget(slo, window, unknown="no Prometheus configured (--prometheus-url)")
    assert snapshot is not None
    if snapshot.error and (snapshot.last_success is None or snapshot.unreachable_for > unreachable_after):
        return SloBudget(slo, window, unknown=f"Prometheus cannot be read: {snapshot.error}")
    reading = snapshot.readings.get(key)
    if reading is None:
        return SloBudget(slo, window, unknown="no data: its rules are not loaded or have not recorded yet")
    age = snapshot.read_at - reading.sampled_at if reading.sampled_at is not None else None
    if reading.remaining is None:
        return SloBudget(slo, window, None, reading.burn_rates, age, "no data: no requests in the window")
    if age is not None and age > stale_after:
        why = f"stale: last sample {_age_words(age)} ago"
        return SloBudget(slo, window, reading.remaining, reading.burn_rates, age, why)
    return SloBudget(slo, window, reading.remaining, reading.burn_rates, age)


def carry_forward(previous: Snapshot | None, failed: Snapshot) -> Snapshot:
    """After a failed read, keep the last readings and when Prometheus last answered, and say why."""
    if previous is None:
        return failed
    return Snapshot(failed.read_at, previous.readings, failed.error, failed.queries, previous.last_success)
