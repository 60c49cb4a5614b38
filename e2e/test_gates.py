"""Budgets and gates through the cluster, as users run them: a Prometheus holding a month of backfilled
history, read by the operator through the chart's ``prometheus.url``; the webhook called by the API server
through its Service with ``failurePolicy: Fail``."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_program
from tests.support.controlplane import free_port
from tests.support.prometheus import LivePrometheus, Traffic, availability_plan

from e2e.conftest import GATES_LABEL, OTHER_IMAGE, PAUSE_IMAGE, Cluster, eventually
from e2e.objects import deployment, gate, policy
from sre_operator.generate import rule_groups
from sre_operator.models import ServiceReliabilityPlan

NAMESPACE = "e2e-gates"
SERVICE = "checkout"
OBJECTIVE = 99.9
# Against a 0.1% budget: twice over spent, and untouched.
HISTORIES = {"recovered": 0.0, "spent": 0.002}
AHEAD = 900
"""The histories run this far past their making, so that they are current for the whole test (Prometheus
answers "now" from the last sample of the 5 minutes before it)."""


def kind_gateway() -> str:
    """The host's address on kind's Docker network: the pods reach a Prometheus listening there."""
    answer = subprocess.run(
        ["docker", "network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return next(address for address in answer.stdout.split() if "." in address)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LivePrometheus]]:
    """Two Prometheus data folders for the same service on the same address, one at a time: its budget
    recovered, and spent."""
    binary = require_program("prometheus", "bash scripts/test.sh installs Debian's 'prometheus' package")
    promtool = require_program("promtool", "bash scripts/test.sh installs Debian's 'prometheus' package")
    plan = ServiceReliabilityPlan.model_validate(availability_plan(SERVICE, NAMESPACE, OBJECTIVE, "checkout-budget"))
    host, port = kind_gateway(), free_port()
    made: dict[str, LivePrometheus] = {}
    try:
        for name, error_ratio in HISTORIES.items():
            server = LivePrometheus(binary, promtool, Path(tmp_path_factory.mktemp(name)), port=port, host=host)
            made[name] = server
            server.backfill(
                [Traffic(SERVICE, 10.0, error_ratio)], rule_groups(plan), end=int(time.time()) // 60 * 60 + AHEAD
            )
            server.stop()
        yield made
    finally:
        for server in made.values():
            server.stop()


def serve(histories: dict[str, LivePrometheus], name: str) -> None:
    for server in histories.values():
        server.stop()
    histories[name].start()


def gate_state(cluster: Cluster) -> str:
    status = cluster.get("-n", NAMESPACE, "releasegate", "checkout").get("status") or {}
    return str(status.get("state", ""))


def set_image(cluster: Cluster, image: str) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl("-n", NAMESPACE, "set", "image", "deployment/api", f"api={image}", check=False)


def test_a_spent_budget_freezes_releases_through_the_webhook_service(
    cluster: Cluster, histories: dict[str, LivePrometheus]
) -> None:
    serve(histories, "recovered")
    url = histories["recovered"].url
    cluster.install(f"prometheus.url={url}", "evaluationInterval=5", "webhook.failurePolicy=Fail")
    cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", NAMESPACE)
    cluster.kubectl("label", "namespace", NAMESPACE, f"{GATES_LABEL}=enabled")
    try:
        cluster.apply(
            availability_plan(SERVICE, NAMESPACE, OBJECTIVE, "checkout-budget"),
            policy(NAMESPACE, on_unknown="block"),
            gate(NAMESPACE),
            deployment(NAMESPACE),
        )
        eventually(lambda: gate_state(cluster) == "Open", 120, "the gate Open on a recovered budget")
        assert set_image(cluster, OTHER_IMAGE).returncode == 0, "an open gate refused a release"

        serve(histories, "spent")
        eventually(lambda: gate_state(cluster) == "Frozen", 120, "the gate Frozen on a spent budget")
        refused = set_image(cluster, PAUSE_IMAGE.replace(":1", ":2"))
        assert refused.returncode != 0 and f"release gate {NAMESPACE}/checkout" in refused.stderr, refused.stderr
        cluster.kubectl("-n", NAMESPACE, "scale", "deployment/api", "--replicas=2")  # scaling passes
        cluster.kubectl("-n", NAMESPACE, "rollout", "undo", "deployment/api")  # a rollback passes
        image = cluster.get("-n", NAMESPACE, "deployment", "api")["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == PAUSE_IMAGE

        serve(histories, "recovered")
        eventually(lambda: gate_state(cluster) == "Open", 240, "the gate reopened a minute after the budget recovered")
        assert set_image(cluster, OTHER_IMAGE).returncode == 0, "a reopened gate refused a release"

        for server in histories.values():
            server.stop()  # Prometheus gone: the policy's onUnknown (block) decides, and holds
        eventually(lambda: gate_state(cluster) == "Frozen", 120, "the gate Frozen when budgets cannot be read")
        seen = {gate_state(cluster) for _ in range(10) if time.sleep(1) is None}
        assert seen == {"Frozen"}, f"the gate flapped while Prometheus was down: {seen}"
    finally:
        cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
