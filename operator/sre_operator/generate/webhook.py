"""The ValidatingWebhookConfiguration that sends gated workloads' changes to the operator. Pure.

What reaches the webhook is cut down before the API server calls it: only
namespaces that opt in (label ``reliability.dev/release-gates: enabled``),
never ``kube-system`` nor the operator's own namespace, only the workload
itself (not ``/scale`` or ``/status``), and by ``matchConditions`` only
creates and updates whose pod template changed, so scaling and status
updates cost the API server nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal

from sre_operator.models.base import API_GROUP

WEBHOOK_NAME = f"release-gate.{API_GROUP}"
OPT_IN_LABEL = f"{API_GROUP}/release-gates"
WEBHOOK_PATH = "/validate/release-gate"

# Rollouts may point at a template elsewhere (workloadRef): those always reach the webhook.
TEMPLATE_CHANGED = (
    "request.operation == 'CREATE' || !has(object.spec.template) || !has(oldObject.spec.template) "
    "|| object.spec.template != oldObject.spec.template"
)


@dataclass(frozen=True)
class WebhookOptions:
    failure_policy: Literal["Ignore", "Fail"] = "Ignore"
    timeout_seconds: int = 5
    operator_namespace: str = "sre-operator"


def webhook_rules() -> list[dict[str, Any]]:
    common = {"operations": ["CREATE", "UPDATE"], "scope": "Namespaced"}
    return [
        {
            "apiGroups": ["apps"],
            "apiVersions": ["v1"],
            "resources": ["deployments", "statefulsets", "daemonsets"],
            **common,
        },
        {"apiGroups": ["argoproj.io"], "apiVersions": ["v1alpha1"], "resources": ["rollouts"], **common},
    ]


def validating_webhook_configuration(
    ca_bundle: bytes, options: WebhookOptions = WebhookOptions(), *, url: str
) -> dict[str, Any]:
    """Registration for an operator reached at ``url`` (``https://HOST:PORT``)."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "sre-operator-release-gates", "labels": {"app.kubernetes.io/name": "sre-operator"}},
        "webhooks": [
            {
                "name": WEBHOOK_NAME,
                "admissionReviewVersions": ["v1"],
                # Real admissions of exceptions and denials are recorded (Events, status); dry runs never are.
                "sideEffects": "NoneOnDryRun",
                "failurePolicy": options.failure_policy,
                "timeoutSeconds": options.timeout_seconds,
                "matchPolicy": "Equivalent",
                "clientConfig": {
                    "url": url.rstrip("/") + WEBHOOK_PATH,
                    "caBundle": base64.b64encode(ca_bundle).decode(),
                },
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": OPT_IN_LABEL, "operator": "In", "values": ["enabled"]},
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": sorted({"kube-system", options.operator_namespace}),
                        },
                    ]
                },
                "rules": webhook_rules(),
                "matchConditions": [{"name": "pod-template-changed", "expression": TEMPLATE_CHANGED}],
            }
        ],
    }
