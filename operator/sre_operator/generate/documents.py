"""A plan's readable documents: one runbook per SLO (a section per alert) and the SRE operations bundle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_operator.generate import names
from sre_operator.generate.markdown import render
from sre_operator.generate.rules import DEFAULT_OPTIONS, RenderOptions, SloContext, alert_rules, plan_labels
from sre_operator.generate.tiers import TIERS
from sre_operator.models.assumptions import plan_assumptions, residual_risks, slo_window
from sre_operator.models.plan import ServiceReliabilityPlan

DEFAULT_SEVERITIES = (
    ("SEV1", "Critical user journey down or data loss; all hands, page the incident commander."),
    ("SEV2", "Major degradation of a critical journey or fast budget burn; page the on-call."),
    ("SEV3", "Partial degradation or slow budget burn; ticket, fix within the business day."),
    ("SEV4", "Minor issue with a workaround; ticket."),
    ("SEV5", "Cosmetic or internal-only; backlog."),
)
GENERIC_DIAGNOSIS = (
    "Open the SLO dashboard and find when the error ratio rose and on which routes or instances.",
    "Check deployments, configuration and feature-flag changes in the hour before.",
    "Check the service's dependencies (databases, queues, downstream APIs) for errors or saturation.",
)
GENERIC_MITIGATION = (
    "Roll back the most recent change if it lines up with the start of the burn.",
    "Shift traffic away from failing instances or regions; scale out if saturated.",
    "Declare an incident if the burn continues after the first mitigation.",
)


@dataclass(frozen=True)
class RunbookAlert:
    name: str
    anchor: str
    severity: str
    summary: str
    description: str


def _alerts(plan: ServiceReliabilityPlan, options: RenderOptions) -> dict[str, list[RunbookAlert]]:
    found = {}
    for slo in plan.spec.slos:
        rules = alert_rules(SloContext(plan, slo, options))
        found[slo.name] = [
            RunbookAlert(
                r["alert"],
                r["alert"].lower(),
                r["labels"]["severity"],
                r["annotations"]["summary"],
                r["annotations"]["description"],
            )
            for r in rules
        ]
    return found


def runbooks(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> dict[str, str]:
    """Markdown per SLO (``<slo>.md``) plus the incident-response guide."""
    spec = plan.spec
    entries = spec.runbooks.entries if spec.runbooks else {}
    alerts = _alerts(plan, options)
    documents = {}
    for slo in spec.slos:
        entry = entries.get(slo.name)
        documents[f"{slo.name}.md"] = render(
            "runbook.md.j2",
            plan=plan,
            slo=slo,
            window=slo_window(slo),
            alerts=alerts[slo.name],
            diagnosis=list(entry.diagnosis) if entry and entry.diagnosis else list(GENERIC_DIAGNOSIS),
            mitigation=list(entry.mitigation) if entry and entry.mitigation else list(GENERIC_MITIGATION),
            generic=entry is None,
            escalation=spec.incident.escalation if spec.incident else [],
            owner=spec.service.owner,
        )
    documents["incident-response.md"] = render("incident-response.md.j2", plan=plan, severities=_severities(plan))
    return documents


def _severities(plan: ServiceReliabilityPlan) -> list[tuple[str, str]]:
    incident = plan.spec.incident
    if incident and incident.severities:
        return [(s.name, s.description) for s in incident.severities]
    return list(DEFAULT_SEVERITIES)


def operations_bundle(plan: ServiceReliabilityPlan, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """The SRE operations plan as one readable document: every section, assumptions and residual risks."""
    tiers = [(t.severity, t.long, t.short, t.budget_spent) for t in TIERS]
    return render(
        "operations.md.j2",
        plan=plan,
        spec=plan.spec,
        window=slo_window,
        tiers=tiers,
        alerts=_alerts(plan, options),
        assumptions=plan_assumptions(plan),
        risks=residual_risks(plan),
        severities=_severities(plan),
        names=names,
    )


def config_map(plan: ServiceReliabilityPlan, suffix: str, data: dict[str, str], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{plan.metadata.name}-{suffix}",
            "namespace": plan.metadata.namespace,
            "labels": {**plan_labels(plan), **labels},
        },
        "data": data,
    }
