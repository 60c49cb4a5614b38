"""Everything a plan generates, as plain objects (no owner references: the I/O layer adds them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from sre_operator.generate.documents import config_map, operations_bundle, runbooks
from sre_operator.generate.rules import DEFAULT_OPTIONS, RenderOptions, prometheus_rule
from sre_operator.models.plan import ServiceReliabilityPlan

RULES_FILE_LABEL = "reliability.dev/prometheus-rules"


@dataclass(frozen=True)
class Capabilities:
    """What the target cluster offers; decides the form rules take."""

    prometheus_operator: bool = True


def rules_config_map(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The rules as a plain Prometheus rules file, for a sidecar or a mounted rule_files path."""
    groups = prometheus_rule(plan, options)["spec"]
    text = yaml.safe_dump(groups, sort_keys=False, width=10_000, allow_unicode=True)
    filename = f"{plan.metadata.namespace}-{plan.metadata.name}.rules.yaml"
    return config_map(plan, "prometheus-rules", {filename: text}, **{RULES_FILE_LABEL: "true"})


def desired_children(
    plan: ServiceReliabilityPlan, capabilities: Capabilities = Capabilities(), options: RenderOptions = DEFAULT_OPTIONS
) -> list[dict[str, Any]]:
    children = [prometheus_rule(plan, options) if capabilities.prometheus_operator else rules_config_map(plan, options)]
    children.append(config_map(plan, "runbooks", runbooks(plan, options)))
    children.append(config_map(plan, "operations", {"operations.md": operations_bundle(plan, options)}))
    # Routing (AlertmanagerConfig or a raw configuration Secret) joins here when it is generated.
    return children
