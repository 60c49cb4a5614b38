"""One live Prometheus with 30 days of backfilled history for every budget test (built once: about a minute).

Nothing records after it is built, so its history runs on for half an hour past that moment: tests that read
budgets "now" (as the operator does) find a fresh evaluation for that long, however loaded the machine is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sre_operator.generate import rule_groups
from sre_operator.models import ServiceReliabilityPlan
from tests.conftest import require_program
from tests.support.prometheus import LivePrometheus, Traffic, availability_plan

NAMESPACE = "budgets"
OBJECTIVE = 99.9
# Error ratios against a 0.1% budget: half of it spent, twice over spent, 95% spent.
TRAFFIC = {
    "healthy": Traffic("healthy", 10.0, 0.0005),
    "spent": Traffic("spent", 10.0, 0.002),
    "recovering": Traffic("recovering", 10.0, 0.00095),
}
EXPECTED_REMAINING = {"healthy": 0.5, "spent": -1.0, "recovering": 0.05}
AHEAD_SECONDS = 1800


def plan_document(service: str) -> dict[str, Any]:
    return availability_plan(service, NAMESPACE, OBJECTIVE, "budget-policy")


@pytest.fixture(scope="session")
def live_prometheus(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LivePrometheus]:
    binary = require_program("prometheus", "bash scripts/test.sh installs Debian's 'prometheus' package")
    promtool = require_program("promtool", "bash scripts/test.sh installs Debian's 'prometheus' package")
    prometheus = LivePrometheus(binary, promtool, tmp_path_factory.mktemp("prometheus"))
    groups = [
        group
        for service in TRAFFIC
        for group in rule_groups(ServiceReliabilityPlan.model_validate(plan_document(service)))
    ]
    started = time.monotonic()
    try:
        prometheus.backfill(list(TRAFFIC.values()), groups, end=int(time.time()) // 60 * 60 + AHEAD_SECONDS)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"prometheus: 30 days backfilled and rules evaluated in {time.monotonic() - started:.0f}s"
            )
        yield prometheus
    finally:
        prometheus.stop()
