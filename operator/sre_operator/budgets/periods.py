"""The report queries of one plan and period, answered by Prometheus (the I/O half of ``reports``)."""

from __future__ import annotations

from collections.abc import Mapping

from sre_operator.budgets.prometheus import PrometheusClient


async def period_answers(
    client: PrometheusClient, queries: Mapping[str, tuple[str, str]]
) -> dict[str, tuple[float | None, int]]:
    """Per SLO: the period's error ratio (None without data) and the hours with data."""
    found: dict[str, tuple[float | None, int]] = {}
    for slo, (ratio_query, hours_query) in queries.items():
        ratio = await client.query(ratio_query)
        hours = await client.query(hours_query)
        value = float(ratio[0]["value"][1]) if ratio else None
        counted = int(float(hours[0]["value"][1])) if hours else 0
        found[slo] = (None if value is None or value != value else value, counted)  # NaN: no requests at all
    return found
