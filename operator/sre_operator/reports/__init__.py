"""Reliability reports: a plan's SLOs over a calendar period, from the recorded series (pure but the queries'
answers, which the caller fetches)."""

from sre_operator.reports.period import Period, parse_period
from sre_operator.reports.report import SloFigures, period_queries, render_report

__all__ = ["Period", "SloFigures", "parse_period", "period_queries", "render_report"]
