"""The real handlers in kopf against the real API server: children, status, events, drift, invalid edits, deletion."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.controlplane import ControlPlane
from tests.support.operator import REPAIR_SECONDS, operator_in_process, wait_for

pytestmark = pytest.mark.controlplane
OPERATOR_USER = "sre-operator-under-test"
NAMESPACE = "handlers"


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load((ROOT / "references" / "examples" / name).read_text(encoding="utf-8"))
    body["metadata"]["namespace"] = NAMESPACE
    return body


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    control_plane.kubectl("create", "namespace", NAMESPACE)
    with operator_in_process(control_plane.user_kubeconfig(OPERATOR_USER)):
        yield control_plane


def get(plane: ControlPlane, resource: str, name: str) -> dict[str, Any] | None:
    result = plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json")
    return json.loads(result.stdout) if result.returncode == 0 else None


def condition(body: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for item in ((body or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def ready_at_generation(plane: ControlPlane, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body = get(plane, "srp", name)
        if (
            body
            and condition(body, "Ready").get("status") == "True"
            and body["status"].get("observedGeneration") == body["metadata"]["generation"]
        ):
            return body
        return None

    found = wait_for(check, timeout=30, what=f"plan {name} Ready at its generation")
    assert isinstance(found, dict)
    return found


def events_for(plane: ControlPlane, name: str) -> list[dict[str, Any]]:
    result = plane.kubectl(
        "-n", NAMESPACE, "get", "events", "-o", "json", "--field-selector", f"involvedObject.name={name}", check=True
    )
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def test_a_plan_becomes_its_children_with_owner_references_and_status(operator: ControlPlane) -> None:
    plan = example("checkout.yaml")
    plan["metadata"]["labels"] = {"app.kubernetes.io/instance": "shop-argocd-app"}  # Argo CD's tracking label
    assert operator.apply([plan]).returncode == 0
    body = ready_at_generation(operator, "checkout")
    uid = body["metadata"]["uid"]
    for resource, name in (
        ("prometheusrule", "checkout-slos"),
        ("configmap", "checkout-runbooks"),
        ("configmap", "checkout-operations"),
        ("alertmanagerconfig", "checkout-routing"),
    ):
        child = get(operator, resource, name)
        assert child is not None, name
        (owner,) = child["metadata"]["ownerReferences"]
        assert (owner["uid"], owner["kind"], owner["controller"]) == (uid, "ServiceReliabilityPlan", True)
        assert child["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "sre-operator"
        assert child["metadata"]["labels"]["reliability.dev/plan"] == "checkout"
        assert "app.kubernetes.io/instance" not in child["metadata"]["labels"]
    rule = get(operator, "prometheusrule", "checkout-slos")
    assert rule is not None
    assert [g["name"] for g in rule["spec"]["groups"]] == [
        "checkout-availability",
        "checkout-payment-latency",
        "checkout-capacity",  # spec.capacity: saturation rules
    ]
    runbooks = get(operator, "configmap", "checkout-runbooks")
    assert runbooks is not None and "## SLOErrorBudgetFastBurn" in runbooks["data"]["availability.md"]
    status = body["status"]
    # Every section is explicit; the one thing assumed is the UTC form of Berlin's business hours.
    (assumed,) = status["assumptions"]
    assert assumed.startswith("Business hours 09:00-18:00 Europe/Berlin are written to the AlertmanagerConfig in UTC")
    assert condition(body, "Valid")["status"] == "True"
    assert condition(body, "Complete")["status"] == "False"
    assert status["sloCount"] == 2
    assert {(g["kind"], g["name"]) for g in status["generated"]} == {
        ("PrometheusRule", "checkout-slos"),
        ("ConfigMap", "checkout-runbooks"),
        ("ConfigMap", "checkout-operations"),
        ("AlertmanagerConfig", "checkout-routing"),
    }
    reasons = {e["reason"] for e in events_for(operator, "checkout")}
    assert "Created" in reasons


def test_a_minimal_plan_says_what_it_assumed(operator: ControlPlane) -> None:
    assert operator.apply([example("batch.yaml")]).returncode == 0
    body = ready_at_generation(operator, "nightly-export")
    assert condition(body, "Complete")["status"] == "False"
    assert "No page receiver given: pages route to the Alertmanager default receiver." in body["status"]["assumptions"]


QUIET_PLANS = 100
QUIET_SECONDS = 120


def test_a_quiet_operator_sends_no_request_at_all(operator: ControlPlane) -> None:
    """No polling: with 100 plans Ready, two quiet minutes cost the API server nothing."""
    plans = []
    for index in range(QUIET_PLANS):
        plan = example("search.yaml")
        plan["metadata"]["name"] = f"quiet-{index}"
        plans.append(plan)
    assert operator.apply(plans).returncode == 0
    for index in range(QUIET_PLANS):
        ready_at_generation(operator, f"quiet-{index}")
    # The audit log does see this operator's requests: creating the children took some.
    created = [w for w in operator.writes_since(0, OPERATOR_USER) if w["objectRef"].get("name") == "quiet-0-slos"]
    assert created
    time.sleep(5)  # the status writes that follow Ready
    mark = operator.audit_mark()
    time.sleep(QUIET_SECONDS)
    requests = operator.requests_since(mark, OPERATOR_USER)
    assert requests == [], [
        (
            r["verb"],
            r["stage"],
            r["requestReceivedTimestamp"],
            r["stageTimestamp"],
            r.get("responseStatus"),
            r["requestURI"],
        )
        for r in requests
    ]


def test_slos_added_then_removed_reach_the_children(operator: ControlPlane) -> None:
    plan = example("batch.yaml")
    plan["metadata"]["name"] = "grow"
    assert operator.apply([plan]).returncode == 0
    ready_at_generation(operator, "grow")
    grown = copy.deepcopy(plan)
    grown["spec"]["slos"].append(
        {
            "name": "completeness",
            "objective": 99,
            "window": "7d",
            "indicator": {"ratio": {"errors": 'rows_total{outcome="dropped"}', "total": "rows_total"}},
        }
    )
    assert operator.apply([grown]).returncode == 0
    ready_at_generation(operator, "grow")
    rule = get(operator, "prometheusrule", "grow-slos")
    assert rule is not None
    assert [g["name"] for g in rule["spec"]["groups"]] == ["nightly-export-freshness", "nightly-export-completeness"]
    runbooks = get(operator, "configmap", "grow-runbooks")
    assert runbooks is not None and "completeness.md" in runbooks["data"]
    assert operator.apply([plan]).returncode == 0
    ready_at_generation(operator, "grow")
    rule = get(operator, "prometheusrule", "grow-slos")
    assert rule is not None and [g["name"] for g in rule["spec"]["groups"]] == ["nightly-export-freshness"]
    runbooks = get(operator, "configmap", "grow-runbooks")
    assert runbooks is not None and "completeness.md" not in runbooks["data"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (
            {"indicator": {"ratio": {"errors": 'http_requests_total{code=~"5.."', "total": "http_requests_total"}}},
            "spec.slos[0].indicator.ratio.errors",
        ),
        ({"journey": "no-such-journey"}, "spec.slos[0].journey"),
    ],
)
def test_an_invalid_edit_keeps_the_last_good_children(operator: ControlPlane, edit: dict[str, Any], field: str) -> None:
    plan = example("checkout.yaml")
    plan["metadata"]["name"] = "keep-" + field.rsplit(".", 1)[-1]
    assert operator.apply([plan]).returncode == 0
    ready_at_generation(operator, plan["metadata"]["name"])
    before = get(operator, "prometheusrule", plan["metadata"]["name"] + "-slos")
    assert before is not None
    broken = copy.deepcopy(plan)
    broken["spec"]["slos"][0].update(edit)
    assert operator.apply([broken]).returncode == 0, "the schema cannot catch this edit"

    def invalid() -> dict[str, Any] | None:
        body = get(operator, "srp", plan["metadata"]["name"])
        return body if condition(body, "Valid").get("status") == "False" else None

    body = wait_for(invalid, what="Valid=False")
    assert isinstance(body, dict)
    message = condition(body, "Valid")["message"]
    assert message.startswith(f"{field}: "), message
    assert "\n" not in message
    assert body["status"]["observedGeneration"] == body["metadata"]["generation"]
    warnings = [e for e in events_for(operator, plan["metadata"]["name"]) if e["reason"] == "InvalidSpec"]
    assert warnings and warnings[0]["type"] == "Warning" and warnings[0]["message"].startswith(field)
    time.sleep(REPAIR_SECONDS)
    after = get(operator, "prometheusrule", plan["metadata"]["name"] + "-slos")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert condition(body, "Ready")["status"] == "True"  # the last good children are still in place


def test_children_deleted_or_edited_by_hand_come_back_within_seconds(operator: ControlPlane) -> None:
    plan = example("batch.yaml")
    plan["metadata"]["name"] = "drift"
    assert operator.apply([plan]).returncode == 0
    ready_at_generation(operator, "drift")
    original = get(operator, "prometheusrule", "drift-slos")
    assert original is not None
    started = time.monotonic()
    operator.kubectl("-n", NAMESPACE, "delete", "configmap", "drift-runbooks", check=True)
    wait_for(
        lambda: get(operator, "configmap", "drift-runbooks"),
        timeout=REPAIR_SECONDS,
        what="the deleted runbook ConfigMap to come back",
    )
    restored_after = time.monotonic() - started
    started = time.monotonic()
    operator.kubectl(
        "-n",
        NAMESPACE,
        "patch",
        "prometheusrule",
        "drift-slos",
        "--type=merge",
        "-p",
        json.dumps({"spec": {"groups": [{"name": "hijacked", "rules": []}]}}),
        check=True,
    )
    wait_for(
        lambda: (get(operator, "prometheusrule", "drift-slos") or {}).get("spec") == original["spec"],
        timeout=REPAIR_SECONDS,
        what="the edited PrometheusRule to be restored",
    )
    repaired_after = time.monotonic() - started
    print(f"restored a deleted child in {restored_after:.2f}s, repaired an edited one in {repaired_after:.2f}s")
    reasons = {e["reason"] for e in events_for(operator, "drift")}
    assert {"Restored", "Repaired"} <= reasons
    # Only the touched children were written back: the operations bundle was left alone.
    bundle = get(operator, "configmap", "drift-operations")
    assert bundle is not None
    assert [w for w in operator.writes_since(0, OPERATOR_USER) if w["objectRef"].get("name") == "drift-operations"]
    mark = operator.audit_mark()
    time.sleep(2)
    assert not [
        w for w in operator.writes_since(mark, OPERATOR_USER) if w["objectRef"].get("name", "").startswith("drift")
    ]


def test_policies_and_gates_are_validated(operator: ControlPlane) -> None:
    documents = list(
        yaml.safe_load_all((ROOT / "references" / "examples" / "checkout-policy.yaml").read_text(encoding="utf-8"))
    )
    for document in documents:
        document["metadata"]["namespace"] = NAMESPACE
    assert operator.apply(documents).returncode == 0
    for resource, name in (("ebp", "checkout-budget"), ("rgate", "checkout")):
        body = wait_for(
            lambda r=resource, n=name: (lambda b: b if condition(b, "Valid").get("status") == "True" else None)(
                get(operator, r, n)
            ),
            what=f"{resource} Valid",
        )
        assert isinstance(body, dict)
        assert body["status"]["observedGeneration"] == body["metadata"]["generation"]


def test_deleting_a_plan_garbage_collects_its_children(operator: ControlPlane) -> None:
    if not operator.has_garbage_collector:
        pytest.skip("no kube-controller-manager beside the API server (KUBEBUILDER_ASSETS has none)")
    plan = example("batch.yaml")
    plan["metadata"]["name"] = "goner"
    assert operator.apply([plan]).returncode == 0
    ready_at_generation(operator, "goner")
    operator.kubectl("-n", NAMESPACE, "delete", "srp", "goner", check=True)
    for resource, name in (
        ("prometheusrule", "goner-slos"),
        ("configmap", "goner-runbooks"),
        ("configmap", "goner-operations"),
    ):
        wait_for(lambda r=resource, n=name: get(operator, r, n) is None, timeout=60, what=f"{name} collected")
