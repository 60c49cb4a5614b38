"""What an incident is, from the plan and the policy: its SEV level, its commander, whether it needs a
postmortem, and the PromQL that measures the budget it spent. Pure."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping

from sre_operator.durations import seconds
from sre_operator.generate import names
from sre_operator.generate.incident import severities
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.rules import SloContext
from sre_operator.generate.sli import ExpressionSli, build_sli
from sre_operator.models.plan import PostmortemTriggers, ServiceReliabilityPlan
from sre_operator.models.policy import ErrorBudgetPolicy
from sre_operator.tiers import HOUR

# What status.assumptions promises for a plan without triggers.
DEFAULT_TRIGGERS = PostmortemTriggers(budget_consumed_percent=20, severities=["SEV1", "SEV2"])
# A page is the default model's SEV2 ("the budget burns fast"), a ticket its SEV3.
SEV_OF_ALERT = {"critical": "SEV2", "warning": "SEV3"}


def sev_level(plan: ServiceReliabilityPlan, alert_severity: str) -> str:
    levels = [s.name for s in severities(plan)]
    wanted = SEV_OF_ALERT.get(alert_severity, "")
    if wanted in levels:
        return wanted
    return levels[min(1, len(levels) - 1)] if levels else ""


def commander(plan: ServiceReliabilityPlan) -> str:
    roles = plan.spec.incident.roles if plan.spec.incident else None
    return roles.incident_commander if roles else ""


def postmortem_requirement(
    plan: ServiceReliabilityPlan,
    policy: ErrorBudgetPolicy | None,
    severity: str,
    budget_consumed: Mapping[str, float],
) -> str:
    """Why the incident needs a postmortem, in one line; empty when it does not."""
    reasons = []
    triggers = (plan.spec.postmortem.triggers if plan.spec.postmortem else None) or DEFAULT_TRIGGERS
    worst_slo, worst = max(budget_consumed.items(), key=lambda item: item[1], default=("", 0.0))
    if severity and severity in triggers.severities:
        reasons.append(f"severity {severity} always needs one (plan)")
    if triggers.budget_consumed_percent is not None and worst * 100 >= triggers.budget_consumed_percent:
        reasons.append(f"spent {worst:.0%} of the {worst_slo} budget (plan: {triggers.budget_consumed_percent:g}%)")
    outage = policy.spec.outage if policy else None
    if outage and worst * 100 >= outage.single_incident_budget_percent:
        reasons.append(
            f"spent {worst:.0%} of the {worst_slo} budget (policy outage rule: "
            f"{outage.single_incident_budget_percent:g}%; at least one P0 action)"
        )
    return "; ".join(reasons)


def budget_query(
    plan: ServiceReliabilityPlan,
    slo_name: str,
    started: datetime.datetime,
    ended: datetime.datetime,
    options: RenderOptions = DEFAULT_OPTIONS,
) -> str | None:
    """PromQL for the share of ``slo_name``'s budget spent between ``started`` and ``ended``, from the
    recorded series: the span's errors over the errors the whole window allows."""
    slo = next((s for s in plan.spec.slos if s.name == slo_name), None)
    if slo is None:
        return None
    ctx = SloContext(plan, slo, options)
    span = max(60, math.ceil((ended - started).total_seconds() / 60) * 60)
    at = f"@ {ended.timestamp():.0f}"
    identity = ", ".join(ctx.identity)
    if isinstance(build_sli(slo), ExpressionSli):
        ratio = ctx.series(names.ERROR_RATIO, **{names.LABEL_WINDOW: "5m"})
        return (
            f"avg by ({identity}) (avg_over_time({ratio}[{span}s] {at}))"
            f" * {span / seconds(ctx.window):.10g} / {ctx.budget:.10g}"
        )
    errors = ctx.series(names.SLI_RATE, **{names.LABEL_SLI: names.SLI_ERRORS})
    hourly = ctx.series(names.SLI_RATE, **{names.LABEL_SLI: names.SLI_REQUESTS + names.SLI_HOURLY_SUFFIX})
    # Errors in the span (mean rate x seconds) over requests in the window (hourly means x an hour each):
    # neither depends on how often the rules were evaluated.
    return (
        f"sum by ({identity}) (avg_over_time({errors}[{span}s] {at})) * {span}"
        f" / on({identity}) (sum by ({identity}) (sum_over_time({hourly}[{ctx.window}] {at})) * {seconds(HOUR):g})"
        f" / {ctx.budget:.10g}"
    )
