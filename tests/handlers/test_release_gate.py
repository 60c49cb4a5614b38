"""Release gates enforced by the real API server: the webhook registered through `sre-operator webhook-config`,
kubectl as a user runs it, and kube-controller-manager's deployment controller making real ReplicaSets.

Without a Prometheus the operator knows no budget, so each policy's ``onUnknown`` decides: ``block`` freezes
the gate with that reason, ``allow`` opens it. That drives every enforcement case without faking a budget;
budgets read from a live Prometheus are proven in tests/budgets.
"""

from __future__ import annotations

import datetime
import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.controlplane import ControlPlane
from tests.support.operator import RunningOperator, operator_in_process, request, wait_for

pytestmark = pytest.mark.controlplane
NAMESPACE = "gated"
OPERATOR_USER = "sre-operator-gates"


def plan() -> dict[str, Any]:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": "checkout", "namespace": NAMESPACE},
        "spec": {
            "service": {"name": "checkout", "owner": {"team": "payments"}},
            "slos": [
                {
                    "name": "availability",
                    "objective": 99.9,
                    "indicator": {
                        "ratio": {"errors": 'http_requests_total{code=~"5.."}', "total": "http_requests_total"}
                    },
                }
            ],
            "release": {"policyRef": "checkout-budget"},
        },
    }


def policy(on_unknown: str) -> dict[str, Any]:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "checkout-budget", "namespace": NAMESPACE},
        "spec": {
            "rules": [{"name": "freeze", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}],
            "exceptions": {"changeClasses": ["hotfix", "security"]},
            "onUnknown": on_unknown,
        },
    }


def gate(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"name": "checkout", "namespace": NAMESPACE},
        "spec": {"planRef": {"name": "checkout"}, "targets": [{"kind": "Deployment", "name": "api"}], **spec},
    }


def deployment(image: str) -> dict[str, Any]:
    labels = {"app": "checkout"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "api", "image": image}]}},
        },
    }


@pytest.fixture(scope="module")
def gated(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOperator]:
    if not control_plane.has_garbage_collector:
        pytest.skip("kube-controller-manager is not among the control-plane binaries: no ReplicaSets, no rollbacks")
    pair = control_plane.webhook_serving_pair("release-gate-webhook")
    cert_dir = tmp_path_factory.mktemp("webhook-tls")
    (cert_dir / "tls.crt").write_bytes(pair.cert.read_bytes())
    (cert_dir / "tls.key").write_bytes(pair.key.read_bytes())
    control_plane.kubectl("create", "namespace", NAMESPACE)
    control_plane.kubectl("label", "namespace", NAMESPACE, "reliability.dev/release-gates=enabled", check=True)
    # Only the API server may call the webhook: it presents a client certificate the plane's CA signed.
    with operator_in_process(
        control_plane.user_kubeconfig(OPERATOR_USER),
        cert_dir=cert_dir,
        EVALUATION_INTERVAL="1",
        WEBHOOK_CLIENT_CA=str(control_plane.ca.cert_path),
    ) as running:
        config = subprocess.run(
            [
                sys.executable,
                "-m",
                "sre_operator.cli",
                "webhook-config",
                "--url",
                running.webhook,
                "--ca-file",
                str(control_plane.ca.cert_path),
                "--failure-policy",
                "Fail",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert control_plane.apply(config).returncode == 0
        try:
            yield running
        finally:
            control_plane.kubectl("delete", "validatingwebhookconfiguration", "sre-operator-release-gates")


def kubectl(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return plane.kubectl("-n", NAMESPACE, *args)


def gate_status(plane: ControlPlane) -> dict[str, Any]:
    result = kubectl(plane, "get", "rgate", "checkout", "-o", "json")
    return dict(json.loads(result.stdout).get("status") or {}) if result.returncode == 0 else {}


def wait_state(plane: ControlPlane, state: str, allowed: bool, running: RunningOperator) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        status = gate_status(plane)
        code, answer = running.get(f"/v1/gates/{NAMESPACE}/checkout")
        in_status = status.get("state") == state and status.get("allowed") is allowed
        if in_status and code == 200 and answer["state"] == state and answer["allowed"] is allowed:
            return status
        return None

    found = wait_for(reached, timeout=30, what=f"gate {state} allowed={allowed}")
    assert isinstance(found, dict)
    return found


def image_of(plane: ControlPlane) -> str:
    body = json.loads(kubectl(plane, "get", "deployment", "api", "-o", "json").stdout)
    return str(body["spec"]["template"]["spec"]["containers"][0]["image"])


def replica_sets(plane: ControlPlane) -> int:
    return len(json.loads(kubectl(plane, "get", "replicasets", "-o", "json").stdout)["items"])


def test_a_frozen_gate_refuses_releases_and_lets_everything_else_through(
    control_plane: ControlPlane, gated: RunningOperator
) -> None:
    plane = control_plane
    assert plane.apply([plan(), policy("allow"), gate()]).returncode == 0
    wait_state(plane, "Open", True, gated)
    assert plane.apply([deployment("shop/checkout:1.0")]).returncode == 0
    assert kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:2.0").returncode == 0
    wait_for(lambda: replica_sets(plane) == 2, what="two ReplicaSets (two revisions) from the deployment controller")

    assert plane.apply([policy("block")]).returncode == 0
    frozen = wait_state(plane, "Frozen", False, gated)
    assert "policy onUnknown blocks releases" in frozen["reason"]

    refused = kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:3.0")
    assert refused.returncode != 0
    assert 'admission webhook "release-gate.reliability.dev" denied the request' in refused.stderr
    assert "release gate gated/checkout: Frozen: budget of availability unknown" in refused.stderr
    predicted = kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:3.0", "--dry-run=server")
    assert (
        predicted.returncode != 0
        and predicted.stderr.split("denied the request: ")[1] == (refused.stderr.split("denied the request: ")[1])
    )
    assert image_of(plane) == "shop/checkout:2.0"

    assert kubectl(plane, "scale", "deployment/api", "--replicas=3").returncode == 0
    undo = kubectl(plane, "rollout", "undo", "deployment/api")
    assert undo.returncode == 0, undo.stderr
    assert image_of(plane) == "shop/checkout:1.0"
    restart = kubectl(plane, "rollout", "restart", "deployment/api")
    assert restart.returncode == 0, restart.stderr

    hotfix = kubectl(
        plane,
        "patch",
        "deployment",
        "api",
        "--type=merge",
        "-p",
        json.dumps(
            {
                "metadata": {"annotations": {"reliability.dev/change-class": "hotfix"}},
                "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "shop/checkout:1.0.1"}]}}},
            }
        ),
    )
    assert hotfix.returncode == 0, hotfix.stderr
    assert image_of(plane) == "shop/checkout:1.0.1"

    # Recorded: the two releases through the open gate (the workload's creation and its new image), the one real
    # denial and the admitted exceptions; the server-side dry run, the scaling and the restart left no trace.
    def recorded() -> list[dict[str, Any]] | None:
        decisions = gate_status(plane).get("lastDecisions") or []
        outcomes = sorted(d["outcome"] for d in decisions)
        return decisions if outcomes == ["admitted", "admitted", "denied", "exception", "exception"] else None

    decisions = wait_for(recorded, what="denial and exceptions in status.lastDecisions")
    assert isinstance(decisions, list)
    assert any("rollback to an earlier revision" in d["message"] for d in decisions)
    assert any("change class 'hotfix'" in d["message"] for d in decisions)
    assert all(d["user"] == "admin" for d in decisions)
    events = json.loads(
        kubectl(
            plane,
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=checkout,involvedObject.kind=ReleaseGate",
            "-o",
            "json",
        ).stdout
    )["items"]
    reasons = [e["reason"] for e in events]
    assert reasons.count("ReleaseDenied") == 1 and reasons.count("ExceptionAdmitted") == 2
    assert reasons.count("ReleaseAdmitted") == 2
    _, metrics = gated.get("/metrics")
    assert 'sre_operator_admissions_total{decision="denied",gate="checkout",namespace="gated"} 1.0' in metrics


def test_an_override_opens_the_gate_and_dry_run_only_warns(control_plane: ControlPlane, gated: RunningOperator) -> None:
    plane = control_plane
    assert plane.apply([plan(), policy("allow"), gate()]).returncode == 0
    wait_state(plane, "Open", True, gated)
    assert plane.apply([deployment("shop/checkout:1.0.1")], "--force-conflicts").returncode == 0
    assert plane.apply([policy("block")]).returncode == 0
    wait_state(plane, "Frozen", False, gated)
    assert kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:4.0").returncode != 0

    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert plane.apply([gate(overrides=[{"reason": "INC-9 fix", "by": "alice", "expires": expires}])]).returncode == 0
    opened = wait_state(plane, "Open", True, gated)
    assert opened["reason"].startswith(f"Open: override by alice until {expires} (INC-9 fix)")
    assert kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:4.0").returncode == 0

    expired = "2026-01-01T00:00:00Z"
    assert plane.apply([gate(overrides=[{"reason": "old", "by": "bob", "expires": expired}])]).returncode == 0
    frozen = wait_state(plane, "Frozen", False, gated)
    assert frozen["expiredOverrides"] == [f"by bob until {expired}: old"]

    assert plane.apply([gate(mode="dryRun")]).returncode == 0
    dry = wait_state(plane, "Frozen", True, gated)
    assert dry["reason"].endswith("(dry run: would block, blocks nothing)")
    warned = kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:5.0")
    assert warned.returncode == 0
    assert "Warning: release gate gated/checkout would block this change (dry run)" in warned.stderr
    predicted = kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:6.0", "--dry-run=server")
    assert predicted.returncode == 0 and "would block this change (dry run)" in predicted.stderr

    assert plane.apply([gate(), policy("allow")]).returncode == 0
    wait_state(plane, "Open", True, gated)
    assert kubectl(plane, "set", "image", "deployment/api", "api=shop/checkout:6.0").returncode == 0
    assert image_of(plane) == "shop/checkout:6.0"


def test_the_gate_api_and_flagger_answer_from_the_gate(control_plane: ControlPlane, gated: RunningOperator) -> None:
    plane = control_plane
    assert plane.apply([plan(), policy("block"), gate()]).returncode == 0
    frozen = wait_state(plane, "Frozen", False, gated)
    code, answer = gated.get(f"/v1/gates/{NAMESPACE}/checkout")
    assert code == 200
    assert {k: answer[k] for k in ("allowed", "state", "reason", "decisionId")} == {
        "allowed": False,
        "state": "Frozen",
        "reason": frozen["reason"],
        "decisionId": frozen["decisionId"],
    }
    assert set(answer) >= {"budgetRemaining", "burnRates"}
    flagger = {"name": "api", "namespace": NAMESPACE, "phase": "Progressing", "metadata": {}}
    assert gated.post(f"/v1/flagger/{NAMESPACE}/checkout", flagger)[0] == 423
    assert plane.apply([policy("allow")]).returncode == 0
    wait_state(plane, "Open", True, gated)
    assert gated.post(f"/v1/flagger/{NAMESPACE}/checkout", flagger)[0] == 200
    assert gated.get(f"/v1/gates/{NAMESPACE}/missing") == (
        404,
        {"error": f"no ReleaseGate {NAMESPACE}/missing known to this operator"},
    )
    assert gated.get("/v1/gates/Bad_Name/x")[0] == 400
    printed = kubectl(plane, "get", "rgate", "checkout").stdout
    assert printed.split("\n")[0].split()[:5] == ["NAME", "STATE", "ALLOWED", "BUDGET", "REASON"]


def test_pause_rollouts_pauses_targets_while_frozen_and_resumes_only_its_own(
    control_plane: ControlPlane, gated: RunningOperator
) -> None:
    plane = control_plane
    worker, theirs = deployment("shop/worker:1"), deployment("shop/batch:1")
    worker["metadata"]["name"], theirs["metadata"]["name"] = "worker", "batch"
    worker["metadata"]["labels"] = theirs["metadata"]["labels"] = {"tier": "backend"}
    theirs["spec"]["paused"] = True  # paused by its team, for reasons of their own
    pauser = gate(targets=[{"kind": "Deployment", "selector": {"matchLabels": {"tier": "backend"}}}])
    pauser["metadata"]["name"] = "pauser"
    pauser["spec"]["enforcement"] = {"admission": False, "pauseRollouts": True}
    assert plane.apply([plan(), policy("allow"), worker, theirs, pauser], "--force-conflicts").returncode == 0

    def spec_of(name: str) -> dict[str, Any]:
        body = json.loads(kubectl(plane, "get", "deployment", name, "-o", "json").stdout)
        return {"paused": body["spec"].get("paused", False), "annotations": body["metadata"].get("annotations") or {}}

    assert plane.apply([policy("block")]).returncode == 0
    wait_for(lambda: spec_of("worker")["paused"], what="the targeted Deployment paused while frozen")
    assert spec_of("worker")["annotations"]["reliability.dev/paused-by"] == "pauser"
    assert "reliability.dev/paused-by" not in spec_of("batch")["annotations"]
    wait_for(lambda: gated_status(plane, "pauser").get("paused") == ["Deployment/worker"], what="status.paused")

    assert plane.apply([policy("allow")]).returncode == 0
    wait_for(lambda: not spec_of("worker")["paused"], what="the Deployment resumed when the gate reopened")
    assert "reliability.dev/paused-by" not in spec_of("worker")["annotations"]
    assert spec_of("batch")["paused"] is True, "a Deployment paused by someone else stays paused"


def gated_status(plane: ControlPlane, name: str) -> dict[str, Any]:
    result = kubectl(plane, "get", "rgate", name, "-o", "json")
    return dict(json.loads(result.stdout).get("status") or {}) if result.returncode == 0 else {}


def test_two_plans_for_one_service_in_a_namespace_are_told_they_collide(
    control_plane: ControlPlane, gated: RunningOperator
) -> None:
    twin = plan()
    twin["metadata"]["name"] = "checkout-copy"
    assert control_plane.apply([plan(), twin]).returncode == 0

    def collision() -> dict[str, Any] | None:
        body = json.loads(kubectl(control_plane, "get", "srp", "checkout-copy", "-o", "json").stdout)
        found = [c for c in body.get("status", {}).get("conditions", []) if c["type"] == "ServiceUnique"]
        return found[0] if found and found[0]["status"] == "False" else None

    condition = wait_for(collision, what="ServiceUnique=False on the second plan")
    assert isinstance(condition, dict)
    assert condition["message"].startswith("plans checkout, checkout-copy in gated all cover service checkout")
    events = kubectl(control_plane, "get", "events", "--field-selector", "reason=DuplicateService", "-o", "json")
    assert any(e["involvedObject"]["name"] == "checkout-copy" for e in json.loads(events.stdout)["items"])
    kubectl(control_plane, "delete", "srp", "checkout-copy")


def test_the_shipped_integrations_follow_the_gate(control_plane: ControlPlane, gated: RunningOperator) -> None:
    """references/integrations as shipped, pointed at this operator: the CI script, the Argo Rollouts
    AnalysisTemplate's web metric and Flagger's confirm-rollout webhook."""
    import shutil

    import yaml

    from tests.conftest import ROOT

    folder = ROOT / "references" / "integrations"
    in_cluster = "http://sre-operator.sre-operator.svc:8080"
    ci = folder / "ci-release-gate.sh"
    (template, _) = yaml.safe_load_all((folder / "argo-rollouts-analysis.yaml").read_text(encoding="utf-8"))
    (metric,) = template["spec"]["metrics"]
    (canary,) = yaml.safe_load_all((folder / "flagger-canary.yaml").read_text(encoding="utf-8"))
    (webhook,) = canary["spec"]["analysis"]["webhooks"]
    assert webhook["type"] == "confirm-rollout"

    def run_ci(gate_name: str = "checkout") -> subprocess.CompletedProcess[str]:
        assert shutil.which("jq") and shutil.which("curl"), "bash scripts/test.sh installs curl and jq"
        env = {"PATH": "/usr/bin:/bin", "GATE_URL": gated.http}
        return subprocess.run(
            ["bash", str(ci), NAMESPACE, gate_name], capture_output=True, text=True, env=env, check=False
        )

    def analysis() -> bool:
        url = metric["provider"]["web"]["url"].replace(in_cluster, gated.http)
        url = url.replace("{{args.namespace}}", NAMESPACE).replace("{{args.gate}}", "checkout")
        status, answer = request(url)
        assert status == 200  # the web provider fails on anything else, whatever the gate says
        field = metric["provider"]["web"]["jsonPath"].removeprefix("{$.").removesuffix("}")
        result = answer[field]
        assert metric["successCondition"] == "result == true"
        return bool(result is True)

    def flagger() -> int:
        url = webhook["url"].replace(in_cluster, gated.http).replace("/shop/", f"/{NAMESPACE}/")
        return request(url, "POST", {"name": "x"})[0]

    assert control_plane.apply([plan(), policy("block"), gate()], "--force-conflicts").returncode == 0
    frozen = wait_state(control_plane, "Frozen", False, gated)
    held = run_ci()
    assert held.returncode == 1
    assert held.stdout == f"release gate {NAMESPACE}/checkout: {frozen['reason']} (decision {frozen['decisionId']})\n"
    assert analysis() is False and flagger() == 423

    assert control_plane.apply([policy("allow")]).returncode == 0
    wait_state(control_plane, "Open", True, gated)
    assert run_ci().returncode == 0 and analysis() is True and flagger() == 200
    missing = run_ci("no-such-gate")
    assert missing.returncode == 2 and "cannot be asked" in missing.stderr


def test_a_gate_naming_a_missing_plan_is_invalid_and_says_which_field(
    control_plane: ControlPlane, gated: RunningOperator
) -> None:
    plane = control_plane
    missing = gate()
    missing["spec"]["planRef"] = {"name": "no-such-plan"}
    assert plane.apply([plan(), policy("block"), missing], "--force-conflicts").returncode == 0
    broken = wait_state(plane, "Invalid", True, gated)
    assert broken["reason"] == f"Invalid: spec.planRef.name: no ServiceReliabilityPlan 'no-such-plan' in {NAMESPACE}"
    (valid,) = [c for c in broken["conditions"] if c["type"] == "Valid"]
    assert (valid["status"], valid["message"]) == ("False", broken["reason"].removeprefix("Invalid: "))
    assert plane.apply([gate()]).returncode == 0
    wait_state(plane, "Frozen", False, gated)


def test_the_operator_serves_the_runbooks_of_the_plans_it_knows(
    control_plane: ControlPlane, gated: RunningOperator
) -> None:
    assert control_plane.apply([plan()], "--force-conflicts").returncode == 0

    def served() -> str | None:
        status, page = gated.get(f"/runbooks/{NAMESPACE}/checkout/availability")
        return page if status == 200 else None

    page = wait_for(served, what="the runbook served")
    assert isinstance(page, str) and '<h2 id="SLOErrorBudgetFastBurn">' in page and "<h3>Impact</h3>" in page
    assert gated.get(f"/runbooks/{NAMESPACE}/checkout/latency")[0] == 404


def test_only_the_api_server_can_call_the_webhook_when_it_wants_a_client_certificate(
    control_plane: ControlPlane, gated: RunningOperator
) -> None:
    """With --webhook-client-ca, the verdicts above came through the API server (it presents a certificate the
    CA signed); a review posted by anyone else ends in the TLS handshake, before a byte of it is read."""
    assert control_plane.apply([plan(), policy("block"), gate()], "--force-conflicts").returncode == 0
    assert control_plane.apply([deployment("shop/checkout:1.0")], "--force-conflicts").returncode == 0
    wait_state(control_plane, "Frozen", False, gated)
    refused = kubectl(control_plane, "set", "image", "deployment/api", "api=shop/checkout:client-certificate")
    assert 'admission webhook "release-gate.reliability.dev" denied the request' in refused.stderr
    trusting = ssl.create_default_context(cafile=str(control_plane.ca.cert_path))
    with pytest.raises(OSError):  # ssl.SSLError, or the connection reset by the refused handshake
        request(gated.webhook + "/validate/release-gate", "POST", {"forged": True}, context=trusting)
