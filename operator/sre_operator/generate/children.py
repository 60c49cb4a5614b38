"""Everything a plan generates, as plain objects (no owner references: the I/O layer adds them)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import yaml

from sre_operator.generate.documents import config_map, operations_bundle, runbooks
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.routing import alertmanager_config, routing_secret
from sre_operator.generate.rules import prometheus_rule
from sre_operator.models.plan import ServiceReliabilityPlan

RULES_FILE_LABEL = "reliability.dev/prometheus-rules"


@dataclass(frozen=True)
class Capabilities:
    """What the target cluster offers; decides the form rules take."""

    prometheus_operator: bool = True
    alertmanager_config: bool = True
    """Whether the cluster serves monitoring.coreos.com/v1alpha1 (AlertmanagerConfig)."""


def rules_config_map(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The rules as a plain Prometheus rules file, for a sidecar or a mounted rule_files path."""
    groups = prometheus_rule(plan, options)["spec"]
    text = yaml.safe_dump(groups, sort_keys=False, width=10_000, allow_unicode=True)
    filename = f"{plan.metadata.namespace}-{plan.metadata.name}.rules.yaml"
    return config_map(plan, "prometheus-rules", {filename: text}, **{RULES_FILE_LABEL: "true"})


def desired_children(
    plan: ServiceReliabilityPlan,
    capabilities: Capabilities = Capabilities(),
    options: RenderOptions = DEFAULT_OPTIONS,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Every object ``plan`` generates; ``today`` fixes the UTC offset of business hours (default: today)."""
    children = [prometheus_rule(plan, options) if capabilities.prometheus_operator else rules_config_map(plan, options)]
    children.append(config_map(plan, "runbooks", runbooks(plan, options)))
    children.append(config_map(plan, "operations", {"operations.md": operations_bundle(plan, options)}))
    routing = plan.spec.alerting.routing if plan.spec.alerting else None
    if routing is not None:
        operator_form = "alertmanagerConfig" in routing.outputs and capabilities.alertmanager_config
        if operator_form:
            children.append(_required(alertmanager_config(plan, today, options.incident_receiver)))
        # The raw configuration when asked for, and in place of an AlertmanagerConfig the cluster cannot take.
        if "alertmanagerSecret" in routing.outputs or not operator_form:
            children.append(_required(routing_secret(plan, options.incident_receiver)))
    return children


def _required(child: dict[str, Any] | None) -> dict[str, Any]:
    assert child is not None, "a plan with routing always has routing objects"
    return child
