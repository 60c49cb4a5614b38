"""Prometheus answers turned into what a gate may trust, and the rule for when a plan's status is rewritten."""

from __future__ import annotations

from typing import Any

import pytest

from sre_operator.budgets import Snapshot, carry_forward, readings_from, slo_budget
from sre_operator.budgets.readings import Reading
from sre_operator.gates import SloBudget
from sre_operator.status import slo_moved

KEY = ("shop", "checkout", "availability")


def sample(value: str, window: str = "", route: str = "", **labels: str) -> dict[str, Any]:
    metric = {"namespace": "shop", "service": "checkout", "slo": "availability", **labels}
    if window:
        metric["window"] = window
    if route:
        metric["route"] = route
    return {"metric": metric, "value": [1700000000, value]}


def test_a_grouped_slo_is_as_good_as_its_worst_series() -> None:
    readings = readings_from(
        [sample("0.4", route="/a"), sample("-0.2", route="/b")],
        [sample("1699999990", route="/a"), sample("1699999970", route="/b")],
        [sample("2", "1h", "/a"), sample("9", "1h", "/b"), sample("1", "6h", "/a")],
    )
    assert readings == {KEY: Reading(-0.2, 1699999990.0, {"1h": 9.0, "6h": 1.0})}


def test_nan_and_foreign_series_are_no_data() -> None:
    readings = readings_from([sample("NaN"), {"metric": {"slo": "x"}, "value": [0, "1"]}], [], [])
    assert readings == {KEY: Reading(None, None, {})}
    budget = slo_budget(Snapshot(1700000000, readings, "", 3, 1700000000), KEY, "30d", 300)
    assert budget.unknown == "no data: no requests in the window" and not budget.known


@pytest.mark.parametrize(
    ("snapshot", "unknown"),
    [
        (Snapshot(1000.0, {KEY: Reading(0.5, 990.0)}, "", 3, 1000.0), ""),
        (Snapshot(2000.0, {KEY: Reading(0.5, 990.0)}, "", 3, 2000.0), "stale: last sample 17m ago"),
        (Snapshot(1000.0, {}, "", 3, 1000.0), "no data: its rules are not loaded or have not recorded yet"),
        (Snapshot(1000.0, {}, "connection refused", 3, None), "Prometheus cannot be read: connection refused"),
        # One failed read within the grace keeps the last numbers; a longer outage makes them unknown.
        (Snapshot(1020.0, {KEY: Reading(0.5, 990.0)}, "connection refused", 3, 1000.0), ""),
        (Snapshot(1100.0, {KEY: Reading(0.5, 990.0)}, "timeout", 3, 1000.0), "Prometheus cannot be read: timeout"),
    ],
)
def test_what_a_gate_may_trust(snapshot: Snapshot, unknown: str) -> None:
    budget = slo_budget(snapshot, KEY, "30d", stale_after=300, unreachable_after=75)
    assert budget.unknown == unknown


def test_without_prometheus_every_budget_says_so() -> None:
    budget = slo_budget(None, KEY, "30d", 300, configured=False)
    assert budget == SloBudget("availability", "30d", unknown="no Prometheus configured (--prometheus-url)")


def test_a_failed_read_carries_the_last_readings_and_the_time_of_the_last_answer() -> None:
    good = Snapshot(1000.0, {KEY: Reading(0.5, 990.0)}, "", 3, 1000.0)
    failed = carry_forward(good, Snapshot(1030.0, {}, "refused", 3))
    assert (failed.readings, failed.error, failed.unreachable_for) == (good.readings, "refused", 30.0)
    assert carry_forward(failed, Snapshot(1060.0, {}, "refused", 3)).unreachable_for == 60.0


BASE = {
    "objective": 99.9,
    "window": "30d",
    "budgetRemaining": 0.42,
    "burnRates": {"1h": 1.0},
    "unknown": "",
    "rules": [],
}


@pytest.mark.parametrize(
    ("change", "moved"),
    [
        ({}, False),
        ({"budgetRemaining": 0.4171}, False),
        ({"budgetRemaining": 0.415}, True),
        ({"burnRates": {"1h": 1.05}}, False),
        ({"burnRates": {"1h": 1.2}}, True),
        ({"burnRates": {"1h": 1.0, "6h": 1.0}}, True),
        ({"unknown": "stale: last sample 6m ago"}, True),
        ({"rules": ["warn"]}, True),
        ({"budgetRemaining": None}, True),
        ({"evaluatedAt": "later"}, False),
    ],
)
def test_status_is_rewritten_only_on_a_meaningful_step(change: dict[str, Any], moved: bool) -> None:
    assert slo_moved(BASE, {**BASE, **change}) is moved
