"""The web view's SLO page for 1,000 SLOs (500 plans of 2, each with a budget in its status): the time from
the operator's registry to the finished HTML, as the server spends it on each request.

Run: .venv/bin/python bench/ui_bench.py
The numbers in docs/benchmarks.md come from this script on the project's 2-core machine.
"""

from __future__ import annotations

import statistics
import time
from types import SimpleNamespace
from typing import Any, cast

from sre_operator.handlers.ui import RegistryView
from sre_operator.registry import Registry
from sre_operator.ui import render, slo_list

PLANS = 500
ROUNDS = 20


def plan_document(index: int) -> dict[str, Any]:
    ratio = {
        "errors": f'http_requests_total{{job="svc-{index}",code=~"5.."}}',
        "total": f'http_requests_total{{job="svc-{index}"}}',
    }
    slos = [{"name": name, "objective": 99.9, "indicator": {"ratio": ratio}} for name in ("availability", "errors")]
    status = {
        "slos": {
            s["name"]: {
                "objective": 99.9,
                "window": "30d",
                "budgetRemaining": 0.5 - index / PLANS,
                "burnRates": {"5m": 1.0, "1h": 1.2, "6h": 0.9, "30d": 1.0},
            }
            for s in slos
        }
    }
    return {"apiVersion": "reliability.dev/v1alpha1", "kind": "ServiceReliabilityPlan",
            "metadata": {"name": f"svc-{index}", "namespace": f"team-{index % 20}", "generation": 1},
            "spec": {"service": {"name": f"svc-{index}", "owner": {"team": "bench"}}, "slos": slos},
            "status": status}  # fmt: skip


def main() -> None:
    registry = Registry()
    for index in range(PLANS):
        registry.observe(plan_document(index))
    view = RegistryView(cast(Any, SimpleNamespace(registry=registry)))
    timings = {"objects from the registry": [], "page context (filter, sort)": [], "HTML": [], "total": []}
    page = ""
    for _ in range(ROUNDS):
        started = time.perf_counter()
        objects = view.objects()
        listed = time.perf_counter()
        context = slo_list(objects, {"sort": "budget"})
        built = time.perf_counter()
        page = render("slos.html", context, root="")
        done = time.perf_counter()
        for name, value in zip(timings, (listed - started, built - listed, done - built, done - started), strict=True):
            timings[name].append(value * 1000)
    assert page.count('data-testid="budget-') == 2 * PLANS
    print(f"{2 * PLANS} SLOs, {len(page) / 1024:.0f} KiB of HTML, {ROUNDS} rounds (median, max in ms):")
    for name, values in timings.items():
        print(f"  {name}: {statistics.median(values):.1f} ms (max {max(values):.1f})")


if __name__ == "__main__":
    main()
