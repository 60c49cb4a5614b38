"""What every importer shares: the conversion's result, names made Kubernetes-safe, and rate queries read back
into the counter selectors a plan takes. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import promql_parser

from sre_operator.promql import parse_selector

PLACEHOLDER_WINDOW = "5m"
"""Stands in for a templated range while a query is parsed; never written anywhere."""
UNKNOWN_TEAM = "unknown"


@dataclass(frozen=True)
class Dropped:
    """Something of the source the plan cannot carry, by name, with why."""

    source: str
    field: str
    reason: str

    def line(self) -> str:
        return f"{self.source}: {self.field}: {self.reason}"


@dataclass
class Conversion:
    plans: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    assumed: list[Dropped] = field(default_factory=list)
    """What the source does not say and the plan needs: set to a default, to revisit."""


def dns_name(text: str) -> str:
    """``text`` as a Kubernetes object or label-value name: lower case, dashes, at most 63 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", name)[:63].strip("-") or "unnamed"


@dataclass(frozen=True)
class RateQuery:
    """``sum [by (labels)] (rate|increase(selector[window]))`` read back into its parts."""

    selector: str
    group_by: tuple[str, ...] = ()


def rate_query(query: str, window_template: str) -> RateQuery | None:
    """The counter selector (and grouping) of a query shaped as SLO tools write them, with the range written as
    ``window_template`` (``{{.window}}``, ``$window``); None for any other shape, which then stays an expression."""
    try:
        parsed = promql_parser.parse(query.replace(window_template, PLACEHOLDER_WINDOW))
    except ValueError:
        return None
    while isinstance(parsed, promql_parser.ParenExpr):
        parsed = parsed.expr
    group_by: tuple[str, ...] = ()
    if isinstance(parsed, promql_parser.AggregateExpr):
        if str(parsed.op) != "sum" or parsed.param is not None:
            return None
        modifier = parsed.modifier
        if modifier is not None:
            if modifier.type != promql_parser.AggModifierType.By:
                return None
            group_by = tuple(modifier.labels)
        parsed = parsed.expr
    if not isinstance(parsed, promql_parser.Call) or parsed.func.name not in ("rate", "increase", "irate"):
        return None
    (argument,) = parsed.args
    if not isinstance(argument, promql_parser.MatrixSelector):
        return None
    return _selector(str(argument.vector_selector), group_by)


def counter_selector(query: str) -> RateQuery | None:
    """A query that is a plain counter selector (OpenSLO and Pyrra name the counter itself)."""
    return _selector(query.strip(), ())


def _selector(text: str, group_by: tuple[str, ...]) -> RateQuery | None:
    try:
        selector = parse_selector(text)
    except ValueError:
        return None
    return RateQuery(selector.render(), group_by)


def plan_document(
    name: str, namespace: str, service: str, team: str, slos: list[dict[str, Any]], labels: dict[str, str]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"service": {"name": dns_name(service), "owner": {"team": team}}, "slos": slos}
    if labels:
        spec["alerting"] = {"labels": dict(labels)}
    metadata: dict[str, Any] = {"name": dns_name(name)}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": metadata,
        "spec": spec,
    }
