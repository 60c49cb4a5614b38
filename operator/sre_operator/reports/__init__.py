"""Reliability reports: a plan's SLOs over a calendar period, from the recorded series (pure but the queries'
answers, which the caller fetches)."""

from sre_operator.reports.period import Period, parse_period
from sre_operator.reports.report import (
    IncidentSummary,
    ReportContext,
    SloFigures,
    SloQueries,
    figures_from,
    period_queries,
    plan_incidents,
    render_report,
    report_config_map,
)
from sre_operator.reports.schedule import ScheduledReport, scheduled_reports

__all__ = [
    "IncidentSummary",
    "Period",
    "ReportContext",
    "ScheduledReport",
    "SloFigures",
    "SloQueries",
    "figures_from",
    "parse_period",
    "period_queries",
    "plan_incidents",
    "render_report",
    "report_config_map",
    "scheduled_reports",
]
