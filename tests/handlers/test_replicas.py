"""Several replicas and hard kills, on a control plane of their own: every answer a replica gives is the
active one's, a standby takes over within 30 seconds, and a restart loses nothing.

The replicas are ``sre-operator run`` processes with ``--peering`` (kopf's peering, as the chart runs them).
Admission reviews are posted to each replica's webhook port directly, as the API server would through the
Service: a replica that is not the active one, or not loaded yet, must give no verdict (an error, so the
webhook's ``failurePolicy`` decides), never ``allowed: true``.
"""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DATA, ROOT
from tests.gates.test_admission import new_image
from tests.support.controlplane import (
    HOW_TO_PROVIDE,
    ControlPlane,
    find_binaries,
    install_crds,
    read_crds,
    start_control_plane,
)
from tests.support.gates import blocking_gate
from tests.support.operator import RunningOperator, addresses, operator_subprocess, request, wait_for

pytestmark = pytest.mark.controlplane
NAMESPACE = "peered"
PEERING = "sre-operator"
TAKEOVER_SECONDS = 30
UNVERIFIED = ssl._create_unverified_context()  # each replica serves its own self-signed pair


def peering_objects() -> list[dict[str, Any]]:
    """kopf's peering CRDs, as the chart's peering.yaml renders them (no peering object: the operator creates it)."""
    crds = [
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.kopf.dev"},
            "spec": {
                "group": "kopf.dev",
                "scope": scope,
                "names": {"kind": kind, "plural": plural, "singular": plural[:-1]},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                                },
                            }
                        },
                    }
                ],
            },
        }
        for kind, plural, scope in (
            ("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"),
            ("KopfPeering", "kopfpeerings", "Namespaced"),
        )
    ]
    return crds


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(HOW_TO_PROVIDE)
    folder = tmp_path_factory.mktemp("replicas")
    control_plane = start_control_plane(folder, binaries, garbage_collector=False)
    try:
        crds = read_crds([*sorted((ROOT / "crds").glob("*.yaml")), *sorted((DATA / "crds").glob("*.yaml"))])
        install_crds(control_plane, [*crds, *peering_objects()])
        control_plane.kubectl("create", "namespace", NAMESPACE, check=True)
        yield control_plane
    finally:
        control_plane.stop()


def frozen_gate() -> list[dict[str, Any]]:
    """A plan, a policy that blocks while budgets are unknown (no Prometheus here) and its gate: Frozen."""
    plan = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text("utf-8"))
    plan["metadata"].update(name="checkout", namespace=NAMESPACE)
    plan["spec"]["service"]["name"] = "checkout"
    return [plan, *blocking_gate(NAMESPACE, "checkout", "checkout", "checkout-api")]


def a_new_image() -> dict[str, Any]:
    request_body = new_image()
    request_body["namespace"] = NAMESPACE
    for side in ("object", "oldObject"):
        request_body[side]["metadata"]["namespace"] = NAMESPACE
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request_body}


def verdict(replica: RunningOperator) -> str:
    """``denied``, ``allowed``, ``no verdict`` (an error status: failurePolicy decides) or ``down``."""
    try:
        status, body = request(replica.webhook + "/validate/release-gate", "POST", a_new_image(), context=UNVERIFIED)
    except OSError:
        return "down"
    if status != 200:
        return "no verdict"
    return "allowed" if body["response"]["allowed"] else "denied"


def gate_answer(replica: RunningOperator) -> tuple[int, Any]:
    try:
        return request(replica.http + f"/v1/gates/{NAMESPACE}/checkout")
    except OSError:
        return 0, None


def ready(replica: RunningOperator) -> bool:
    try:
        return request(replica.http + "/readyz")[0] == 200
    except OSError:
        return False


@contextmanager
def replica(plane: ControlPlane, name: str) -> Iterator[tuple[RunningOperator, subprocess.Popen[bytes]]]:
    flags, running = addresses()
    extra = ["--peering", PEERING, "--evaluation-interval", "1", *flags]
    with operator_subprocess(plane.kubeconfig, plane.folder / f"{name}.log", *extra) as process:
        yield running, process


def test_every_replica_enforces_and_a_standby_takes_over_within_30_seconds(plane: ControlPlane) -> None:
    assert plane.apply(frozen_gate()).returncode == 0
    with ExitStack() as stack:
        first = stack.enter_context(replica(plane, "replica-a"))
        second = stack.enter_context(replica(plane, "replica-b"))
        replicas = [first, second]
        wait_for(lambda: any(ready(r) for r, _ in replicas), timeout=90, what="one replica ready")
        time.sleep(3)  # a few peering touches: the other has seen it and stands by
        (active, active_process), (standby, _) = sorted(replicas, key=lambda r: not ready(r[0]))
        assert ready(active) and not ready(standby), "exactly one replica is in the Service"
        peering = json.loads(plane.kubectl("get", "clusterkopfpeering", PEERING, "-o", "json", check=True).stdout)
        assert len(peering["status"]) == 2, "both replicas keep the peering object the operator created alive"
        assert gate_answer(active)[1]["state"] == "Frozen"
        for _ in range(10):
            assert verdict(active) == "denied"
            assert verdict(standby) == "no verdict"
            assert gate_answer(standby)[0] == 503

        active_process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        edited = frozen_gate()[0]
        edited["spec"]["slos"][0]["objective"] = 96
        assert plane.apply([edited]).returncode == 0
        seen = []
        while time.monotonic() - killed < TAKEOVER_SECONDS and verdict(standby) != "denied":
            seen.append(verdict(standby))
            time.sleep(0.1)
        took = time.monotonic() - killed
        assert "allowed" not in seen
        assert verdict(standby) == "denied", f"no take-over {took:.0f}s after the kill: {sorted(set(seen))}"
        assert gate_answer(standby)[1]["state"] == "Frozen"

        def reconciled() -> bool:
            body = json.loads(plane.kubectl("-n", NAMESPACE, "get", "srp", "checkout", "-o", "json").stdout)
            return bool(body.get("status", {}).get("observedGeneration") == body["metadata"]["generation"])

        wait_for(reconciled, timeout=max(1.0, TAKEOVER_SECONDS - (time.monotonic() - killed)), what="the edit")
        print(f"take-over: the standby denied {took:.1f}s after the active replica was killed")

        # A replica starting now is asked from the moment its port opens: never an "allowed".
        flags, fresh = addresses()
        log = plane.folder / "replica-c.log"
        extra = ["--peering", PEERING, "--evaluation-interval", "1", *flags]
        with operator_subprocess(plane.kubeconfig, log, *extra):
            answers = []
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                answers.append(verdict(fresh))
                time.sleep(0.1)
            asked = [a for a in answers if a != "down"]
            assert asked and "allowed" not in asked, sorted(set(answers))
            assert set(asked) <= {"no verdict", "denied"}
        assert verdict(standby) in ("denied", "no verdict")


def test_a_replica_watching_one_namespace_peers_through_a_kopfpeering_there(plane: ControlPlane) -> None:
    """With namespaces named, kopf peers through a KopfPeering in each: the operator creates the one here,
    keeps it alive and becomes the active replica through it."""
    assert plane.apply(frozen_gate()).returncode == 0
    flags, running = addresses()
    extra = ["-n", NAMESPACE, "--peering", PEERING, "--evaluation-interval", "1", *flags]
    with operator_subprocess(plane.kubeconfig, plane.folder / "replica-namespaced.log", *extra):
        wait_for(lambda: ready(running), timeout=90, what="the namespaced replica ready")
        found = json.loads(
            plane.kubectl("-n", NAMESPACE, "get", "kopfpeering", PEERING, "-o", "json", check=True).stdout
        )
        assert len(found["status"]) == 1, "the replica keeps the namespace's peering object alive"
        assert verdict(running) == "denied"
        assert gate_answer(running)[1]["state"] == "Frozen"


def plans(count: int) -> str:
    documents = []
    for index in range(count):
        plan = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text("utf-8"))
        plan["metadata"].update(name=f"plan-{index:03d}", namespace="many")
        plan["spec"]["service"]["name"] = f"service-{index:03d}"
        documents.append(plan)
    return yaml.safe_dump_all(documents)


def test_a_killed_operator_restarts_and_loses_nothing(plane: ControlPlane, tmp_path: Path) -> None:
    count = 500
    plane.kubectl("create", "namespace", "many")
    flags, running = addresses()
    with operator_subprocess(plane.kubeconfig, tmp_path / "first.log", *flags) as first:
        wait_for(lambda: ready(running), timeout=60, what="the operator ready")
        mark = plane.audit_mark()
        assert plane.apply(plans(count)).returncode == 0

        def some_ready() -> bool:
            listed = json.loads(plane.kubectl("-n", "many", "get", "srp", "-o", "json").stdout)["items"]
            return sum(1 for p in listed if (p.get("status") or {}).get("generated")) >= count // 5

        wait_for(some_ready, timeout=120, what="a fifth of the plans reconciled")
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The killed process' writes in flight end as "context canceled" at once; what the API server logs from here
    # on is the restarted operator's.
    time.sleep(1)
    restarted = plane.audit_mark()
    flags, running = addresses()
    with operator_subprocess(plane.kubeconfig, tmp_path / "second.log", *flags):

        def all_ready() -> list[dict[str, Any]] | None:
            listed = json.loads(plane.kubectl("-n", "many", "get", "srp", "-o", "json").stdout)["items"]
            done = [
                p
                for p in listed
                if (p.get("status") or {}).get("observedGeneration") == p["metadata"]["generation"]
                and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
            ]
            return listed if len(done) == count else None

        listed = wait_for(all_ready, timeout=300, interval=2, what=f"all {count} plans Ready at their generation")
    assert isinstance(listed, list)
    children = json.loads(
        plane.kubectl("-n", "many", "get", "configmaps,secrets", "-l", "app.kubernetes.io/managed-by=sre-operator",
                      "-o", "json").stdout
    )["items"]  # fmt: skip
    by_plan: dict[str, list[str]] = {}
    for child in children:
        by_plan.setdefault(child["metadata"]["labels"]["reliability.dev/plan"], []).append(
            f"{child['kind']} {child['metadata']['name']}"
        )
    for plan in listed:
        wanted = sorted(
            f"{g['kind']} {g['name']}" for g in plan["status"]["generated"] if g["kind"] != "PrometheusRule"
        )
        assert sorted(by_plan.get(plan["metadata"]["name"], [])) == wanted, plan["metadata"]["name"]
        assert plan["status"]["assumptions"], "every status field the reconcile writes is there"

    # No status write was lost. The killed operator's writes in flight failed (the assertions above show their
    # plans' statuses complete: the restart rewrote what was missing, or found nothing missing and wrote
    # nothing); every status patch of the restarted operator that failed was followed by a good one.
    def status_patches(since: int) -> list[dict[str, Any]]:
        return [
            e for e in plane.requests_since(since)
            if e["verb"] == "patch" and e.get("objectRef", {}).get("subresource") == "status"
        ]  # fmt: skip

    last_good: dict[str, str] = {}
    for entry in status_patches(mark):
        if entry.get("responseStatus", {}).get("code", 200) < 300:
            last_good[entry["objectRef"]["name"]] = entry["stageTimestamp"]
    lost = [
        e["objectRef"]["name"]
        for e in status_patches(restarted)
        if e.get("responseStatus", {}).get("code", 200) >= 300
        and e.get("responseStatus", {}).get("code") != 409  # a conflict is read again and written: guarded writes
        and last_good.get(e["objectRef"]["name"], "") <= e["stageTimestamp"]
    ]
    assert lost == []


def test_what_changed_while_no_operator_ran_is_repaired_at_start(plane: ControlPlane, tmp_path: Path) -> None:
    """No replica was running while a generated child was deleted and another edited: the next one to start
    puts both back (it resumes every plan from a paged list, not through kopf's queues) and says so in Events."""
    plane.kubectl("create", "namespace", "stopped", check=True)
    plan = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text("utf-8"))
    plan["metadata"].update(name="nightly", namespace="stopped")

    def child(resource: str, name: str) -> dict[str, Any] | None:
        found = plane.kubectl("-n", "stopped", "get", resource, name, "-o", "json")
        return json.loads(found.stdout) if found.returncode == 0 else None

    flags, running = addresses()
    with operator_subprocess(plane.kubeconfig, tmp_path / "before.log", *flags):
        wait_for(lambda: ready(running), timeout=60, what="the operator ready")
        assert plane.apply([plan]).returncode == 0
        wait_for(lambda: child("configmap", "nightly-runbooks"), timeout=60, what="the plan's children")
    original = child("configmap", "nightly-operations")
    assert original is not None
    plane.kubectl("-n", "stopped", "delete", "configmap", "nightly-runbooks", check=True)
    hijacked = json.dumps({"data": {key: "hijacked" for key in original["data"]}})
    plane.kubectl(
        "-n", "stopped", "patch", "configmap", "nightly-operations", "--type=merge", "-p", hijacked, check=True
    )

    flags, running = addresses()
    with operator_subprocess(plane.kubeconfig, tmp_path / "after.log", *flags):
        wait_for(lambda: child("configmap", "nightly-runbooks"), timeout=60, what="the deleted child back")
        wait_for(
            lambda: (child("configmap", "nightly-operations") or {}).get("data") == original["data"],
            timeout=60,
            what="the edited child restored",
        )

        def reasons() -> set[str] | None:
            listed = plane.kubectl(
                "-n", "stopped", "get", "events", "-o", "json", "--field-selector", "involvedObject.name=nightly"
            )  # fmt: skip
            found = {e["reason"] for e in json.loads(listed.stdout)["items"]}
            return found if {"Restored", "Updated"} <= found else None

        wait_for(reasons, timeout=30, what="Restored and Updated events on the plan")
    log = (tmp_path / "after.log").read_text("utf-8")
    assert "Traceback" not in log and "every plan resumed" in log, log[-3000:]
