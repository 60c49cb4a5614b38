"""CRDs older than the operator (no CEL rules yet): what the schema lets through, the operator still refuses.

This is the upgrade order a platform team can get wrong, and the one way a
policy or gate the models reject reaches the handlers of a real API server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.controlplane import ControlPlane, read_crds
from tests.support.operator import cluster_with_operator, wait_for

pytestmark = pytest.mark.controlplane
NAMESPACE = "skew"


def without_cel(node: Any) -> Any:
    if isinstance(node, list):
        return [without_cel(item) for item in node]
    if isinstance(node, dict):
        return {k: without_cel(v) for k, v in node.items() if k != "x-kubernetes-validations"}
    return node


@pytest.fixture(scope="module")
def skewed_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    crds = [without_cel(crd) for crd in read_crds(sorted((ROOT / "crds").glob("*.yaml")))]
    with cluster_with_operator(tmp_path_factory.mktemp("skew"), crds) as plane:
        plane.kubectl("create", "namespace", NAMESPACE, check=True)
        yield plane


def valid_condition(plane: ControlPlane, resource: str, name: str) -> dict[str, Any]:
    result = plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json")
    body = json.loads(result.stdout) if result.returncode == 0 else {}
    for condition in (body.get("status") or {}).get("conditions", []):
        if condition["type"] == "Valid":
            return dict(condition)
    return {}


@pytest.mark.parametrize(
    ("kind", "resource", "edit", "field"),
    [
        (
            "ReleaseGate",
            "rgate",
            lambda spec: spec["targets"][0].update(selector={"matchLabels": {"app": "x"}}),
            "spec.targets[0]: exactly one of name, selector must be given",
        ),
        (
            "ErrorBudgetPolicy",
            "ebp",
            lambda spec: spec["rules"][0]["when"].update(burnRateAbove={"rate": 2, "window": "1h"}),
            "spec.rules[0].when: exactly one of budgetRemainingBelow, burnRateAbove must be given",
        ),
    ],
)
def test_an_invalid_policy_or_gate_is_reported_on_its_status_and_in_an_event(
    skewed_cluster: ControlPlane, kind: str, resource: str, edit: Any, field: str
) -> None:
    documents = yaml.safe_load_all(
        (ROOT / "references" / "examples" / "checkout-policy.yaml").read_text(encoding="utf-8")
    )
    (document,) = [d for d in documents if d["kind"] == kind]
    document["metadata"]["namespace"] = NAMESPACE
    edit(document["spec"])
    assert skewed_cluster.apply([document]).returncode == 0, "without CEL the API server accepts it"
    name = document["metadata"]["name"]
    condition = wait_for(
        lambda: (lambda c: c if c.get("status") == "False" else None)(valid_condition(skewed_cluster, resource, name)),
        what=f"{kind} Valid=False",
    )
    assert isinstance(condition, dict)
    assert condition["message"].startswith(field), condition["message"]
    events = json.loads(
        skewed_cluster.kubectl(
            "-n",
            NAMESPACE,
            "get",
            "events",
            "-o",
            "json",
            "--field-selector",
            f"involvedObject.name={name}",
            check=True,
        ).stdout
    )["items"]
    assert any(
        e["reason"] == "InvalidSpec" and e["type"] == "Warning" and e["message"].startswith(field) for e in events
    ), events
