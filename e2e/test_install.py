"""The chart installed as the README says, in a real cluster: the operator becomes Ready under the chart's
defaults, the example plans reconcile, their children are owned and collected; upgrades keep what they must,
and uninstalling leaves the CRDs and the users' plans."""

from __future__ import annotations

import base64
from typing import Any

import yaml

from e2e.conftest import RELEASE, RELEASE_NAMESPACE, ROOT, Cluster, eventually

EXAMPLES = ROOT / "references" / "examples"


def ready(cluster: Cluster, namespace: str, name: str) -> bool:
    status = cluster.get("-n", namespace, "srp", name).get("status") or {}
    conditions = {c["type"]: c for c in status.get("conditions", [])}
    ready_condition: dict[str, Any] = conditions.get("Ready", {})
    metadata = cluster.get("-n", namespace, "srp", name)["metadata"]
    return ready_condition.get("status") == "True" and status.get("observedGeneration") == metadata["generation"]


def example_documents() -> list[dict[str, Any]]:
    return [d for path in sorted(EXAMPLES.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text("utf-8")) if d]


def operator_pod(cluster: Cluster) -> dict[str, Any]:
    pods = cluster.get("-n", RELEASE_NAMESPACE, "pods", "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    pod: dict[str, Any] = pods[0]
    return pod


def test_the_chart_installs_and_the_example_plans_reconcile(cluster: Cluster) -> None:
    cluster.install()
    pod = operator_pod(cluster)
    assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "True"
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert {"livenessProbe", "readinessProbe"} <= set(container)

    documents = example_documents()
    namespaces = sorted({d["metadata"]["namespace"] for d in documents})
    for namespace in namespaces:
        cluster.kubectl("create", "namespace", namespace)
    try:
        cluster.apply(*documents)
        plans = [
            (d["metadata"]["namespace"], d["metadata"]["name"])
            for d in documents
            if d["kind"] == "ServiceReliabilityPlan"
        ]
        for namespace, name in plans:
            eventually(lambda n=namespace, p=name: ready(cluster, n, p), 180, f"plan {namespace}/{name} Ready")
        rule = cluster.get("-n", "shop", "prometheusrule", "checkout-slos")
        owner = rule["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner.get("controller")) == ("ServiceReliabilityPlan", "checkout", True)

        cluster.kubectl("-n", "shop", "delete", "srp", "checkout")
        selector = "reliability.dev/plan=checkout"

        def children_gone() -> bool:
            left = cluster.kubectl("-n", "shop", "get", "prometheusrules,configmaps", "-l", selector, "-o", "name")
            return not left.stdout.strip()

        eventually(children_gone, 120, "the deleted plan's children collected by the garbage collector")
    finally:
        for namespace in namespaces:
            cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def webhook_ca(cluster: Cluster) -> str:
    configuration = cluster.get("validatingwebhookconfiguration", f"{RELEASE}-release-gates")
    bundle: str = configuration["webhooks"][0]["clientConfig"]["caBundle"]
    return bundle


def test_upgrade_keeps_the_webhook_ca_and_uninstall_keeps_crds_and_plans(cluster: Cluster, namespace: str) -> None:
    cluster.install()
    plan = next(
        d for d in example_documents() if d["kind"] == "ServiceReliabilityPlan" and d["metadata"]["name"] == "checkout"
    )
    plan["metadata"]["namespace"] = namespace
    cluster.apply(plan)
    eventually(lambda: ready(cluster, namespace, "checkout"), 180, "plan Ready before the upgrade")
    ca = webhook_ca(cluster)
    assert base64.b64decode(ca).startswith(b"-----BEGIN CERTIFICATE-----")
    revision = cluster.helm("status", RELEASE, "-n", RELEASE_NAMESPACE, "-o", "json").stdout

    cluster.install("evaluationInterval=20")  # an upgrade: a changed value rolls the pod
    assert revision != cluster.helm("status", RELEASE, "-n", RELEASE_NAMESPACE, "-o", "json").stdout
    assert webhook_ca(cluster) == ca, "helm upgrade replaced the webhook's CA"
    assert ready(cluster, namespace, "checkout"), "the plan lost its Ready status across the upgrade"

    cluster.uninstall()
    crds = cluster.kubectl("get", "crd", "-o", "name").stdout
    assert "servicereliabilityplans.reliability.dev" in crds and "releasegates.reliability.dev" in crds
    kept = cluster.get("-n", namespace, "srp", "checkout")
    assert kept["metadata"]["name"] == "checkout"
    assert cluster.kubectl("-n", namespace, "get", "prometheusrule", "checkout-slos", check=False).returncode == 0
