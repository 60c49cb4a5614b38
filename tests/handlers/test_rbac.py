"""The operator as a process of its own, under the chart's ServiceAccount and RBAC, against the real API server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.chart import granted, render
from tests.support.controlplane import ControlPlane
from tests.support.operator import REPAIR_SECONDS, addresses, operator_subprocess, wait_for

pytestmark = pytest.mark.controlplane
RELEASE_NAMESPACE = "sre-operator"
NAMESPACE = "rbac-plans"
ALERTMANAGER_TOKEN = "rbac-alertmanager-token"
SERVICE_ACCOUNT = f"system:serviceaccount:{RELEASE_NAMESPACE}:sre-operator"


@pytest.fixture(scope="module")
def chart_operator(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    manifests = [d for d in render({}) if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")]
    control_plane.kubectl("create", "namespace", RELEASE_NAMESPACE)
    control_plane.kubectl("create", "namespace", NAMESPACE)
    assert control_plane.apply(manifests).returncode == 0
    token = control_plane.kubectl(
        "-n", RELEASE_NAMESPACE, "create", "token", "sre-operator", "--duration=2h", check=True
    ).stdout.strip()
    kubeconfig = Path(tmp_path_factory.mktemp("chart-operator")) / "kubeconfig"
    admin = yaml.safe_load(control_plane.kubeconfig.read_text(encoding="utf-8"))
    admin["users"] = [{"name": "test", "user": {"token": token}}]
    kubeconfig.write_text(yaml.safe_dump(admin), encoding="utf-8")
    log = kubeconfig.with_name("operator.log")
    flags, running = addresses()
    token_file = kubeconfig.with_name("alertmanager-token")
    token_file.write_text(ALERTMANAGER_TOKEN, encoding="utf-8")
    flags += ["--alertmanager-token-file", str(token_file), "--capacity-interval", "1"]
    mark = control_plane.audit_mark()
    with operator_subprocess(kubeconfig, log, *flags) as process:
        yield {"process": process, "log": log, "mark": mark, "running": running, "manifests": manifests}


def get(plane: ControlPlane, resource: str, name: str) -> dict[str, Any] | None:
    result = plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json")
    return json.loads(result.stdout) if result.returncode == 0 else None


def ready(plane: ControlPlane, name: str) -> bool:
    body = get(plane, "srp", name) or {}
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (body.get("status") or {}).get("conditions", []))


def test_the_operator_works_under_the_charts_rbac(control_plane: ControlPlane, chart_operator: dict[str, Any]) -> None:
    plan = yaml.safe_load((ROOT / "references" / "examples" / "search.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = NAMESPACE
    assert control_plane.apply([plan]).returncode == 0
    wait_for(lambda: ready(control_plane, "search"), timeout=60, what="Ready under the chart's RBAC")
    # Every kind of write the code can make: a restore, a repair, a deletion of a child no longer wanted.
    control_plane.kubectl("-n", NAMESPACE, "delete", "configmap", "search-operations", check=True)
    control_plane.kubectl(
        "-n",
        NAMESPACE,
        "patch",
        "prometheusrule",
        "search-slos",
        "--type=merge",
        "-p",
        json.dumps({"spec": {"groups": [{"name": "hijacked", "rules": []}]}}),
        check=True,
    )
    labels = {"app.kubernetes.io/managed-by": "sre-operator", "reliability.dev/plan": "search"}
    strays = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "search-retired", "namespace": NAMESPACE, "labels": labels},
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "search-retired", "namespace": NAMESPACE, "labels": labels},
            "spec": {"groups": []},
        },
    ]
    assert control_plane.apply(strays).returncode == 0
    # A key added by another field manager: server-side apply alone cannot remove it.
    control_plane.kubectl(
        "-n",
        NAMESPACE,
        "patch",
        "configmap",
        "search-runbooks",
        "--type=merge",
        "-p",
        json.dumps({"data": {"added-by-hand.md": "x"}}),
        check=True,
    )

    def unrepaired() -> list[str]:
        rule = get(control_plane, "prometheusrule", "search-slos") or {}
        runbooks = get(control_plane, "configmap", "search-runbooks") or {}
        checks = {
            "operations restored": get(control_plane, "configmap", "search-operations") is not None,
            "stray ConfigMap deleted": get(control_plane, "configmap", "search-retired") is None,
            "stray PrometheusRule deleted": get(control_plane, "prometheusrule", "search-retired") is None,
            "rules repaired": rule["spec"]["groups"][0]["name"] == "search-latency",
            "foreign key removed": "added-by-hand.md" not in runbooks.get("data", {}),
        }
        return [what for what, done in checks.items() if not done]

    try:
        wait_for(lambda: not unrepaired(), timeout=REPAIR_SECONDS, what="drift repaired under the chart's RBAC")
    except AssertionError as error:
        raise AssertionError(f"{error}; not done: {', '.join(unrepaired())}") from None
    exercise_routing(control_plane)
    assert chart_operator["running"].get("/healthz")[0] == 200
    log = chart_operator["log"].read_text(errors="replace")
    assert "Forbidden" not in log and " 403" not in log, log[-3000:]


def exercise_routing(plane: ControlPlane) -> None:
    """The same writes for the routing children: an AlertmanagerConfig and the raw configuration's Secret."""
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = NAMESPACE
    plan["spec"]["alerting"]["routing"]["outputs"] = ["alertmanagerConfig", "alertmanagerSecret"]
    assert plane.apply([plan]).returncode == 0
    wait_for(lambda: get(plane, "secret", "checkout-alertmanager"), timeout=60, what="the routing children")
    plane.kubectl("-n", NAMESPACE, "delete", "alertmanagerconfig", "checkout-routing", check=True)
    plane.kubectl("-n", NAMESPACE, "delete", "secret", "checkout-alertmanager", check=True)
    wait_for(lambda: get(plane, "secret", "checkout-alertmanager"), timeout=REPAIR_SECONDS, what="restored")
    foreign = {"metadata": {"name": "checkout-alertmanager", "namespace": NAMESPACE}, "data": {"extra": "eA=="}}
    plane.apply([{"apiVersion": "v1", "kind": "Secret", **foreign}], "--field-manager=someone-else")
    receiver = {"spec": {"receivers": [{"name": "someone-elses"}]}}
    plane.kubectl(
        "-n", NAMESPACE, "patch", "alertmanagerconfig.v1alpha1.monitoring.coreos.com", "checkout-routing",
        "--type=merge", "-p", json.dumps(receiver),
    )  # fmt: skip
    labels = {"app.kubernetes.io/managed-by": "sre-operator", "reliability.dev/plan": "checkout"}
    strays = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "checkout-retired", "namespace": NAMESPACE, "labels": labels}},
        {"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
         "metadata": {"name": "checkout-retired", "namespace": NAMESPACE, "labels": labels}, "spec": {}},
    ]  # fmt: skip
    assert plane.apply(strays).returncode == 0

    seen: list[tuple[Any, ...]] = []

    def repaired() -> bool:
        secret = get(plane, "secret", "checkout-alertmanager") or {}
        config = get(plane, "alertmanagerconfig.v1alpha1.monitoring.coreos.com", "checkout-routing") or {}
        names = [r["name"] for r in config.get("spec", {}).get("receivers", [])]
        state = (
            sorted(secret.get("data", {"missing": ""})),
            names,
            get(plane, "secret", "checkout-retired") is None,
            get(plane, "alertmanagerconfig", "checkout-retired") is None,
        )
        seen.append(state)
        return state == (
            ["alertmanager.yaml", "routing.yaml"],
            ["nobody", "checkout-page", "checkout-ticket", "checkout-incidents"],  # pages reach the operator too
            True,
            True,
        )

    try:
        wait_for(repaired, timeout=REPAIR_SECONDS, what="routing children repaired")
    except AssertionError as failure:
        raise AssertionError(f"{failure}; last state: {seen[-1] if seen else None}") from None


def exercise_release_gates(plane: ControlPlane, running: Any) -> None:
    """Every API call release gates make: a frozen gate pauses a Deployment and a Rollout, and the webhook
    looks up earlier revisions (ReplicaSets, ControllerRevisions) before it denies."""
    import ssl

    from tests.gates.test_admission import new_image
    from tests.support.operator import request

    policy = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "blocking", "namespace": NAMESPACE},
        "spec": {"rules": [{"name": "f", "when": {"budgetRemainingBelow": 0}, "actions": ["freezeReleases"]}],
                 "onUnknown": "block"},
    }  # fmt: skip
    targets = [
        {"kind": "Deployment", "name": "api"},
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api"},
        {"kind": "StatefulSet", "name": "api"},
    ]
    gate = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"name": "pausing", "namespace": NAMESPACE},
        "spec": {"planRef": {"name": "checkout"}, "policyRef": {"name": "blocking"}, "targets": targets,
                 "enforcement": {"pauseRollouts": True}},
    }  # fmt: skip
    template = {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "a:1"}]}}
    workload_spec = {"replicas": 1, "selector": {"matchLabels": {"app": "api"}}, "template": template}
    workloads = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": NAMESPACE},
         "spec": workload_spec},
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api", "namespace": NAMESPACE},
         "spec": workload_spec},
    ]  # fmt: skip
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = NAMESPACE
    # Workloads first: a gate pauses the targets it finds when it freezes.
    assert plane.apply(workloads).returncode == 0
    assert plane.apply([plan, policy, gate]).returncode == 0

    def paused() -> bool:
        found = [
            json.loads(plane.kubectl("-n", NAMESPACE, "get", kind, "api", "-o", "json").stdout)["spec"].get("paused")
            for kind in ("deployment", "rollout")
        ]
        return found == [True, True]

    wait_for(paused, timeout=30, what="the Deployment and the Rollout paused by the frozen gate")
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # the operator's self-signed pair
    for kind in ("Deployment", "StatefulSet"):
        review = new_image(kind, name="api")
        review["namespace"] = NAMESPACE
        review["oldObject"]["metadata"].update(namespace=NAMESPACE, uid="0a6f4d2c-0000-4000-8000-000000000001")
        status, answer = request(
            running.webhook + "/validate/release-gate",
            "POST",
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": review},
            context=insecure,
        )
        assert status == 200 and answer["response"]["allowed"] is False, answer


def used_permissions(requests: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(group, resource, verb) of each request, as RBAC authorised it."""
    used = set()
    for event in requests:
        ref = event.get("objectRef")
        if ref is None:
            continue  # discovery and other non-resource URLs, open to every authenticated user
        resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        group = ref.get("apiGroup", "")
        used.add((group, resource, event["verb"]))
        if event["verb"] == "patch" and event.get("responseStatus", {}).get("code") == 201:
            used.add((group, resource, "create"))  # server-side apply that created the object
    return used


def test_the_chart_grants_exactly_what_the_operator_uses(
    control_plane: ControlPlane, chart_operator: dict[str, Any]
) -> None:
    documents = list(
        yaml.safe_load_all((ROOT / "references" / "examples" / "checkout-policy.yaml").read_text(encoding="utf-8"))
    )
    for document in documents:
        document["metadata"]["namespace"] = NAMESPACE
    assert control_plane.apply(documents).returncode == 0

    def validated() -> bool:
        for resource, name in (("ebp", "checkout-budget"), ("rgate", "checkout")):
            body = get(control_plane, resource, name) or {}
            if not any(c["type"] == "Valid" for c in (body.get("status") or {}).get("conditions", [])):
                return False
        return True

    wait_for(validated, timeout=30, what="the policy and the gate validated")
    exercise_release_gates(control_plane, chart_operator["running"])
    exercise_incidents_and_capacity(control_plane, chart_operator["running"])
    time.sleep(1)
    requests = control_plane.requests_since(chart_operator["mark"], SERVICE_ACCOUNT)
    denied = [(e["verb"], e["objectRef"]) for e in requests if e.get("responseStatus", {}).get("code") == 403]
    assert denied == []
    granted_by_chart = set(granted(chart_operator["manifests"]))
    assert used_permissions(requests) == granted_by_chart


def exercise_incidents_and_capacity(plane: ControlPlane, running: Any) -> None:
    """A page recorded as an Incident (found by label, created, its status written), and capacity checks of a
    plan naming a Deployment, a StatefulSet and a DaemonSet with a disruption budget required."""
    import urllib.request

    page = {
        "version": "4",
        "groupKey": "rbac-group",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "fingerprint": "rbac1",
                "labels": {
                    "alertname": "SLOErrorBudgetFastBurn",
                    "severity": "critical",
                    "namespace": NAMESPACE,
                    "service": "search",
                    "slo": "latency",
                },
                "startsAt": "2026-11-25T10:00:00Z",
            }
        ],
    }
    message = urllib.request.Request(
        running.http + "/v1/alertmanager", data=json.dumps(page).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )  # fmt: skip
    with urllib.request.urlopen(message, timeout=10) as answer:
        assert answer.status == 200
    wait_for(
        lambda: json.loads(plane.kubectl("-n", NAMESPACE, "get", "incidents", "-o", "json").stdout)["items"],
        what="an Incident recorded under the chart's RBAC",
    )
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"] = {"name": "capacity", "namespace": NAMESPACE}
    plan["spec"]["service"]["name"] = "capacity"
    plan["spec"]["capacity"]["workloads"] = [
        {"kind": "Deployment", "name": "web"},
        {"kind": "StatefulSet", "name": "db"},
        {"kind": "DaemonSet", "name": "agent"},
    ]
    assert plane.apply([plan]).returncode == 0

    def checked() -> list[str]:
        body = get(plane, "srp", "capacity") or {}
        return list((body.get("status") or {}).get("capacityRisks") or [])

    risks = wait_for(checked, what="capacity checked under the chart's RBAC")
    assert "Deployment web (capacity.workloads) does not exist in rbac-plans." in risks  # type: ignore[operator]


def test_no_secret_value_is_ever_copied(
    control_plane: ControlPlane, chart_operator: dict[str, Any], tmp_path: Path
) -> None:
    """Known secret values in the Secrets a plan references appear in nothing the operator or render wrote."""
    import base64
    import subprocess
    import sys

    values = {"routing-key": "pd-routing-key-7f3a9c-SECRET", "url": "https://hooks.slack.example/T0/B0/SECRET-b41d"}
    secrets = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NAMESPACE},
         "stringData": {key: values[key]}}
        for name, key in (("pagerduty", "routing-key"), ("slack", "url"))
    ]  # fmt: skip
    plan = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = NAMESPACE
    plan["spec"]["alerting"]["routing"]["outputs"] = ["alertmanagerConfig", "alertmanagerSecret"]
    assert control_plane.apply([*secrets, plan], "--force-conflicts").returncode == 0
    wait_for(lambda: ready(control_plane, "checkout"), timeout=60, what="the plan Ready")
    wait_for(lambda: get(control_plane, "secret", "checkout-alertmanager"), timeout=60, what="the raw configuration")

    written = []
    for resource in ("configmaps", "secrets", "prometheusrules", "alertmanagerconfigs.v1alpha1.monitoring.coreos.com"):
        items = json.loads(control_plane.kubectl("-n", NAMESPACE, "get", resource, "-o", "json").stdout)["items"]
        for item in items:
            if item["metadata"]["name"] in ("pagerduty", "slack"):
                continue  # the user's own Secrets
            written.append(json.dumps(item))
            if item["kind"] == "Secret":
                written += [base64.b64decode(v).decode(errors="replace") for v in (item.get("data") or {}).values()]
    written.append(control_plane.kubectl("-n", NAMESPACE, "get", "srp,rgate,ebp", "-o", "json").stdout)
    written.append(control_plane.kubectl("-n", NAMESPACE, "get", "events", "-o", "json").stdout)
    written.append(chart_operator["log"].read_text(errors="replace"))
    document = tmp_path / "plan.yaml"
    document.write_text(yaml.safe_dump(plan))
    rendered = subprocess.run(
        [sys.executable, "-m", "sre_operator.cli", "render", "-o", str(tmp_path / "out"), str(document)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    written += [rendered.stdout, rendered.stderr, *(p.read_text() for p in (tmp_path / "out").iterdir())]
    assert len(written) > 10
    for secret in values.values():
        assert not [text[:200] for text in written if secret in text]
    assert any("routing_key_file: /etc/alertmanager/secrets/pagerduty/routing-key" in text for text in written)
