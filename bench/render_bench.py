"""Render 1,000 SLOs (100 plans of 10 SLOs) and report time, peak memory and rules per SLO.

Run: .venv/bin/python bench/render_bench.py
The numbers in docs/benchmarks.md come from this script on the project's 2-core machine.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc
from typing import Any

from sre_operator.generate import prometheus_rule
from sre_operator.models import ServiceReliabilityPlan, parse_document

INDICATORS: list[dict[str, Any]] = [
    {"ratio": {"errors": 'http_requests_total{job="svc",code=~"5.."}', "total": 'http_requests_total{job="svc"}'}},
    {"latency": {"histogram": 'http_request_duration_seconds{job="svc"}', "threshold": 0.3}},
    {"expression": {"errorRatio": "sum(rate(failed_total[$window])) / sum(rate(runs_total[$window]))"}},
]


def plan(index: int, slos: int = 10) -> ServiceReliabilityPlan:
    document = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": f"service-{index}", "namespace": "bench"},
        "spec": {
            "service": {"name": f"service-{index}", "owner": {"team": "bench"}},
            "slos": [
                {
                    "name": f"slo-{i}",
                    "objective": 99.9,
                    "window": "30d",
                    "indicator": INDICATORS[i % len(INDICATORS)],
                    "alerting": {"noDataFor": "15m"},
                }
                for i in range(slos)
            ],
        },
    }
    parsed = parse_document(document)
    assert parsed.model is not None and isinstance(parsed.model, ServiceReliabilityPlan), parsed.problems
    return parsed.model


def rules_per_slo() -> dict[str, int]:
    counts = {}
    for kind, indicator in zip(("ratio", "latency", "expression"), INDICATORS, strict=True):
        document = plan(0, 1).model_dump(by_alias=True, mode="json")
        document["spec"]["slos"][0]["indicator"] = indicator
        for with_no_data in (False, True):
            if not with_no_data:
                document["spec"]["slos"][0]["alerting"].pop("noDataFor", None)
            else:
                document["spec"]["slos"][0]["alerting"]["noDataFor"] = "15m"
            model = parse_document(document).model
            assert isinstance(model, ServiceReliabilityPlan)
            rules = prometheus_rule(model)["spec"]["groups"][0]["rules"]
            counts[f"{kind}{' + noDataFor' if with_no_data else ''}"] = len(rules)
    return counts


def main() -> None:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        plans = [plan(i) for i in range(100)]
        objects = [prometheus_rule(p) for p in plans]
        runs.append(time.perf_counter() - started)
    assert sum(len(g["rules"]) for o in objects for g in o["spec"]["groups"]) > 0
    tracemalloc.start()
    objects = [prometheus_rule(plan(i)) for i in range(100)]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"parse + render 1,000 SLOs (100 plans x 10): median {statistics.median(runs) * 1000:.0f} ms "
        f"over {len(runs)} runs (min {min(runs) * 1000:.0f} ms)"
    )
    print(f"peak Python allocation while rendering: {peak / 2**20:.1f} MiB; process max RSS {rss_mib:.0f} MiB")
    for kind, count in rules_per_slo().items():
        print(f"rules per SLO, {kind}: {count}")


if __name__ == "__main__":
    main()
