"""Install the chart on kind, apply the reference plans, see their children and status, delete and see them go."""

from __future__ import annotations

import json
import time
from typing import Any

import helm_python as helm
import yaml

from e2e.conftest import IMAGE, ROOT

NAMESPACES = ("shop", "catalog", "data")


def kubectl(cluster: Any, *args: str, stdin: str | None = None) -> str:
    output: str = cluster.kubectl(*args, input=stdin) if stdin is not None else cluster.kubectl(*args)
    return output


def install_chart(cluster: Any) -> None:
    repository, tag = IMAGE.split(":")
    with helm.Chart.load(str(ROOT / "charts" / "sre-operator")) as chart:
        manifests = chart.render(
            {"image": {"repository": repository, "tag": tag, "pullPolicy": "Never"}, "driftInterval": 10},
            name="sre-operator",
            namespace="sre-operator",
        )
    kubectl(cluster, "create", "namespace", "sre-operator")
    kubectl(cluster, "apply", "--server-side", "-f", str(ROOT / "crds"))
    from tests.support.controlplane import prometheus_operator_crds

    for path in prometheus_operator_crds() or []:  # the Prometheus Operator's real CRDs
        kubectl(cluster, "apply", "--server-side", "-f", str(path))
    kubectl(cluster, "apply", "--server-side", "-f", str(ROOT / "tests" / "data" / "crds"))
    documents = "\n---\n".join(text for name, text in manifests.items() if name.endswith(".yaml"))
    kubectl(cluster, "apply", "--server-side", "-f", "-", stdin=documents)
    kubectl(cluster, "-n", "sre-operator", "rollout", "status", "deployment/sre-operator", "--timeout=180s")


def plan_status(cluster: Any, namespace: str, name: str) -> dict[str, Any]:
    body = json.loads(kubectl(cluster, "-n", namespace, "get", "srp", name, "-o", "json"))
    status: dict[str, Any] = body.get("status") or {}
    return status


def test_plans_reconcile_on_kind_and_children_are_collected(kind: Any) -> None:
    install_chart(kind)
    for namespace in NAMESPACES:
        kubectl(kind, "create", "namespace", namespace)
    for path in sorted((ROOT / "references" / "examples").glob("*.yaml")):
        kubectl(kind, "apply", "--server-side", "-f", str(path))
    plans = [
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for path in (ROOT / "references" / "examples").glob("*.yaml")
        for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if d["kind"] == "ServiceReliabilityPlan"
    ]
    deadline = time.monotonic() + 180
    pending = set(plans)
    while pending and time.monotonic() < deadline:
        for namespace, name in list(pending):
            conditions = {c["type"]: c["status"] for c in plan_status(kind, namespace, name).get("conditions", [])}
            if conditions.get("Ready") == "True":
                pending.discard((namespace, name))
        time.sleep(2)
    assert not pending, f"not Ready on kind: {pending}"
    rule = json.loads(kubectl(kind, "-n", "shop", "get", "prometheusrule", "checkout-slos", "-o", "json"))
    assert rule["metadata"]["ownerReferences"][0]["kind"] == "ServiceReliabilityPlan"
    kubectl(kind, "-n", "shop", "delete", "srp", "checkout")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        left = kubectl(
            kind, "-n", "shop", "get", "prometheusrules,configmaps", "-l", "reliability.dev/plan=checkout", "-o", "name"
        )
        if not left.strip():
            break
        time.sleep(2)
    assert not left.strip(), f"children left after deleting the plan: {left}"


def test_a_frozen_gate_refuses_a_release_on_kind(kind: Any) -> None:
    """The chart's webhook (Service, self-signed pair) in a real cluster: a gate frozen by its policy
    (no Prometheus configured, onUnknown: block) refuses a new image and lets scaling through."""
    install_chart(kind)
    kubectl(kind, "create", "namespace", "gated")
    kubectl(kind, "label", "namespace", "gated", "reliability.dev/release-gates=enabled")
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = "gated"
    policy = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "checkout-budget", "namespace": "gated"},
        "spec": {"rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}],
                 "onUnknown": "block"},
    }  # fmt: skip
    gate = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"name": "checkout", "namespace": "gated"},
        "spec": {"planRef": {"name": "checkout"}, "targets": [{"kind": "Deployment", "name": "api"}]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "gated"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }
    documents = yaml.safe_dump_all([plan, policy, gate, deployment])
    kubectl(kind, "apply", "--server-side", "-f", "-", stdin=documents)
    deadline = time.monotonic() + 120
    state = ""
    while time.monotonic() < deadline and state != "Frozen":
        state = kubectl(kind, "-n", "gated", "get", "rgate", "checkout", "-o", "jsonpath={.status.state}")
        time.sleep(2)
    assert state == "Frozen"
    import subprocess

    refused = subprocess.run(
        [str(kind.kubectl_path), "--kubeconfig", str(kind.kubeconfig_path), "-n", "gated", "set", "image",
         "deployment/api", "api=registry.k8s.io/pause:3.9"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "release gate gated/checkout" in refused.stderr, refused.stderr
    kubectl(kind, "-n", "gated", "scale", "deployment/api", "--replicas=2")
