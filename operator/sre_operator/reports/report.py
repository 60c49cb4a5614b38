"""A plan's reliability report over one period: per SLO, attainment, budget consumed and whether there was
data, with what else the period's review needs (corrective actions, reviews due, approvers)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sre_operator.durations import format_duration
from sre_operator.generate import names
from sre_operator.generate.markdown import escape_markdown
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.rules import SloContext
from sre_operator.generate.sli import ExpressionSli, build_sli
from sre_operator.incidents.actions import report as actions_report
from sre_operator.models.base import API_GROUP
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.reports.period import Period
from sre_operator.timestamps import parse_rfc3339

# Below this share of the period's hours with data, figures are marked partial.
COMPLETE_SHARE = 0.9


@dataclass(frozen=True)
class SloFigures:
    slo: str
    objective: float
    hours_with_data: int
    hours: int
    error_ratio: float | None  # None: no data in the period
    budget: float
    paging_minutes: float = 0.0  # minutes the page alert fired in the period

    @property
    def attainment(self) -> float | None:
        return None if self.error_ratio is None else 1 - self.error_ratio

    @property
    def budget_consumed(self) -> float | None:
        return None if self.error_ratio is None else self.error_ratio / self.budget

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment * 100 >= self.objective

    @property
    def coverage(self) -> str:
        if self.hours_with_data == 0:
            return "no data"
        if self.hours_with_data < COMPLETE_SHARE * self.hours:
            return f"partial data ({self.hours_with_data} of {self.hours} hours)"
        return "complete"


@dataclass(frozen=True)
class IncidentSummary:
    """An Incident of the plan as the report lists it (from its object; pure)."""

    name: str
    severity: str
    state: str
    started_at: str
    slos: tuple[str, ...]
    budget_spent: str
    postmortem_required: bool
    postmortem_state: str
    postmortem_url: str

    @classmethod
    def from_object(cls, incident: Mapping[str, Any]) -> IncidentSummary:
        spec, status = incident.get("spec") or {}, incident.get("status") or {}
        postmortem = spec.get("postmortem") or {}
        return cls(
            name=str((incident.get("metadata") or {}).get("name", "")),
            severity=str(spec.get("severity", "")),
            state=str(status.get("state", "")),
            started_at=str(status.get("startedAt", "")),
            slos=tuple(str(s) for s in status.get("slos") or []),
            budget_spent=str(status.get("budgetSpent", "")),
            postmortem_required=bool(status.get("postmortemRequired")),
            postmortem_state=str(postmortem.get("state", "Draft")),
            postmortem_url=str(postmortem.get("url", "")),
        )

    def started_in(self, period: Period) -> bool:
        if not self.started_at:
            return False
        return period.start <= parse_rfc3339(self.started_at) < period.end


def plan_incidents(objects: Sequence[Mapping[str, Any]], namespace: str, plan: str) -> list[IncidentSummary]:
    """The Incident objects of ``plan`` (by ``spec.planRef``, so hand-declared ones count too)."""
    return [
        IncidentSummary.from_object(o)
        for o in objects
        if (o.get("metadata") or {}).get("namespace") == namespace
        and ((o.get("spec") or {}).get("planRef") or {}).get("name") == plan
    ]


@dataclass(frozen=True)
class ReportContext:
    """What a report needs besides the figures: the day it is written, the policy's review date, and the
    plan's incidents (None: not known, as on the command line without Incident objects)."""

    today: datetime.date
    policy_review_by: datetime.date | None = None
    incidents: Sequence[IncidentSummary] | None = None


@dataclass(frozen=True)
class SloQueries:
    error_ratio: str
    hours_with_data: str
    paging_minutes: str


def period_queries(
    plan: ServiceReliabilityPlan,
    period: Period,
    options: RenderOptions = DEFAULT_OPTIONS,
    slos: Sequence[str] | None = None,
) -> dict[str, SloQueries]:
    """Per SLO (all, or those named): error ratio and hours with data over the period, from the hourly means
    the rules record, and the minutes its page alert fired (Prometheus' ``ALERTS``, one sample a minute).

    The hourly mean stamped at an hour covers the hour before it, so the buckets stamped in (start, end]
    cover the period exactly; the range stops half an interval short of it so Prometheus 2's closed range
    does not take the bucket stamped at the start.
    """
    span = format_duration((period.end - period.start).total_seconds() - 30)
    at = f"@ {period.end.timestamp():.0f}"
    found = {}
    for slo in plan.spec.slos:
        if slos is not None and slo.name not in slos:
            continue
        ctx = SloContext(plan, slo, options)
        identity = ", ".join(ctx.identity)
        if isinstance(build_sli(slo), ExpressionSli):
            hourly = ctx.series(names.SLI_RATE, **{names.LABEL_SLI: names.SLI_ERROR_RATIO_HOURLY})
            ratio = f"avg by ({identity}) (avg_over_time({hourly}[{span}] {at}))"
        else:
            errors = ctx.series(names.SLI_RATE, **{names.LABEL_SLI: names.SLI_ERRORS + names.SLI_HOURLY_SUFFIX})
            hourly = ctx.series(names.SLI_RATE, **{names.LABEL_SLI: names.SLI_REQUESTS + names.SLI_HOURLY_SUFFIX})
            ratio = (
                f"sum by ({identity}) (sum_over_time({errors}[{span}] {at}))"
                f" / on({identity}) sum by ({identity}) (sum_over_time({hourly}[{span}] {at}))"
            )
        count = f"max by ({identity}) (count_over_time({hourly}[{span}] {at}))"
        alerts = ctx.series("ALERTS", alertname=names.ALERT_PAGE, alertstate="firing")
        paging = f"sum by ({identity}) (count_over_time({alerts}[{span}] {at}))"
        found[slo.name] = SloQueries(ratio, count, paging)
    return found


def _percent(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def render_report(
    plan: ServiceReliabilityPlan,
    period: Period,
    figures: Sequence[SloFigures],
    today: datetime.date,
    policy_review_by: datetime.date | None = None,
    incidents: Sequence[IncidentSummary] | None = None,
) -> str:
    """The report as Markdown, ending with a JSON block for tools. ``incidents``: the plan's incidents (those
    that started in the period are listed); None when they are not known (the command line without them)."""
    meta, reporting = plan.metadata, plan.spec.reporting
    actions = plan.spec.postmortem.corrective_actions if plan.spec.postmortem else []
    counted = actions_report(actions, today, {})
    lines = [
        f"# Reliability report: {escape_markdown(plan.spec.service.name)}, {period.label}",
        "",
        f"Plan `{meta.namespace}/{meta.name}`; period {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC"
        f" ({period.hours} hours).",
        "",
        "| SLO | objective | attainment | met | budget consumed | budget left | data |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        met = "n/a" if f.met is None else ("yes" if f.met else "**no**")
        left = None if f.budget_consumed is None else 1 - f.budget_consumed
        lines.append(
            f"| {f.slo} | {f.objective:g}% | {_percent(f.attainment)} | {met} | {_percent(f.budget_consumed, 1)} |"
            f" {_percent(left, 1)} | {f.coverage} |"
        )
    lines += ["", "Budget consumed is the period's errors over the errors its objective allows in the period.", ""]
    in_period = sorted((i for i in incidents or () if i.started_in(period)), key=lambda i: i.started_at)
    lines += _incident_lines(figures, in_period if incidents is not None else None)
    lines += ["## Corrective actions", ""]
    lines.append(
        f"Open: {sum(counted.open.values())} ({_by_priority(counted.open)}); overdue: "
        f"{sum(counted.overdue.values())} ({_by_priority(counted.overdue)})."
    )
    lines += ["", "## Reviews and approvers", ""]
    reviews = [("plan", reporting.review_by if reporting else None), ("policy", policy_review_by)]
    for what, due in reviews:
        if due is not None:
            state = "**overdue**" if due < today else "due"
            lines.append(f"- The {what} review is {state} by {due}.")
    approvers = ", ".join(escape_markdown(a) for a in (reporting.approvers if reporting else [])) or "none named"
    lines += [f"- Approvers: {approvers}.", ""]
    data = {
        "plan": f"{meta.namespace}/{meta.name}",
        "period": {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "slos": [
            {
                **asdict(f),
                "attainment": f.attainment,
                "met": f.met,
                "budgetConsumed": f.budget_consumed,
                "data": f.coverage,
            }
            for f in figures
        ],
        "incidents": None if incidents is None else [asdict(i) for i in in_period],
        "correctiveActions": {"open": counted.open, "overdue": counted.overdue},
    }
    lines += ["```json", json.dumps(data, indent=2, sort_keys=True), "```", ""]
    return "\n".join(lines)


def _incident_lines(figures: Sequence[SloFigures], incidents: Sequence[IncidentSummary] | None) -> list[str]:
    lines = ["## Pages and incidents", ""]
    paging = ", ".join(f"{f.slo} {f.paging_minutes:g} min" for f in figures)
    lines.append(f"Page alerts firing: {paging}.")
    if incidents is None:
        lines += [
            "",
            "Incidents are not known to this report (the command line reads them from Incident objects"
            " given among its files).",
            "",
        ]
        return lines
    severities: dict[str, int] = {}
    for incident in incidents:
        severities[incident.severity or "unset"] = severities.get(incident.severity or "unset", 0) + 1
    lines += ["", f"Incidents started in the period: {len(incidents)} ({_by_priority(severities)}).", ""]
    if incidents:
        lines += [
            "| incident | severity | started | state | SLOs | budget spent | postmortem |",
            "|---|---|---|---|---|---|---|",
        ]
        for i in incidents:
            # Hand-declared Incidents may carry any text in these fields: every one is escaped.
            postmortem = (
                escape_markdown(i.postmortem_state) if i.postmortem_required or i.postmortem_url else "not required"
            )
            if i.postmortem_url:
                postmortem += f" ([link]({escape_markdown(i.postmortem_url)}))"
            elif i.postmortem_required:
                postmortem += ", required"
            cells = (i.name, i.severity, i.started_at, i.state, ", ".join(i.slos), i.budget_spent or "n/a")
            lines.append(f"| {' | '.join(escape_markdown(c) for c in cells)} | {postmortem} |")
        lines.append("")
    return lines


def _by_priority(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{p} {n}" for p, n in counts.items()) or "none"


def figures_from(
    plan: ServiceReliabilityPlan, period: Period, answers: Mapping[str, tuple[float | None, int, float]]
) -> list[SloFigures]:
    """SloFigures of the SLOs answered: per SLO, (error ratio or None, hours with data, minutes paging)."""
    found = []
    for slo in plan.spec.slos:
        if slo.name not in answers:
            continue
        ratio, hours, paging = answers[slo.name]
        budget = round(1 - slo.objective / 100, 10)
        found.append(SloFigures(slo.name, slo.objective, hours, period.hours, ratio if hours else None, budget, paging))
    return found


def report_config_map(plan: ServiceReliabilityPlan, plan_uid: str, texts: Mapping[str, str]) -> dict[str, Any]:
    """``<plan>-reports``: one key ``<report>.md`` per scheduled report, owned by the plan. It carries the plan
    label but not the managed-by one: it is written on a schedule, not rendered from the spec, so the
    children's watch leaves it alone."""
    meta = plan.metadata
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{meta.name}-reports"[:253],
            "namespace": meta.namespace,
            "labels": {names.PLAN_LABEL: meta.name, "app.kubernetes.io/component": "reliability-report"},
            "ownerReferences": [
                {
                    "apiVersion": f"{API_GROUP}/v1alpha1",
                    "kind": "ServiceReliabilityPlan",
                    "name": meta.name,
                    "uid": plan_uid,
                }
            ],
        },
        "data": {f"{name}.md": text for name, text in sorted(texts.items())},
    }
