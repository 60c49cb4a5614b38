"""`kubectl sre` as a user runs it: kubectl finds the plugin on PATH, against the real API server and a running
operator. Without a Prometheus the operator knows no budget and the policy's ``onUnknown: block`` freezes the
gate, which drives status and override end to end; budgets from a live Prometheus are proven in tests/budgets.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sre_operator.timestamps import parse_rfc3339
from tests.support.controlplane import ControlPlane
from tests.support.operator import operator_in_process, wait_for

pytestmark = pytest.mark.controlplane
NAMESPACE = "plugin"
AUTHOR = "alice"


def documents(on_unknown: str) -> list[dict[str, Any]]:
    indicator = {"ratio": {"errors": 'http_requests_total{code=~"5.."}', "total": "http_requests_total"}}
    plan = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": "checkout", "namespace": NAMESPACE},
        "spec": {
            "service": {"name": "checkout", "owner": {"team": "payments"}},
            "slos": [{"name": "availability", "objective": 99.9, "indicator": indicator}],
            "release": {"policyRef": "checkout-budget"},
        },
    }
    policy = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "checkout-budget", "namespace": NAMESPACE},
        "spec": {
            "rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}],
            "onUnknown": on_unknown,
        },
    }
    gate = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"name": "checkout", "namespace": NAMESPACE},
        "spec": {"planRef": {"name": "checkout"}, "targets": [{"kind": "Deployment", "name": "api"}]},
    }
    return [plan, policy, gate]


def kubectl_sre_command(plane: ControlPlane, *args: str, kubeconfig: Path | None = None) -> dict[str, Any]:
    """``kubectl sre ...``: kubectl itself, with the plugin's folder (this virtual environment's) on PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [str(plane.binaries / "kubectl"), "sre", *args, "--kubeconfig", str(kubeconfig or plane.kubeconfig)]
    return {"args": command, "env": env, "text": True}


def kubectl_sre(plane: ControlPlane, *args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = kubectl_sre_command(plane, *args, kubeconfig=kubeconfig)
    return subprocess.run(**command, capture_output=True, timeout=120, check=False)


class Watching:
    """``kubectl sre get ... -w`` running, its lines collected as it prints them."""

    def __init__(self, plane: ControlPlane, *args: str) -> None:
        self.process = subprocess.Popen(**kubectl_sre_command(plane, *args), stdout=subprocess.PIPE)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def gate_status(plane: ControlPlane) -> dict[str, Any]:
    found = plane.kubectl("-n", NAMESPACE, "get", "releasegate", "checkout", "-o", "json", check=True)
    status: dict[str, Any] = json.loads(found.stdout).get("status") or {}
    return status


def test_status_override_and_why_through_kubectl(control_plane: ControlPlane) -> None:
    plane = control_plane
    plane.kubectl("create", "namespace", NAMESPACE)
    assert plane.apply(documents(on_unknown="block")).returncode == 0
    alice = plane.user_kubeconfig(AUTHOR)
    with operator_in_process(plane.kubeconfig) as running:
        wait_for(lambda: gate_status(plane).get("state") == "Frozen", timeout=60, what="the gate to freeze")

        frozen = kubectl_sre(plane, "status", "checkout", "-n", NAMESPACE)
        assert frozen.returncode == 1, frozen.stderr
        assert frozen.stdout.startswith("checkout: Frozen:")

        why = kubectl_sre(plane, "why", "checkout", "-n", NAMESPACE)
        assert why.returncode == 0, why.stderr
        assert "ReleaseGate plugin/checkout: Frozen (denied)" in why.stdout
        assert "once the budgets can be read again" in why.stdout
        assert "kubectl sre override checkout -n plugin" in why.stdout

        listed = kubectl_sre(plane, "get", "gates", "-n", NAMESPACE, "-o", "json")
        assert listed.returncode == 0, listed.stderr
        (row,) = json.loads(listed.stdout)
        assert (row["name"], row["state"], row["allowed"]) == ("checkout", "Frozen", "false")

        # --wait returns 0 once the gate opens: an override added meanwhile by alice opens it. A `get -w` started
        # before prints the gate's row again when it changes.
        watching = Watching(plane, "get", "gates", "-n", NAMESPACE, "-w")
        wait_for(lambda: any("Frozen" in line for line in watching.lines), timeout=30, what="the watched table")
        assert watching.lines[0].split()[:3] == ["NAME", "STATE", "BUDGET"]
        waiting: list[subprocess.CompletedProcess[str]] = []
        waiter = threading.Thread(
            target=lambda: waiting.append(
                kubectl_sre(plane, "status", "checkout", "-n", NAMESPACE, "--wait", "--timeout", "90s")
            )
        )
        waiter.start()
        before = datetime.datetime.now(datetime.UTC)
        added = kubectl_sre(plane, "override", "checkout", "-n", NAMESPACE, "--reason", "INC-9 fix", "--for", "2h",
                            kubeconfig=alice)  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "overridden by alice" in added.stdout
        waiter.join(120)
        assert waiting and waiting[0].returncode == 0, waiting and waiting[0].stdout
        assert waiting[0].stdout.startswith("checkout: Open:")
        try:
            wait_for(lambda: watching.lines[-1].split()[:2] == ["checkout", "Open"], timeout=30, what="the row again")
            assert watching.process.poll() is None, "-w keeps watching"
            assert not any(line.startswith("NAME") for line in watching.lines[1:]), "rows again, not a new table"
        finally:
            watching.stop()

        gate = json.loads(plane.kubectl("-n", NAMESPACE, "get", "releasegate", "checkout", "-o", "json").stdout)
        (override,) = gate["spec"]["overrides"]
        assert (override["by"], override["reason"]) == (AUTHOR, "INC-9 fix")  # the author as the API server knows her
        expires = parse_rfc3339(override["expires"])
        assert datetime.timedelta(hours=2) - datetime.timedelta(seconds=5) <= expires - before
        assert expires - before <= datetime.timedelta(hours=2, seconds=60)
        status = gate["status"]
        assert status["state"] == "Open"
        assert f"by {AUTHOR} until {override['expires']}" in status["override"]
        events = plane.kubectl("-n", NAMESPACE, "get", "events", "-o", "json", check=True)
        messages = [
            e["message"] for e in json.loads(events.stdout)["items"] if e["involvedObject"]["name"] == "checkout"
        ]
        assert any(f"override by {AUTHOR} until {override['expires']}" in m for m in messages), messages
        # The gate's history keeps the freeze, the override's start and the reopening, newest first.
        events_kept = [entry["event"] for entry in status["history"]]
        assert events_kept[:2] == ["override-started", "Open"] and "Frozen" in events_kept[2:], status["history"]

        opened = kubectl_sre(plane, "status", "checkout", "-n", NAMESPACE)
        assert opened.returncode == 0, opened.stdout

        slos = kubectl_sre(plane, "get", "-n", NAMESPACE)
        assert slos.returncode == 0, slos.stderr
        header, *rows = slos.stdout.splitlines()
        assert header.split()[:3] == ["PLAN", "SLO", "OBJECTIVE"]
        assert rows and rows[0].split()[:3] == ["checkout", "availability", "99.9%"]
        assert "checkout=Open" in rows[0]

        # The web view reads the same state: the gate's page shows the override's author and reason.
        with urllib.request.urlopen(f"{running.http}/ui/gates", timeout=10) as answer:
            page = answer.read().decode()
        assert 'data-testid="gate-state-plugin-checkout">Open<' in page
        assert "alice" in page and "INC-9 fix" in page

        explained = kubectl_sre(plane, "explain", "checkout/availability", "-n", NAMESPACE)
        assert explained.returncode == 0, explained.stderr
        assert "record slo:error_budget_remaining:ratio:" in explained.stdout
        assert "alert SLOErrorBudgetFastBurn:" in explained.stdout


def test_unknown_objects_and_a_bad_duration_are_one_line_errors(control_plane: ControlPlane) -> None:
    plane = control_plane
    missing = kubectl_sre(plane, "status", "nope", "-n", "default")
    assert missing.returncode == 3
    assert missing.stderr.strip() == 'error: ReleaseGate "nope" not found in namespace "default"'
    bad = kubectl_sre(plane, "override", "nope", "-n", "default", "--reason", "x", "--for", "soon")
    assert bad.returncode == 3
    assert bad.stderr.strip() == "error: --for 'soon' is not a duration such as 30m or 2h"
    assert "Traceback" not in missing.stderr + bad.stderr
