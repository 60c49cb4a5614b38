"""Reports of one plan and period, from the answers of Prometheus to their queries (the I/O half of ``reports``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sre_operator.budgets.prometheus import PrometheusClient
from sre_operator.generate.options import DEFAULT_OPTIONS, RenderOptions
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.reports import Period, ReportContext, SloQueries, figures_from, period_queries, render_report


async def period_answers(
    client: PrometheusClient, queries: Mapping[str, SloQueries]
) -> dict[str, tuple[float | None, int, float]]:
    """Per SLO: the period's error ratio (None without data), the hours with data and the minutes paging."""
    found: dict[str, tuple[float | None, int, float]] = {}
    for slo, asked in queries.items():
        ratio = await client.query(asked.error_ratio)
        hours = await client.query(asked.hours_with_data)
        paging = await client.query(asked.paging_minutes)
        value = float(ratio[0]["value"][1]) if ratio else None
        counted = int(float(hours[0]["value"][1])) if hours else 0
        minutes = float(paging[0]["value"][1]) if paging else 0.0
        found[slo] = (None if value is None or value != value else value, counted, minutes)  # NaN: no requests
    return found


async def period_report(
    client: PrometheusClient,
    plan: ServiceReliabilityPlan,
    period: Period,
    review: ReportContext,
    options: RenderOptions = DEFAULT_OPTIONS,
    slos: Sequence[str] | None = None,
) -> str:
    """The report of ``plan`` (its SLOs, or those named) over ``period``, read from Prometheus and rendered:
    what the command line prints and the operator writes."""
    answers = await period_answers(client, period_queries(plan, period, options, slos))
    return render_report(
        plan, period, figures_from(plan, period, answers), review.today, review.policy_review_by, review.incidents
    )
