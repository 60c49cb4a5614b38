"""The web view's source: the registry's objects as the API server holds them (metadata, spec, status)."""

from __future__ import annotations

import time
from typing import Any

from sre_operator.budgets import PrometheusClient, QueryFailed
from sre_operator.generate import names
from sre_operator.handlers.state import OperatorState
from sre_operator.kubectl.views import TierState, budget_selector, explain, selector, tier_states
from sre_operator.registry import Known
from sre_operator.ui import UiObjects
from sre_operator.ui.charts import calendar_budget

KINDS = ("ServiceReliabilityPlan", "ReleaseGate", "Incident")
HISTORY_POINTS = 240  # a month of hourly points is 744
HISTORY_SECONDS = 60.0
"""A chart's history is read from Prometheus at most once a minute per SLO, and at most this many are kept."""
HISTORY_KEPT = 256
HOUR_SECONDS = 3600.0


def _document(known: Known) -> dict[str, Any]:
    spec = getattr(known.model, "spec", None)
    return {
        "metadata": {"namespace": known.namespace, "name": known.name},
        "spec": spec.model_dump(by_alias=True, mode="json", exclude_none=True) if spec is not None else {},
        "status": known.status,
    }


class RegistryView:
    """Reads the registry at request time: what is deleted is gone from the next page."""

    def __init__(self, state: OperatorState) -> None:
        self.state = state
        self._history: dict[tuple[str, ...], tuple[float, list[tuple[str, tuple[float, float]]]]] = {}

    def objects(self) -> UiObjects:
        plans, gates, incidents = (
            [_document(known) for known in list(self.state.registry.objects[kind].values())] for kind in KINDS
        )
        return UiObjects(plans=plans, gates=gates, incidents=incidents)

    def explain(self, namespace: str, plan: str, slo: str) -> list[str]:
        model = self.state.registry.plan(namespace, plan)
        if model is None or all(s.name != slo for s in model.spec.slos):
            return []
        return explain(model, slo)

    def tiers(self, namespace: str, plan: str, slo: str, burn_rates: dict[str, float]) -> list[TierState]:
        model = self.state.registry.plan(namespace, plan)
        return [] if model is None else tier_states(model, slo, burn_rates)

    async def calendar_history(
        self, namespace: str, plan: str, slo: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """The budget left since ``start`` (the calendar period's beginning), hour by hour, from the hourly
        means the generated rules record; empty for an SLI without request counts or without Prometheus."""
        model = self.state.registry.plan(namespace, plan)
        found = None if model is None else next((s for s in model.spec.slos if s.name == slo), None)
        if self.state.prometheus is None or model is None or found is None or found.indicator.expression is not None:
            return []
        hourly = f"{names.SLI_ERRORS}{names.SLI_HOURLY_SUFFIX}|{names.SLI_REQUESTS}{names.SLI_HOURLY_SUFFIX}"
        series = selector(
            names.SLI_RATE,
            {names.LABEL_SLI: hourly},
            namespace=namespace,
            service=model.spec.service.name,
            slo=slo,
        )
        # Half past each hour, the one hourly mean recorded in the last hour (at its start, for the hour before):
        # each hour of the period counted once, whatever minute the group records at.
        query = f"last_over_time({series}[1h])"
        first = start + HOUR_SECONDS + HOUR_SECONDS / 2
        values = await self._range(("calendar", namespace, plan, slo), query, first, end, HOUR_SECONDS)
        errors = [point for sli, point in values if sli.startswith(names.SLI_ERRORS)]
        requests = [point for sli, point in values if sli.startswith(names.SLI_REQUESTS)]
        return calendar_budget(errors, requests, 1 - found.objective / 100)

    async def budget_history(
        self, namespace: str, plan: str, slo: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """At most HISTORY_POINTS samples of the SLO's remaining budget, read by the server (never by the
        browser), cached for a minute; empty without a Prometheus or when it cannot answer."""
        model = self.state.registry.plan(namespace, plan)
        if model is None:
            return []
        query = budget_selector(namespace, model.spec.service.name, slo)
        step = max(60.0, (end - start) / HISTORY_POINTS)
        return [point for _, point in await self._range(("rolling", namespace, plan, slo), query, start, end, step)]

    async def _range(
        self, key: tuple[str, ...], query: str, start: float, end: float, step: float
    ) -> list[tuple[str, tuple[float, float]]]:
        """(the series' sli label, (time, value)) of a range query, cached for a minute per key; empty
        without a Prometheus or when it cannot answer."""
        cached = self._history.get(key)
        if cached is not None and time.monotonic() - cached[0] < HISTORY_SECONDS:
            return cached[1]
        if self.state.prometheus is None:
            return []
        client = PrometheusClient(self.state.prometheus.settings)  # a session of this event loop's own
        try:
            result = await client.query_range(query, start, end, step)
            values = [
                (str(series["metric"].get(names.LABEL_SLI, "")), (float(t), float(v)))
                for series in result
                for t, v in series["values"]
            ]
        except (QueryFailed, ValueError, KeyError, TypeError):
            values = []
        finally:
            await client.close()
        if len(self._history) >= HISTORY_KEPT:
            self._history.clear()
        self._history[key] = (time.monotonic(), values)
        return values
