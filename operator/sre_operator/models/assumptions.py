"""What the operator fills in for a plan, said in one sentence each (``status.assumptions``).

A plan never depends on a default silently: every default below is also a
sentence here, and a plan with none of them is ``Complete``.
"""

from __future__ import annotations

from sre_operator.models.plan import ServiceReliabilityPlan, Slo
from sre_operator.tiers import DEFAULT_SCRAPE_INTERVAL, BurnTier, Tiling, tiers_of, tiling

DEFAULT_TIER = "medium"
DEFAULT_WINDOW = "30d"


def slo_window(slo: Slo) -> str:
    return slo.window or DEFAULT_WINDOW


def scrape_interval(slo: Slo) -> str:
    return slo.indicator.scrape_interval or DEFAULT_SCRAPE_INTERVAL


def alerted_tiers(slo: Slo) -> tuple[BurnTier, ...]:
    """The burn-rate tiers this SLO alerts on."""
    return (tiers_of("critical") if slo.alerting.page else ()) + (tiers_of("warning") if slo.alerting.ticket else ())


def slo_tiling(slo: Slo) -> Tiling:
    return tiling(scrape_interval(slo), alerted_tiers(slo))


def plan_assumptions(plan: ServiceReliabilityPlan) -> list[str]:
    spec = plan.spec
    said: list[str] = []
    if spec.service.tier is None:
        said.append(f"No service.tier given: the service is treated as tier {DEFAULT_TIER}.")
    for slo in spec.slos:
        if slo.window is None:
            said.append(f"SLO {slo.name} has no window: it uses a {DEFAULT_WINDOW} rolling window.")
        if slo.indicator.scrape_interval is None:
            said.append(
                f"SLO {slo.name} has no indicator.scrapeInterval: its series are taken to be scraped every"
                f" {DEFAULT_SCRAPE_INTERVAL} or more often."
            )
    routing = spec.alerting.routing if spec.alerting else None
    if routing is None or routing.page is None:
        said.append("No page receiver given: pages route to the Alertmanager default receiver.")
    if routing is None or routing.ticket is None:
        said.append("No ticket receiver given: tickets route to the Alertmanager default receiver.")
    if spec.incident is None:
        said.append("No incident section: the default SEV1..SEV5 model applies and no incident roles are named.")
    elif not spec.incident.escalation:
        said.append("No escalation steps: pages are not escalated beyond the page receiver.")
    if spec.capacity is None:
        said.append("No capacity section: saturation, replica counts and disruption budgets are not watched.")
    if spec.runbooks is None or not spec.runbooks.base_url:
        said.append("No runbooks.baseURL: runbook links point to the operator's own runbook server.")
    entries = spec.runbooks.entries if spec.runbooks else {}
    for slo in spec.slos:
        if slo.name not in entries:
            said.append(
                f"No runbook entry for SLO {slo.name}: its runbook carries generic diagnosis and mitigation steps."
            )
    if spec.postmortem is None or spec.postmortem.triggers is None:
        said.append(
            "No postmortem triggers: SEV1 and SEV2 incidents and any incident spending 20% of a budget need a postmortem."
        )
    if spec.release is None:
        said.append("No release section: releases of this service are not gated by its error budget.")
    if spec.reporting is None:
        said.append("No reporting section: the plan has no review cadence, approvers or review date.")
    return said


def residual_risks(plan: ServiceReliabilityPlan) -> list[str]:
    """Risks the plan accepts as written, which a reviewer should see."""
    risks: list[str] = []
    for slo in plan.spec.slos:
        if not slo.alerting.page:
            risks.append(f"SLO {slo.name} never pages: a fast burn is noticed only by tickets or people.")
        if slo.alerting.no_data_for is None:
            risks.append(f"SLO {slo.name} has no noDataFor: an SLI that stops reporting raises no alert.")
        if slo.indicator.expression is not None:
            risks.append(
                f"SLO {slo.name} uses an expression SLI: its window budget is time-weighted, not traffic-weighted."
            )
    capacity = plan.spec.capacity
    if capacity is not None and not capacity.require_pod_disruption_budget:
        risks.append("No PodDisruptionBudget is required: voluntary disruptions may take every replica at once.")
    return risks
