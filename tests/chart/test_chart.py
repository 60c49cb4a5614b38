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
    "cert-manager": {"webhook": {"certManager": True}, "prometheus": {"url": "https://thanos:9090"}},
    "no webhook": {"webhook": {"enabled": False}, "argocd": {"healthChecks": False}},
    "incidents": {"incidents": {"tokenSecret": "alertmanager-token"}, "grafana": {"dashboard": False}},
    "locked ports": {
        "webhook": {"clientCAConfigMap": "apiserver-webhook-client-ca"},
        "networkPolicy": {"enabled": True, "webhookFrom": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]},
    },
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
        if document["apiVersion"].startswith(("kopf.dev/", "cert-manager.io/")):
            continue  # custom resources of kopf and cert-manager: no published schema
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
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", "a standby or loading replica stays out"
    assert container["resources"]["limits"]["memory"]


def test_rbac_grants_exactly_the_calls_the_code_makes() -> None:
    needed = {(group, resource, verb) for (group, resource), verbs in PERMISSIONS.items() for verb in verbs}
    assert set(granted(render({}))) == needed
    namespaced = render(VALUE_SETS["namespaced"])
    assert {d["kind"] for d in namespaced} >= {"Role", "RoleBinding"}
    assert "ClusterRole" not in {d["kind"] for d in namespaced}
    assert {(g, r, v) for g, r, v in granted(namespaced)} == needed


def test_the_charts_webhook_has_the_rules_of_webhook_config() -> None:
    """The chart registers the webhook exactly as `sre-operator webhook-config` does, with safe defaults."""
    from sre_operator.generate.webhook import WebhookOptions, validating_webhook_configuration

    (configuration,) = [d for d in render({}) if d["kind"] == "ValidatingWebhookConfiguration"]
    (chart_webhook,) = configuration["webhooks"]
    (cli_webhook,) = validating_webhook_configuration(
        b"-----BEGIN CERTIFICATE-----", WebhookOptions(operator_namespace="sre-operator"), url="https://x:9443"
    )["webhooks"]
    for key in ("name", "rules", "matchConditions", "namespaceSelector", "sideEffects", "admissionReviewVersions"):
        assert chart_webhook[key] == cli_webhook[key], key
    assert chart_webhook["failurePolicy"] == "Ignore" and chart_webhook["timeoutSeconds"] <= 5
    assert chart_webhook["clientConfig"]["service"]["path"] == "/validate/release-gate"
    excluded = chart_webhook["namespaceSelector"]["matchExpressions"][1]
    assert excluded == {
        "key": "kubernetes.io/metadata.name",
        "operator": "NotIn",
        "values": ["kube-system", "sre-operator"],
    }
    assert all("/" not in r for rule in chart_webhook["rules"] for r in rule["resources"]), "never /scale or /status"
    strict = [
        d for d in render({"webhook": {"failurePolicy": "Fail"}}) if d["kind"] == "ValidatingWebhookConfiguration"
    ]
    assert strict[0]["webhooks"][0]["failurePolicy"] == "Fail"


def test_without_cert_manager_the_chart_makes_a_pair_the_webhook_trusts() -> None:
    import base64

    from cryptography import x509

    documents = render({})
    (secret,) = [d for d in documents if d["kind"] == "Secret"]
    (webhook,) = [d for d in documents if d["kind"] == "ValidatingWebhookConfiguration"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(webhook["webhooks"][0]["clientConfig"]["caBundle"]))
    serving = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert "sre-operator.sre-operator.svc" in names
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SRE_OPERATOR_WEBHOOK_CERT_DIR"] == "/etc/sre-operator/webhook"
    assert env["SRE_OPERATOR_HTTP_ADDRESS"] == "0.0.0.0:8080"


def test_with_cert_manager_the_chart_asks_it_for_the_certificate() -> None:
    documents = render({"webhook": {"certManager": True}})
    kinds = {d["kind"] for d in documents}
    assert {"Issuer", "Certificate"} <= kinds and "Secret" not in kinds
    (webhook,) = [d for d in documents if d["kind"] == "ValidatingWebhookConfiguration"]
    assert webhook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "sre-operator/sre-operator-webhook"
    assert "caBundle" not in webhook["webhooks"][0]["clientConfig"]


def test_prometheus_settings_reach_the_operator() -> None:
    values = {"prometheus": {"url": "http://mimir:8080/prometheus", "headers": ["X-Scope-OrgID:shop", "X-A:b"]}}
    (deployment,) = [d for d in render(values) if d["kind"] == "Deployment"]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SRE_OPERATOR_PROMETHEUS_URL"] == "http://mimir:8080/prometheus"
    assert env["SRE_OPERATOR_PROMETHEUS_HEADER"] == "X-Scope-OrgID:shop\nX-A:b"


def test_a_token_secret_turns_on_the_alertmanager_receiver() -> None:
    (deployment,) = [d for d in render({"incidents": {"tokenSecret": "am-token"}}) if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["SRE_OPERATOR_ALERTMANAGER_TOKEN_FILE"] == "/etc/sre-operator/alertmanager/token"
    assert env["SRE_OPERATOR_ALERTMANAGER_TOKEN_SECRET"] == "am-token:token"
    assert env["SRE_OPERATOR_ALERTMANAGER_RECEIVER_URL"].endswith(".svc:8080/v1/alertmanager")
    # The token is mounted from the Secret, never copied into the manifest.
    assert {
        "name": "alertmanager-token",
        "secret": {"secretName": "am-token", "items": [{"key": "token", "path": "token"}]},
    } in pod["volumes"]
    (default,) = [d for d in render({}) if d["kind"] == "Deployment"]
    names = {e["name"] for e in default["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "SRE_OPERATOR_ALERTMANAGER_TOKEN_FILE" not in names
    assert any(d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard") for d in render({}))


def test_the_ports_can_be_narrowed_to_who_needs_them() -> None:
    values = VALUE_SETS["locked ports"]
    documents = render(values)
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["SRE_OPERATOR_WEBHOOK_CLIENT_CA"] == "/etc/sre-operator/webhook-client-ca/ca.crt"
    assert {
        "name": "webhook-client-ca",
        "configMap": {"name": "apiserver-webhook-client-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
    } in pod["volumes"]
    (policy,) = [d for d in documents if d["kind"] == "NetworkPolicy"]
    rules = {rule["ports"][0]["port"]: rule.get("from") for rule in policy["spec"]["ingress"]}
    assert rules == {8080: None, 9443: [{"ipBlock": {"cidr": "10.0.0.0/24"}}]}
    defaults = render({})
    assert not [d for d in defaults if d["kind"] == "NetworkPolicy"]
    (plain,) = [d for d in defaults if d["kind"] == "Deployment"]
    assert "SRE_OPERATOR_WEBHOOK_CLIENT_CA" not in {
        e["name"] for e in plain["spec"]["template"]["spec"]["containers"][0]["env"]
    }
