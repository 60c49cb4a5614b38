"""The operator's HTTP API as OpenAPI 3.0 documents, served at ``/openapi.json`` on each port.

Clients (and the fuzzing in the test suite) read what each route takes and
answers from here; the routes themselves are in ``server`` and ``webhook``.
"""

from __future__ import annotations

from typing import Any, get_args

from sre_operator import __version__
from sre_operator.gates.decision import State

NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253}
ERROR = {
    "description": "one line saying what is wrong",
    "content": {
        "application/json": {
            "schema": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
        }
    },
}
MISTAKES = {
    "400": ERROR,
    "413": {**ERROR, "description": "the body is larger than this route takes"},
    "415": {**ERROR, "description": "a compressed body, or a charset other than UTF-8"},
}
NOT_READY = {**ERROR, "description": "this replica is not ready (a standby, or still loading its gates)"}
GATE = {
    "type": "object",
    "required": ["namespace", "name", "allowed", "state", "reason"],
    "properties": {
        "namespace": {"type": "string"},
        "name": {"type": "string"},
        "allowed": {"type": "boolean"},
        "state": {"type": "string", "enum": list(get_args(State))},
        "reason": {"type": "string"},
        "budgetRemaining": {"type": "number", "nullable": True},
        "burnRates": {"type": "object", "additionalProperties": {"type": "number"}},
        "decisionId": {"type": "string"},
        "since": {"type": "string"},
        "dryRun": {"type": "boolean"},
    },
}
STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
ALERT = {
    "type": "object",
    "required": ["status", "labels", "startsAt", "fingerprint"],
    "properties": {
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "labels": STRINGS,
        "annotations": STRINGS,
        "startsAt": {"type": "string", "format": "date-time"},
        "endsAt": {"type": "string", "format": "date-time"},
        "generatorURL": {"type": "string"},
        "fingerprint": {"type": "string", "minLength": 1},
    },
}
NOTIFICATION = {
    "type": "object",
    "required": ["version", "groupKey", "status", "alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "groupKey": {"type": "string", "minLength": 1},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "receiver": {"type": "string"},
        "groupLabels": STRINGS,
        "commonLabels": STRINGS,
        "commonAnnotations": STRINGS,
        "externalURL": {"type": "string"},
        "alerts": {"type": "array", "minItems": 1, "items": ALERT},
    },
}
WORKLOAD = {
    "type": "object",
    "properties": {
        "metadata": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "labels": STRINGS, "annotations": STRINGS},
        },
        "spec": {"type": "object"},
    },
}
REVIEW = {
    "type": "object",
    "required": ["apiVersion", "kind", "request"],
    "properties": {
        "apiVersion": {"type": "string", "enum": ["admission.k8s.io/v1"]},
        "kind": {"type": "string", "enum": ["AdmissionReview"]},
        "request": {
            "type": "object",
            "required": ["uid", "kind", "namespace", "operation"],
            "properties": {
                "uid": {"type": "string", "minLength": 1, "maxLength": 128},
                "kind": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {
                        "group": {"type": "string"},
                        "version": {"type": "string"},
                        "kind": {"type": "string", "minLength": 1},
                    },
                },
                "namespace": {"type": "string", "minLength": 1, "maxLength": 63},
                "name": {"type": "string"},
                "operation": {"type": "string", "enum": ["CREATE", "UPDATE", "DELETE", "CONNECT"]},
                "userInfo": {"type": "object", "properties": {"username": {"type": "string"}}},
                "object": {**WORKLOAD, "nullable": True},
                "oldObject": {**WORKLOAD, "nullable": True},
                "dryRun": {"type": "boolean"},
            },
        },
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_names(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": NAME} for name in names]


def _document(title: str, paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": title, "version": __version__}, "paths": paths, **extra}


def _self_description() -> dict[str, Any]:
    return {
        "get": {
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document of this port")},
        }
    }


def http_document() -> dict[str, Any]:
    """The routes on ``--http-address``."""
    health = {"type": "object", "properties": {"status": {"type": "string"}}}
    paths = {
        "/openapi.json": _self_description(),
        "/healthz": {
            "get": {
                "summary": "Liveness: every background duty up",
                "responses": {"200": _json(health, "all duties up"), "503": _json(health, "a duty is down")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: this replica leads and has loaded every gate",
                "responses": {"200": _json(health, "ready"), "503": _json(health, "not ready")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "text exposition", "content": {"text/plain": {}}}},
            }
        },
        "/v1/gates/{namespace}/{name}": {
            "get": {
                "summary": "A release gate's current answer",
                "parameters": _path_names("namespace", "name"),
                "responses": {
                    "200": _json(GATE, "the gate's answer"),
                    "400": ERROR,
                    "404": {**ERROR, "description": "no such gate"},
                    "503": NOT_READY,
                },
            }
        },
        "/v1/flagger/{namespace}/{name}": {
            "post": {
                "summary": "Flagger's confirm-rollout webhook: 200 lets the canary go on, 423 holds it",
                "parameters": _path_names("namespace", "name"),
                "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": _json(GATE, "allowed"),
                    "423": _json(GATE, "frozen"),
                    "400": ERROR,
                    "404": {**ERROR, "description": "no such gate"},
                    "503": NOT_READY,
                },
            }
        },
        "/runbooks/{namespace}/{plan}/{slo}": {
            "get": {
                "summary": "An SLO's runbook (HTML; Markdown with Accept: text/markdown)",
                "parameters": _path_names("namespace", "plan", "slo"),
                "responses": {
                    "200": {"description": "the runbook", "content": {"text/html": {}, "text/markdown": {}}},
                    "400": ERROR,
                    "404": {**ERROR, "description": "no such plan or SLO"},
                },
            }
        },
        "/v1/alertmanager": {
            "post": {
                "summary": "Alertmanager's webhook (payload version 4): opens and resolves Incidents",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": NOTIFICATION}}},
                "responses": {
                    "200": _json({"type": "object", "properties": {"accepted": {"type": "integer"}}}, "taken"),
                    **MISTAKES,
                    "401": {**ERROR, "description": "no or a wrong bearer token"},
                    "404": {**ERROR, "description": "the receiver is off (no --alertmanager-token-file)"},
                    "503": {**ERROR, "description": "too many notifications waiting, or the token file unreadable"},
                },
            }
        },
        **_ui_paths(),
    }
    security = {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    return _document("sre-operator HTTP API", paths, components=security)


def _ui_paths() -> dict[str, Any]:
    """The web view's pages: HTML, read-only, 404 when it is off and 503 on a replica that is not ready."""
    html = {"description": "the page", "content": {"text/html": {}}}
    off = {"404": {**ERROR, "description": "the web view is off"}, "503": NOT_READY}
    pages = {
        "/ui/": "SLOs: budget, SLI, burn rate, gate and data quality of each; filters and sort in the query",
        "/ui/gates": "Gates: state, reason, overrides and recent admissions",
        "/ui/incidents": "Incidents and overdue corrective actions",
        "/ui/reports": "Reports each plan has written",
    }
    found: dict[str, Any] = {
        path: {"get": {"summary": text, "responses": {"200": html, **off}}} for path, text in pages.items()
    }
    found["/ui/slos/{namespace}/{plan}/{slo}"] = {
        "get": {
            "summary": "One SLO: tiles, budget and SLI charts, burn-rate tiers, the PromQL behind them, the runbook",
            "parameters": _path_names("namespace", "plan", "slo"),
            "responses": {
                "200": html,
                "400": ERROR,
                **off,
                "404": {**ERROR, "description": "no such SLO, or the web view is off"},
            },
        }
    }
    found["/ui/static/ui.css"] = {
        "get": {
            "summary": "The web view's stylesheet",
            "responses": {"200": {"description": "CSS", "content": {"text/css": {}}}},
        }
    }
    return found


def webhook_document() -> dict[str, Any]:
    """The routes on ``--webhook-address`` (HTTPS)."""
    answer = {"type": "object", "required": ["apiVersion", "kind", "response"]}
    paths = {
        "/openapi.json": _self_description(),
        "/validate/release-gate": {
            "post": {
                "summary": "The validating admission webhook for gated workloads",
                "requestBody": {"required": True, "content": {"application/json": {"schema": REVIEW}}},
                "responses": {
                    "200": _json(answer, "the verdict, as an AdmissionReview"),
                    **{
                        **MISTAKES,
                        "400": {**ERROR, "description": "a review that cannot be judged: no verdict at all"},
                    },
                    "503": {**NOT_READY, "description": "no verdict from this replica now: failurePolicy decides"},
                },
            }
        },
    }
    return _document("sre-operator admission webhook", paths)
