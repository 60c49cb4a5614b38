"""A plan's readable documents: one runbook per SLO (a section per alert) and the SRE operations bundle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_operator.durations import seconds
from sre_operator.generate import names
from sre_operator.generate.incident import DECLARE_WHEN, pagerduty_json, roles, severities
from sre_operator.generate.markdown import render
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.routing import page_timing, receiver_summary
from sre_operator.generate.rules import SloContext, alert_rules, plan_labels
from sre_operator.generate.sli import CounterSli, build_sli
from sre_operator.models.assumptions import plan_assumptions, residual_risks, slo_window
from sre_operator.models.plan import ServiceReliabilityPlan, Slo
from sre_operator.tiers import TIERS, tiers_of

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
class Query:
    promql: str
    shows: str


@dataclass(frozen=True)
class RunbookAlert:
    name: str
    anchor: str
    severity: str
    summary: str
    description: str
    impact: tuple[str, ...] = ()
    queries: tuple[Query, ...] = ()
    checks: tuple[str, ...] = ()


def human_duration(total_seconds: float) -> str:
    """``185000`` -> ``2 days 3 hours``: the two largest units, for people."""
    units = (("day", 86400), ("hour", 3600), ("minute", 60))
    parts = []
    remaining = round(total_seconds)
    for name, size in units:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "under a minute"


def _impact(ctx: SloContext, severity: str) -> tuple[str, ...]:
    """Per tier: the burn rate, the share of the budget it spends in its long window, and the time left."""
    window = seconds(ctx.window)
    lines = []
    for tier in tiers_of("critical" if severity == "critical" else "warning"):
        factor = tier.factor(ctx.window)
        lines.append(
            f"At {factor:g}x (the {tier.long}/{tier.short} tier) {tier.budget_spent:.0%} of the {ctx.window} budget "
            f"goes every {tier.long}; a full budget is gone in {human_duration(window / factor)}."
        )
    return tuple(lines)


def _queries(ctx: SloContext) -> tuple[Query, ...]:
    identity = ctx.series
    found = [
        Query(identity(names.BURN_RATE), f"burn rate per window; 1 spends the budget exactly over {ctx.window}"),
        Query(identity(names.BUDGET_REMAINING), f"share of the {ctx.window} budget left (1 all, below 0 overspent)"),
    ]
    sli = build_sli(ctx.slo)
    if isinstance(sli, CounterSli):
        per = f" per {', '.join(sli.group_by)}" if sli.group_by else ""
        found.append(
            Query(
                f"{sli.errors_rate()} / {sli.requests_rate()}",
                f"error ratio over the last 5m{per}, from the raw series",
            )
        )
        found.append(Query(sli.requests_rate(), f"requests per second{per}: a drop can hide or cause errors"))
    else:
        found.append(Query(sli.error_ratio("5m"), "error ratio over the last 5m, from the plan's expression"))
    return tuple(found)


def _no_data(ctx: SloContext) -> tuple[tuple[Query, ...], tuple[str, ...]]:
    sli = build_sli(ctx.slo)
    if not isinstance(sli, CounterSli):
        watched = ctx.series(names.ERROR_RATIO, window="5m")
        return (Query(f"count({watched})", "0 or empty: the plan's expression returns nothing"),), (
            "Run the plan's error-ratio expression by hand with a 5m range: which part returns nothing?",
        )
    selector = sli.total_selector
    queries = [Query(f"count({selector.render()})", "0 or empty: the selector no longer matches any series")]
    job = next((m for m in selector.matchers if m.name == "job" and m.op == "="), None)
    if job is not None:
        queries.append(Query(f"up{{{job.render()}}}", "0 or empty: the target is down or no longer scraped"))
    queries.append(
        Query(
            f'count by (__name__) ({{__name__=~"{selector.metric.removesuffix("_total")}.*"}})',
            "the metric under another name?",
        )
    )
    return tuple(queries), (
        "Is the target scraped? Check its scrape job and the target page of Prometheus.",
        "Does the selector still match? A renamed metric or label after a deploy drops the SLI.",
        "Did a relabelling rule (metric_relabel_configs, a ServiceMonitor's metricRelabelings) drop the series?",
    )


def _alerts(plan: ServiceReliabilityPlan, options: RenderOptions) -> dict[str, list[RunbookAlert]]:
    found = {}
    for slo in plan.spec.slos:
        ctx = SloContext(plan, slo, options)
        alerts = []
        for rule in alert_rules(ctx):
            severity = rule["labels"]["severity"]
            if rule["alert"] == names.ALERT_NO_DATA:
                queries, checks = _no_data(ctx)
                impact: tuple[str, ...] = (
                    "Nobody can tell whether users are served well: without SLI data the burn-rate alerts cannot fire "
                    "and the budget is not measured.",
                )
            else:
                queries, checks, impact = _queries(ctx), (), _impact(ctx, severity)
            alerts.append(
                RunbookAlert(
                    rule["alert"],
                    rule["alert"],
                    severity,
                    rule["annotations"]["summary"],
                    rule["annotations"]["description"],
                    impact,
                    queries,
                    checks,
                )
            )
        found[slo.name] = alerts
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
    documents["index.md"] = render(
        "runbook-index.md.j2",
        plan=plan,
        window=slo_window,
        alerts=alerts,
        automation=spec.runbooks.automation if spec.runbooks else [],
    )
    policy = pagerduty_json(plan)
    documents["incident-response.md"] = render(
        "incident-response.md.j2",
        plan=plan,
        severities=severities(plan),
        roles=roles(plan),
        declare_when=DECLARE_WHEN,
        escalation=spec.incident.escalation if spec.incident else [],
        pagerduty=policy is not None,
    )
    if policy is not None:
        documents["pagerduty-escalation-policy.json"] = policy
    return documents


def _budget_words(slo: Slo) -> str:
    """The budget as people feel it: the share of requests, and a full outage's worth of time."""
    window = slo_window(slo)
    share = 1 - slo.objective / 100
    percent = f"{share * 100:.3f}".rstrip("0").rstrip(".")
    return f"{percent}% of requests; {human_duration(share * seconds(window))} of full outage per {window}"


SECTION_QUESTIONS = (
    ("incident", "Who leads incidents, and how pages escalate (spec.incident)."),
    ("capacity", "Which workloads carry the service and how much headroom they need (spec.capacity)."),
    ("runbooks", "What the on-call does per alert beyond the generic steps (spec.runbooks.entries)."),
    ("postmortem", "When a postmortem is required and who owns corrective actions (spec.postmortem)."),
    ("release", "Which ErrorBudgetPolicy gates releases (spec.release.policyRef)."),
    ("reporting", "How often reliability is reported and who approves it (spec.reporting)."),
)


def undecided(plan: ServiceReliabilityPlan) -> list[str]:
    """The questions the plan leaves open: sections it does not have, and where it routes nowhere."""
    open_questions = [question for field, question in SECTION_QUESTIONS if getattr(plan.spec, field) is None]
    routing = plan.spec.alerting.routing if plan.spec.alerting else None
    if routing is None or routing.page is None:
        open_questions.insert(0, "Where pages go (spec.alerting.routing.page).")
    if routing is None or routing.ticket is None:
        open_questions.insert(1 if open_questions else 0, "Where tickets go (spec.alerting.routing.ticket).")
    return open_questions


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
        receiver=receiver_summary,
        page_repeat=page_timing(plan).repeat_interval,
        budgets={slo.name: _budget_words(slo) for slo in plan.spec.slos},
        undecided=undecided(plan),
        severities=severities(plan),
        roles=roles(plan),
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
