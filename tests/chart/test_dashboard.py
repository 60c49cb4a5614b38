"""The Grafana dashboard the chart ships: well-formed, every query valid PromQL, every series one that exists
(recorded by the generated rules, Prometheus' ALERTS, or exported by the operator)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import promql_parser

from sre_operator.generate import prometheus_rule
from sre_operator.http import Metrics
from sre_operator.http.metrics import state_families
from tests.conftest import ROOT, example_plans

DASHBOARD = ROOT / "charts" / "sre-operator" / "files" / "grafana" / "sre-operator.json"
# The part of Grafana's dashboard model that Grafana needs to import the file (schemaVersion 39).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "templating", "time"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "time": {"type": "object", "required": ["from", "to"]},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {
                "list": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "type"],
                        "properties": {"type": {"enum": ["query", "datasource", "custom", "constant"]}},
                    },
                }
            },
        },
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "gridPos", "targets"],
                "properties": {
                    "id": {"type": "integer"},
                    "type": {"enum": ["stat", "timeseries", "table", "gauge", "bargauge"]},
                    "gridPos": {
                        "type": "object",
                        "required": ["x", "y", "w", "h"],
                        "properties": {"x": {"minimum": 0, "maximum": 23}, "w": {"minimum": 1, "maximum": 24}},
                    },
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "object", "required": ["refId", "expr"]},
                    },
                },
            },
        },
    },
}
VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def expressions() -> list[str]:
    found = [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]
    found += [v["query"]["query"] for v in dashboard()["templating"]["list"] if v["type"] == "query"]
    return found


def as_promql(expression: str) -> str:
    """Grafana's variables as Prometheus sees them after substitution; label_values() as its selector."""
    text = VARIABLE.sub(".*", expression)
    called = re.fullmatch(r"label_values\((.+), \w+\)", text)
    return called.group(1) if called else text


def series_names(node: Any) -> set[str]:
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name} if node.name else set()
    if isinstance(node, promql_parser.MatrixSelector):
        return series_names(node.vector_selector)
    names: set[str] = set()
    for attribute in ("lhs", "rhs", "expr", "args", "param"):
        child = getattr(node, attribute, None)
        for item in child if isinstance(child, list) else [child]:
            if item is not None:
                names |= series_names(item)
    return names


def existing_series() -> set[str]:
    recorded = {
        rule["record"]
        for plan in example_plans()
        for group in prometheus_rule(plan)["spec"]["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    exported = set()
    # The registry's own families, and those read from the operator's state at scrape time.
    families = [*Metrics().registry.collect(), *state_families((), (), (), (), ready=True)]
    for family in families:
        # A labelled family has no samples until used: its exposed names follow from its type.
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(family.type, ("",))
        exported |= {family.name + suffix for suffix in suffixes}
    return recorded | exported | {"ALERTS"}


def test_the_dashboard_is_a_well_formed_grafana_dashboard() -> None:
    model = dashboard()
    jsonschema.validate(model, SCHEMA)
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


def test_every_query_parses_and_names_only_series_that_exist() -> None:
    known = existing_series()
    used: set[str] = set()
    for expression in expressions():
        parsed = promql_parser.parse(as_promql(expression))
        names = series_names(parsed)
        assert names, expression
        assert names <= known, (expression, names - known)
        used |= names
    # It shows budgets, burn rates, pages and gates: what the issue asks the dashboard to cover.
    assert {"slo:error_budget_remaining:ratio", "slo:burn_rate:ratio", "ALERTS", "sre_operator_gate_state"} <= used
