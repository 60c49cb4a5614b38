"""An API server outage mid-run, as a cluster's operator sees one: every duty comes back by itself.

kube-apiserver is stopped for 20 seconds and started again on the same port and etcd. While it is down a
duty fails and ``/healthz`` says 503; afterwards a new plan becomes Ready, a deleted child comes back, a
fixed workload's capacity risks clear, a new gate gets a state, a report due is written, and ``/healthz``
is 200 again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, require_program
from tests.handlers.test_capacity import deployment, risks
from tests.support.controlplane import ControlPlane
from tests.support.gates import blocking_gate
from tests.support.operator import RunningOperator, operator_in_process, request, wait_for
from tests.support.prometheus import LivePrometheus

pytestmark = pytest.mark.controlplane
NAMESPACE = "outage"
OPERATOR_USER = "sre-operator-outage"
OUTAGE_SECONDS = 20


def in_namespace(document: dict[str, Any]) -> dict[str, Any]:
    document["metadata"]["namespace"] = NAMESPACE
    return document


def checkout_plan() -> dict[str, Any]:
    return in_namespace(yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text("utf-8")))


def reporting_plan() -> dict[str, Any]:
    plan = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text("utf-8"))
    plan["metadata"]["name"] = "after-the-outage"
    plan["spec"]["service"]["name"] = "after-the-outage"
    plan["spec"]["reporting"] = {"cadence": "daily"}
    return in_namespace(plan)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePrometheus]:
    """An empty Prometheus: reports of periods it has no data for are still due, and say so."""
    binary = require_program("prometheus", "bash scripts/test.sh installs Debian's 'prometheus' package")
    promtool = require_program("promtool", "bash scripts/test.sh installs Debian's 'prometheus' package")
    server = LivePrometheus(binary, promtool, tmp_path_factory.mktemp("empty-prometheus"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def get(plane: ControlPlane, resource: str, name: str) -> dict[str, Any] | None:
    found = plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json")
    return json.loads(found.stdout) if found.returncode == 0 else None


def ready_at_generation(plane: ControlPlane, name: str) -> bool:
    body = get(plane, "srp", name) or {}
    status = body.get("status") or {}
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
    return ready and status.get("observedGeneration") == body["metadata"]["generation"]


def health(running: RunningOperator) -> int:
    try:
        return request(running.http + "/healthz")[0]
    except OSError:
        return 0


def test_every_duty_comes_back_after_an_api_server_outage(
    control_plane: ControlPlane, prometheus: LivePrometheus
) -> None:
    plane = control_plane
    plane.kubectl("create", "namespace", NAMESPACE)
    assert plane.apply([checkout_plan(), in_namespace(deployment(1, probe=False))]).returncode == 0
    with operator_in_process(
        plane.user_kubeconfig(OPERATOR_USER),
        CAPACITY_INTERVAL="5",
        REPORT_INTERVAL="3",
        EVALUATION_INTERVAL="2",
        PROMETHEUS_URL=prometheus.url,
    ) as running:
        wait_for(lambda: ready_at_generation(plane, "checkout"), timeout=60, what="plan checkout Ready")
        wait_for(lambda: risks(plane, NAMESPACE)[1] == "False", timeout=60, what="the capacity risks reported")
        code, body = request(running.http + "/healthz")
        assert code == 200, body

        plane.stop_process("kube-apiserver")
        seen: set[int] = set()
        down_until = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < down_until:
            seen.add(health(running))
            time.sleep(0.5)
        plane.start_process("kube-apiserver")
        assert 503 in seen, f"/healthz answered {sorted(seen)} while the API server was down"

        budget = in_namespace(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "checkout-api"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "checkout-api"}}},
            }
        )
        assert plane.apply([in_namespace(deployment(2, probe=True)), budget]).returncode == 0
        assert (
            plane.apply(
                [reporting_plan(), *blocking_gate(NAMESPACE, "after-the-outage", "after-the-outage", "batch")]
            ).returncode
            == 0
        )
        runbooks = next(
            g["name"] for g in get(plane, "srp", "checkout")["status"]["generated"] if g["name"].endswith("runbooks")
        )
        assert plane.kubectl("-n", NAMESPACE, "delete", "configmap", runbooks).returncode == 0

        # One interval of the slowest duty's backoff at most (a minute), then each as it would be without an outage.
        wait_for(lambda: risks(plane, NAMESPACE)[1] == "True", timeout=90, what="the fixed workload's risks cleared")
        wait_for(lambda: ready_at_generation(plane, "after-the-outage"), timeout=90, what="the new plan Ready")
        wait_for(lambda: get(plane, "configmap", runbooks), timeout=90, what="the deleted child restored")
        wait_for(
            lambda: ((get(plane, "rgate", "after-the-outage") or {}).get("status") or {}).get("state") == "Frozen",
            timeout=90,
            what="the new gate decided (Frozen: its budgets are unknown and onUnknown is block)",
        )
        report = wait_for(
            lambda: get(plane, "configmap", "after-the-outage-reports"), timeout=90, what="the daily report written"
        )
        assert isinstance(report, dict) and "daily.md" in report["data"]
        wait_for(lambda: health(running) == 200, timeout=90, what="/healthz 200 again")
        code, body = request(running.http + "/healthz")
        assert code == 200 and set(body["duties"].values()) == {"up"}, body
