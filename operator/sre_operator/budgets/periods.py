"""The report queries of one plan and period, answered by Prometheus (the I/O half of ``reports``)."""

from __future__ import annotations

from collections.abc import Mapping

from sre_operator.budgets.prometheus import PrometheusClient
from sre_operator.reports import SloQueries


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
