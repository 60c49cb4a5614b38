"""CustomResourceDefinitions generated from the models: one source of truth for shape and validation.

pydantic's JSON Schema is turned into a Kubernetes structural schema:
references inlined, nullable unions folded, exclusive bounds rewritten in
OpenAPI v3 form, defaults kept only where they are real values (an absent
optional field stays absent, so the operator can say what it assumed).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from sre_operator.models.base import API_GROUP, API_VERSION
from sre_operator.models.gate import GateSpec
from sre_operator.models.incident import IncidentSpec
from sre_operator.models.plan import PlanSpec
from sre_operator.models.policy import PolicySpec
from sre_operator.models.status import GateStatus, IncidentStatus, PlanStatus, PolicyStatus

Schema = dict[str, Any]
_DROPPED = ("title", "$defs")
_LIST_KEYS = {"slos": "name", "journeys": "name", "rules": "name", "correctiveActions": "id"}


def _resolve(node: Any, defs: dict[str, Schema]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs)
    return {key: _resolve(value, defs) for key, value in node.items()}


def _fold_nullable(node: Schema) -> Schema:
    options = node.get("anyOf")
    if options is None:
        return node
    concrete = [o for o in options if o.get("type") != "null"]
    if len(concrete) != 1:
        raise ValueError(f"cannot express union {options} structurally")
    folded = {**concrete[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    if folded.get("default", 0) is None:
        del folded["default"]
    return folded


def _is_real_default(value: Any) -> bool:
    return value not in (None, "", [], {})


def _structural(node: Any, name: str = "") -> Any:
    if isinstance(node, list):
        return [_structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = _fold_nullable(node)
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "additionalProperties" and value is False):
            continue
        if key == "default" and not _is_real_default(value):
            continue
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
            continue
        if key == "properties":
            out[key] = {prop: _structural(schema, prop) for prop, schema in value.items()}
            continue
        out[key] = _structural(value)
    if out.get("type") == "array" and name in _LIST_KEYS:
        if out.get("items", {}).get("type") == "object":
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = [_LIST_KEYS[name]]
        else:
            out["x-kubernetes-list-type"] = "set"
    if out.get("type") == "object" and "additionalProperties" in out and "maxProperties" not in out:
        out["maxProperties"] = 64
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def openapi_schema(model: type[BaseModel]) -> Schema:
    """The structural OpenAPI v3 schema of a model, as a CRD embeds it."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return dict(_structural(_resolve({k: v for k, v in raw.items() if k != "$defs"}, raw.get("$defs", {}))))


KINDS: dict[str, dict[str, Any]] = {
    "ServiceReliabilityPlan": {
        "plural": "servicereliabilityplans",
        "short": ["srp"],
        "spec": PlanSpec,
        "status": PlanStatus,
        "description": "A service's SRE operating plan: SLOs, alerting, incident command, capacity, runbooks, "
        "postmortems, release gating and reporting. The operator turns it into Prometheus rules, "
        "alert routing, runbooks and an operations bundle.",
        "columns": [
            ("Service", "string", ".spec.service.name", "Service the plan covers."),
            ("SLOs", "integer", ".status.sloCount", "Number of SLOs."),
            ("Budget", "string", ".status.lowestBudgetRemaining", "Lowest remaining error budget of any SLO."),
            (
                "Ready",
                "string",
                '.status.conditions[?(@.type=="Ready")].status',
                "Whether generated objects are in place.",
            ),
            ("Age", "date", ".metadata.creationTimestamp", "Time since creation."),
        ],
    },
    "ErrorBudgetPolicy": {
        "plural": "errorbudgetpolicies",
        "short": ["ebp"],
        "spec": PolicySpec,
        "status": PolicyStatus,
        "description": "What happens as an error budget is spent: warnings, release freezes, postmortems.",
        "columns": [
            ("Valid", "string", '.status.conditions[?(@.type=="Valid")].status', "Whether the policy is valid."),
            ("Age", "date", ".metadata.creationTimestamp", "Time since creation."),
        ],
    },
    "ReleaseGate": {
        "plural": "releasegates",
        "short": ["rgate"],
        "spec": GateSpec,
        "status": GateStatus,
        "description": "Blocks rollouts of gated workloads while an error budget is exhausted.",
        "columns": [
            ("State", "string", ".status.state", "Open, Frozen, Evaluating or Invalid."),
            ("Allowed", "boolean", ".status.allowed", "Whether gated rollouts are admitted."),
            ("Budget", "number", ".status.budgetRemaining", "Remaining budget of the deciding SLO (1 is all)."),
            ("Reason", "string", ".status.reason", "Why."),
            ("Age", "date", ".metadata.creationTimestamp", "Time since creation."),
        ],
    },
    "Incident": {
        "plural": "incidents",
        "short": ["inc"],
        "spec": IncidentSpec,
        "status": IncidentStatus,
        "description": "An alert group of a plan that paged, recorded by the operator from Alertmanager's "
        "notifications: its alerts, timeline, budget spent and postmortem.",
        "columns": [
            ("Plan", "string", ".spec.planRef.name", "The plan whose alerts opened it."),
            ("Severity", "string", ".spec.severity", "SEV level."),
            ("State", "string", ".status.state", "Open or Resolved."),
            ("Budget", "string", ".status.budgetSpent", "Largest share of an SLO's budget spent over the incident."),
            ("Postmortem", "string", ".spec.postmortem.state", "Draft, InReview, Reviewed or Closed."),
            ("Age", "date", ".metadata.creationTimestamp", "Time since creation."),
        ],
    },
}


def crd(kind: str) -> dict[str, Any]:
    info = KINDS[kind]
    spec_schema = openapi_schema(info["spec"])
    spec_schema["description"] = f"Desired state of the {kind}."
    status_schema = openapi_schema(info["status"])
    status_schema["description"] = f"Observed state of the {kind}, written by the operator."
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{info['plural']}.{API_GROUP}",
            "labels": {"app.kubernetes.io/name": "sre-operator", "app.kubernetes.io/part-of": "sre-operator"},
        },
        "spec": {
            "group": API_GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": info["plural"],
                "singular": kind.lower(),
                "shortNames": info["short"],
                "categories": ["sre"],
            },
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": n, "type": t, "jsonPath": p, "description": d} for n, t, p, d in info["columns"]
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": info["description"],
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {
                                    "type": "string",
                                    "description": "API version: reliability.dev/v1alpha1.",
                                },
                                "kind": {"type": "string", "description": f"Kind: {kind}."},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """File name -> CRD, for every kind."""
    return {f"{API_GROUP}_{KINDS[kind]['plural']}.yaml": crd(kind) for kind in KINDS}
