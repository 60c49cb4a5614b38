"""Replicas and faults in the cluster, as an operator of it would meet them."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.support.prometheus import availability_plan

from e2e.conftest import (
    GATES_LABEL,
    OTHER_IMAGE,
    PAUSE_IMAGE,
    RELEASE,
    RELEASE_NAMESPACE,
    Cluster,
    eventually,
)
from e2e.objects import deployment, gate, policy


def frozen_gate(cluster: Cluster, namespace: str) -> None:
    """A gate Frozen by its policy (no Prometheus: budgets unknown, onUnknown: block) over the Deployment api."""
    cluster.apply(
        availability_plan("checkout", namespace, 99.9, "checkout-budget"),
        policy(namespace, on_unknown="block"),
        gate(namespace),
        deployment(namespace),
    )

    def state() -> str:
        status = cluster.get("-n", namespace, "releasegate", "checkout").get("status") or {}
        return str(status.get("state", ""))

    eventually(lambda: state() == "Frozen", 120, "the gate Frozen")


def release_dry_run(cluster: Cluster, namespace: str) -> subprocess.CompletedProcess[str]:
    """A new image for the gated Deployment, asked of the API server with a server-side dry run: the webhook
    judges it as a real change."""
    return cluster.kubectl(
        "-n", namespace, "set", "image", "deployment/api", f"api={OTHER_IMAGE}", "--dry-run=server", check=False
    )


def operator_pods(cluster: Cluster) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = cluster.get(
        "-n", RELEASE_NAMESPACE, "pods", "-l", f"app.kubernetes.io/instance={RELEASE}"
    )["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
    return conditions.get("Ready") == "True"


def pod_log(cluster: Cluster, pod: str) -> str:
    return cluster.kubectl("-n", RELEASE_NAMESPACE, "logs", pod, check=False).stdout


def gate_answer(cluster: Cluster, pod: str, namespace: str) -> dict[str, Any]:
    """The gate API of one pod, through the API server's proxy."""
    path = f"/api/v1/namespaces/{RELEASE_NAMESPACE}/pods/{pod}:8080/proxy/v1/gates/{namespace}/checkout"
    answer: dict[str, Any] = json.loads(cluster.kubectl("get", "--raw", path).stdout)
    return answer


def test_two_replicas_give_one_verdict_and_the_standby_takes_over(cluster: Cluster, namespace: str) -> None:
    cluster.install("replicas=2", "peering.enabled=true", "webhook.failurePolicy=Fail", standby=True)

    def one_active_of_two() -> list[dict[str, Any]] | None:
        pods = operator_pods(cluster)
        return pods if len(pods) == 2 and sum(is_ready(p) for p in pods) == 1 else None

    # Until a replica is active and has loaded every gate, Fail refuses every template change (the
    # Deployment's creation too).
    eventually(one_active_of_two, 180, "two operator pods, one of them Ready")
    frozen_gate(cluster, namespace)
    pods = eventually(one_active_of_two, 60, "still one Ready replica of two")
    ready = [p["metadata"]["name"] for p in pods if is_ready(p)]
    assert len(ready) == 1, f"exactly the active replica is Ready (in the Service), not {ready}"
    answer = gate_answer(cluster, ready[0], namespace)
    assert (answer["allowed"], answer["state"]) == (False, "Frozen")

    verdicts = [release_dry_run(cluster, namespace) for _ in range(20)]
    allowed = [v for v in verdicts if v.returncode == 0]
    assert not allowed, f"{len(allowed)} of 20 frozen releases admitted through the Service"

    cluster.kubectl("-n", RELEASE_NAMESPACE, "delete", "pod", ready[0], "--wait=false")
    standby = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"] != ready[0])
    during: list[subprocess.CompletedProcess[str]] = []

    def standby_active() -> bool:
        during.append(release_dry_run(cluster, namespace))
        return any(p["metadata"]["name"] == standby and is_ready(p) for p in operator_pods(cluster))

    eventually(standby_active, 60, "the standby Ready after the active pod was deleted", every=0.5)

    def judged_by_the_new_active() -> bool:
        during.append(release_dry_run(cluster, namespace))
        return f"release gate {namespace}/checkout" in during[-1].stderr  # the Service routes to it

    eventually(judged_by_the_new_active, 60, "the new active replica judging through the Service", every=0.5)
    assert not [v for v in during if v.returncode == 0], "a frozen release was admitted during the takeover"
    assert gate_answer(cluster, standby, namespace)["state"] == "Frozen"

    # The pod that replaces the deleted one joins as the standby: it never pauses the active replica.
    pods = eventually(one_active_of_two, 60, "the replacement pod running beside the new active replica")
    replacement = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"] != standby)
    eventually(lambda: "standing by" in pod_log(cluster, replacement), 60, "the replacement's log saying it stands by")
    assert [p["metadata"]["name"] for p in operator_pods(cluster) if is_ready(p)] == [standby]


def test_an_operator_scaled_to_zero_locks_only_gated_namespaces(cluster: Cluster, namespace: str) -> None:
    cluster.install("webhook.failurePolicy=Fail")
    frozen_gate(cluster, namespace)
    cluster.kubectl("-n", RELEASE_NAMESPACE, "scale", f"deployment/{RELEASE}", "--replicas=0")
    eventually(lambda: not cluster.get("-n", RELEASE_NAMESPACE, "pods")["items"], 120, "the operator's pods gone")
    try:
        refused = release_dry_run(cluster, namespace)
        assert refused.returncode != 0 and "release-gate.reliability.dev" in refused.stderr, refused.stderr
        # Only pod-template changes go to the webhook (its match conditions): scaling needs no operator.
        cluster.kubectl("-n", namespace, "scale", "deployment/api", "--replicas=2")
        # kube-system and the operator's own namespace never go to the webhook, even labelled for gates (as a
        # label on every namespace would make them): the cluster can still heal and the operator be changed.
        for system in ("kube-system", RELEASE_NAMESPACE):
            cluster.kubectl("label", "namespace", system, f"{GATES_LABEL}=enabled", "--overwrite")
        cluster.apply(deployment("kube-system", name="e2e-still-deploys", image=PAUSE_IMAGE))
        cluster.kubectl("-n", "kube-system", "delete", "deployment", "e2e-still-deploys")
        cluster.kubectl("-n", RELEASE_NAMESPACE, "rollout", "restart", f"deployment/{RELEASE}")  # a template change
    finally:
        for system in ("kube-system", RELEASE_NAMESPACE):
            cluster.kubectl("label", "namespace", system, f"{GATES_LABEL}-", check=False)
        cluster.kubectl("-n", RELEASE_NAMESPACE, "scale", f"deployment/{RELEASE}", "--replicas=1")
    cluster.kubectl("-n", RELEASE_NAMESPACE, "rollout", "status", f"deployment/{RELEASE}", "--timeout=180s")
    refused = release_dry_run(cluster, namespace)
    assert refused.returncode != 0 and f"release gate {namespace}/checkout" in refused.stderr, refused.stderr


def ready_plans(cluster: Cluster, namespace: str) -> int:
    plans = cluster.get("-n", namespace, "srp")["items"]
    return sum(
        1
        for plan in plans
        if (plan.get("status") or {}).get("observedGeneration") == plan["metadata"]["generation"]
        and {c["type"]: c["status"] for c in plan["status"].get("conditions", [])}.get("Ready") == "True"
    )


PLANS = 200


def test_the_operator_pod_deleted_while_200_plans_reconcile(cluster: Cluster, namespace: str) -> None:
    cluster.install()
    cluster.apply(*(availability_plan(f"service-{i}", namespace, 99.9, "budget") for i in range(PLANS)))
    eventually(lambda: ready_plans(cluster, namespace) >= 20, 120, "the first plans Ready")
    pod = operator_pods(cluster)[0]["metadata"]["name"]
    cluster.kubectl("-n", RELEASE_NAMESPACE, "delete", "pod", pod, "--wait=false")
    eventually(lambda: ready_plans(cluster, namespace) == PLANS, 420, f"all {PLANS} plans Ready at their generation")
    rules = cluster.get("-n", namespace, "prometheusrules")["items"]
    owners = [r["metadata"]["ownerReferences"][0]["name"] for r in rules]
    assert sorted(owners) == sorted(f"service-{i}" for i in range(PLANS)), "a plan with no rule, or with two"


def test_the_operator_recovers_by_itself_after_the_control_plane_restarts(cluster: Cluster, namespace: str) -> None:
    cluster.install()
    subprocess.run(["docker", "restart", cluster.node_container()], check=True, capture_output=True, timeout=300)
    eventually(
        lambda: cluster.kubectl("get", "--raw", "/readyz", check=False).returncode == 0, 180, "the API server back"
    )
    cluster.apply(availability_plan("after-restart", namespace, 99.9, "budget"))
    eventually(lambda: ready_plans(cluster, namespace) == 1, 300, "a plan made after the restart Ready")
    eventually(lambda: all(is_ready(p) for p in operator_pods(cluster)), 180, "the operator Ready again")
