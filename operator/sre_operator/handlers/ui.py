"""The web view's source: the registry's objects as the API server holds them (metadata, spec, status)."""

from __future__ import annotations

import time
from typing import Any

from sre_operator.budgets import PrometheusClient, QueryFailed
from sre_operator.handlers.state import OperatorState
from sre_operator.kubectl.views import TierState, budget_selector, explain, tier_states
from sre_operator.registry import Known
from sre_operator.ui import UiObjects

KINDS = ("ServiceReliabilityPlan", "ReleaseGate", "Incident")
HISTORY_POINTS = 240
HISTORY_SECONDS = 60.0
"""A chart's history is read from Prometheus at most once a minute per SLO, and at most this many are kept."""
HISTORY_KEPT = 256


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
        self._history: dict[tuple[str, str, str], tuple[float, list[tuple[float, float]]]] = {}

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

    async def budget_history(
        self, namespace: str, plan: str, slo: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """At most HISTORY_POINTS samples of the SLO's remaining budget, read by the server (never by the
        browser), cached for a minute; empty without a Prometheus or when it cannot answer."""
        key = (namespace, plan, slo)
        cached = self._history.get(key)
        if cached is not None and time.monotonic() - cached[0] < HISTORY_SECONDS:
            return cached[1]
        model = self.state.registry.plan(namespace, plan)
        if self.state.prometheus is None or model is None:
            return []
        selector = budget_selector(namespace, model.spec.service.name, slo)
        client = PrometheusClient(self.state.prometheus.settings)  # a session of this event loop's own
        try:
            result = await client.query_range(selector, start, end, max(60.0, (end - start) / HISTORY_POINTS))
            values = [(float(t), float(v)) for t, v in (result[0]["values"] if result else [])]
        except (QueryFailed, ValueError, KeyError, TypeError):
            values = []
        finally:
            await client.close()
        if len(self._history) >= HISTORY_KEPT:
            self._history.clear()
        self._history[key] = (time.monotonic(), values)
        return values
