"""The Helm chart, through Helm's own library: lint, render, validate, and RBAC equal to what the code calls."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest

from sre_operator.k8s import PERMISSIONS
from tests.conftest import ROOT
from tests.support.chart import CHART, granted, render

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "namespaced": {"watchNamespaces": ["shop", "catalog"]},
    "peering": {"replicas": 2, "peering": {"enabled": True, "name": "sre"}, "runbookBaseURL": "https://rb.example"},
}


def test_chart_crds_are_the_top_level_crds() -> None:
    top = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "crds").glob("*.yaml")}
    chart = {p.name: p.read_text(encoding="utf-8") for p in (CHART / "crds").glob("*.yaml")}
    assert chart == top, "copy crds/ into charts/sre-operator/crds/"


def test_chart_lints_clean() -> None:
    result = helm.lint(str(CHART))
    assert result["errors"] == []
    warnings = [m for m in result["messages"] if m["severity"] >= 2]
    assert warnings == []


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_rendered_manifests_pass_kubernetes_validate_strict(values: dict[str, Any]) -> None:
    documents = render(values)
    assert {d["kind"] for d in documents} >= {"Deployment", "ServiceAccount"}
    for document in documents:
        if document["apiVersion"].startswith("kopf.dev/"):
            continue  # a custom resource of kopf's: no published schema
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_values_schema_refuses_bad_values() -> None:
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema({})
        with pytest.raises(helm.HelmError):
            chart.validate_schema({"replicas": 2})  # several replicas need peering
        with pytest.raises(helm.HelmError):
            chart.validate_schema({"watchNamespaces": ["Not_A_Namespace"]})


def test_the_deployment_is_locked_down() -> None:
    (deployment,) = [d for d in render({}) if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"]["memory"]


def test_rbac_grants_exactly_the_calls_the_code_makes() -> None:
    needed = {(group, resource, verb) for (group, resource), verbs in PERMISSIONS.items() for verb in verbs}
    assert set(granted(render({}))) == needed
    namespaced = render(VALUE_SETS["namespaced"])
    assert {d["kind"] for d in namespaced} >= {"Role", "RoleBinding"}
    assert "ClusterRole" not in {d["kind"] for d in namespaced}
    assert {(g, r, v) for g, r, v in granted(namespaced)} == needed
