"""A plan's reliability report over one period: per SLO, attainment, budget consumed and whether there was
data, with what else the period's review needs (corrective actions, reviews due, approvers)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from sre_operator.durations import format_duration
from sre_operator.generate import names
from sre_operator.generate.markdown import escape_markdown
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.generate.rules import SloContext
from sre_operator.generate.sli import ExpressionSli, build_sli
from sre_operator.incidents.actions import report as actions_report
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.reports.period import Period

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


def period_queries(
    plan: ServiceReliabilityPlan, period: Period, options: RenderOptions = DEFAULT_OPTIONS
) -> dict[str, tuple[str, str]]:
    """Per SLO: (error ratio, hours with data) over the period, from the hourly means the rules record.

    The hourly mean stamped at an hour covers the hour before it, so the buckets stamped in (start, end]
    cover the period exactly; the range stops half an interval short of it so Prometheus 2's closed range
    does not take the bucket stamped at the start.
    """
    span = format_duration((period.end - period.start).total_seconds() - 30)
    at = f"@ {period.end.timestamp():.0f}"
    found = {}
    for slo in plan.spec.slos:
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
        found[slo.name] = (ratio, count)
    return found


def _percent(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def render_report(
    plan: ServiceReliabilityPlan,
    period: Period,
    figures: Sequence[SloFigures],
    today: datetime.date,
    policy_review_by: datetime.date | None = None,
) -> str:
    """The report as Markdown, ending with a JSON block for tools."""
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
        "correctiveActions": {"open": counted.open, "overdue": counted.overdue},
    }
    lines += ["```json", json.dumps(data, indent=2, sort_keys=True), "```", ""]
    return "\n".join(lines)


def _by_priority(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{p} {n}" for p, n in counts.items()) or "none"


def figures_from(
    plan: ServiceReliabilityPlan, period: Period, answers: Mapping[str, tuple[float | None, int]]
) -> list[SloFigures]:
    """SloFigures from the queries' answers: per SLO, (error ratio or None, hours with data)."""
    found = []
    for slo in plan.spec.slos:
        ratio, hours = answers.get(slo.name, (None, 0))
        budget = round(1 - slo.objective / 100, 10)
        found.append(SloFigures(slo.name, slo.objective, hours, period.hours, ratio if hours else None, budget))
    return found
