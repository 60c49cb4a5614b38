"""Budgets read from Prometheus: the HTTP API client and the readings it yields."""

from sre_operator.budgets.prometheus import PrometheusClient, PrometheusSettings, QueryFailed, parse_header
from sre_operator.budgets.readings import QUERIES, Reading, SloKey, Snapshot, carry_forward, readings_from, slo_budget

__all__ = [
    "QUERIES",
    "PrometheusClient",
    "PrometheusSettings",
    "QueryFailed",
    "Reading",
    "SloKey",
    "Snapshot",
    "carry_forward",
    "parse_header",
    "readings_from",
    "slo_budget",
]
