"""Saturation rules of spec.capacity, run by promtool on synthetic cAdvisor and kube-state-metrics series."""

from __future__ import annotations

from pathlib import Path

from sre_operator.generate import prometheus_rule
from tests.conftest import example_plans
from tests.support.promtool import failed_rule_tests

CADVISOR = 'job="kubelet", metrics_path="/metrics/cadvisor", namespace="shop"'
STATE = 'job="kube-state-metrics", namespace="shop"'


def test_a_workload_over_its_cpu_threshold_alerts_and_one_below_does_not(promtool: str, tmp_path: Path) -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    pods = ("checkout-api-6d9f8b7c5-abcde", "checkout-api-6d9f8b7c5-fghij")
    series = []
    for pod in pods:
        # 0.9 CPU-seconds a second against a 1-core request: 90% of requests, above capacity.saturation's 80%.
        series.append(
            {
                "series": f'container_cpu_usage_seconds_total{{{CADVISOR}, pod="{pod}", container="api"}}',
                "values": "0+54x60",
            }
        )
        series.append(
            {
                "series": f'kube_pod_container_resource_requests{{{STATE}, pod="{pod}", container="api", resource="cpu"}}',
                "values": "1x60",
            }
        )
        # 0.5 GiB of a 1 GiB limit: 50%, below 85%.
        series.append(
            {
                "series": f'container_memory_working_set_bytes{{{CADVISOR}, pod="{pod}", container="api"}}',
                "values": "536870912x60",
            }
        )
        series.append(
            {
                "series": f'kube_pod_container_resource_limits{{{STATE}, pod="{pod}", container="api", resource="memory"}}',
                "values": "1073741824x60",
            }
        )
    # Another deployment's pod in the namespace is not checkout-api's.
    series.append(
        {
            "series": f'container_cpu_usage_seconds_total{{{CADVISOR}, pod="checkout-api-worker-1", container="w"}}',
            "values": "0+600x60",
        }
    )
    identity = {"namespace": "shop", "service": "checkout", "workload": "checkout-api"}
    tests = [
        {
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [
                {
                    "expr": "round(slo:workload_cpu_saturation:ratio, 0.01)",
                    "eval_time": "30m",
                    "exp_samples": [
                        {"labels": "{" + ", ".join(f'{k}="{v}"' for k, v in identity.items()) + "}", "value": 0.9}
                    ],
                }
            ],
            "alert_rule_test": [
                {"eval_time": "10m", "alertname": "WorkloadCPUSaturated", "exp_alerts": []},
                {
                    "eval_time": "30m",
                    "alertname": "WorkloadCPUSaturated",
                    "exp_alerts": [
                        {
                            "exp_labels": {**identity, "severity": "warning"},
                            "exp_annotations": {
                                "summary": "checkout-api of checkout is saturated: CPU use over its requests above 80%",
                                "description": "CPU use over its requests has stayed above capacity.saturation (80%) "
                                "for 15m; at 90% the workload is close to its limit.",
                            },
                        }
                    ],
                },
                {"eval_time": "30m", "alertname": "WorkloadMemorySaturated", "exp_alerts": []},
            ],
        }
    ]
    failures = failed_rule_tests(promtool, tmp_path, prometheus_rule(checkout)["spec"], tests)
    assert not failures, failures
