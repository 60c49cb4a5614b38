"""spec.capacity against live workloads on the real API server: each failed check is a residual risk, and a
fixed workload clears it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.controlplane import ControlPlane
from tests.support.operator import operator_in_process, wait_for

NAMESPACE = "capacity"
OPERATOR_USER = "sre-operator-capacity"


def deployment(replicas: int, probe: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "api", "image": "registry.example/checkout:1"}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}}
    labels = {"app": "checkout-api"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "checkout-api", "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


@pytest.fixture(scope="module")
def plane(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    control_plane.kubectl("create", "namespace", NAMESPACE)
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = NAMESPACE
    assert control_plane.apply([plan, deployment(1, probe=False)]).returncode == 0
    with operator_in_process(control_plane.user_kubeconfig(OPERATOR_USER), CAPACITY_INTERVAL="1"):
        yield control_plane


def risks(plane: ControlPlane, namespace: str = NAMESPACE) -> tuple[list[str], str]:
    body = json.loads(plane.kubectl("-n", namespace, "get", "srp", "checkout", "-o", "json").stdout)
    status = body.get("status") or {}
    resilient = next((c["status"] for c in status.get("conditions", []) if c["type"] == "Resilient"), "")
    return list(status.get("residualRisks") or []), resilient


def test_a_fragile_workload_is_reported_and_cleared_once_fixed(plane: ControlPlane) -> None:
    wait_for(lambda: risks(plane)[1] == "False", what="the capacity check")
    found, _ = risks(plane)
    assert (
        "Deployment checkout-api runs 1 replica, below capacity.minReplicas 2, "
        "and no HorizontalPodAutoscaler keeps it at 2 or more."
    ) in found
    assert any(r.startswith("Deployment checkout-api has no PodDisruptionBudget selecting its pods") for r in found)
    assert (
        "Deployment checkout-api: container api has no readiness probe, so traffic reaches it before it can serve."
        in found
    )
    events = json.loads(
        plane.kubectl("-n", NAMESPACE, "get", "events", "--field-selector", "reason=CapacityRisk", "-o", "json").stdout
    )["items"]
    assert len(events) == 3

    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "checkout-api", "namespace": NAMESPACE},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "checkout-api"}}},
    }
    assert plane.apply([deployment(2, probe=True), budget]).returncode == 0
    wait_for(lambda: risks(plane)[1] == "True", what="the risks cleared")
    found, _ = risks(plane)
    assert not [r for r in found if "checkout-api" in r]


def test_an_autoscaler_minimum_counts_for_replicas(plane: ControlPlane) -> None:
    scaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "checkout-api", "namespace": NAMESPACE},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout-api"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }
    assert plane.apply([scaler]).returncode == 0
    wait_for(lambda: risks(plane)[1] == "False", what="the autoscaler's low minimum reported")
    assert (
        "Deployment checkout-api may scale down to 1 replica (HorizontalPodAutoscaler checkout-api minReplicas), "
        "below capacity.minReplicas 2."
    ) in risks(plane)[0]
