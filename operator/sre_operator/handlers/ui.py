"""The web view's source: the registry's objects as the API server holds them (metadata, spec, status)."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from sre_operator.budgets import PrometheusClient, QueryFailed
from sre_operator.durations import is_duration, seconds
from sre_operator.generate import names
from sre_operator.handlers.state import OperatorState
from sre_operator.kubectl.views import TierState, budget_selector, explain, selector, tier_states
from sre_operator.models.assumptions import slo_window
from sre_operator.registry import Known
from sre_operator.ui import Coverage, SloHistory, SloKey, UiObjects
from sre_operator.ui.charts import calendar_budget, month_bounds, sli_points

KINDS = ("ServiceReliabilityPlan", "ReleaseGate", "Incident")
HISTORY_POINTS = 240  # a month of hourly points is 744
HISTORY_SECONDS = 60.0
"""A chart's history is read from Prometheus at most once a minute per SLO, and at most this many are kept."""
HISTORY_KEPT = 256
T = TypeVar("T")
HOUR_SECONDS = 3600.0
COVERAGE_SECONDS = 300.0
HOURLY_ERRORS = f"{names.SLI_ERRORS}{names.SLI_HOURLY_SUFFIX}"
HOURLY_REQUESTS = f"{names.SLI_REQUESTS}{names.SLI_HOURLY_SUFFIX}"


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
        self._cache: dict[tuple[str, ...], tuple[float, object]] = {}

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

    async def history(self, namespace: str, plan: str, slo: str, now: float) -> SloHistory:
        """The SLO's remaining budget over its window, its budget since the calendar month began and its SLI,
        from range queries the server makes (never the browser), each cached for a minute."""
        model = self.state.registry.plan(namespace, plan)
        found = None if model is None else next((s for s in model.spec.slos if s.name == slo), None)
        if model is None or found is None:
            return SloHistory(now)
        window = seconds(slo_window(found))
        allowed = 1 - found.objective / 100
        identity = {"namespace": namespace, "service": model.spec.service.name, "slo": slo}
        step = max(60.0, window / HISTORY_POINTS)
        if found.indicator.expression is not None:  # no request counts: the recorded budget, last sample per step
            budget = await self._range(
                ("rolling", namespace, plan, slo),
                f"last_over_time({budget_selector(**identity)}[{step:.0f}s])",
                now - window + step,
                now,
                step,
            )
            return SloHistory(now, [point for _, point in budget])
        hourly = selector(names.SLI_RATE, {names.LABEL_SLI: f"{HOURLY_ERRORS}|{HOURLY_REQUESTS}"}, **identity)
        # Half past each hour, the one hourly mean recorded in the last hour (at its start, for the hour before):
        # each hour of the period counted once, whatever minute the group records at.
        month_start = month_bounds(now)[0]
        calendar = await self._range(
            ("calendar", namespace, plan, slo),
            f"sum by ({names.LABEL_SLI}) (last_over_time({hourly}[1h]))",
            month_start + HOUR_SECONDS * 1.5,
            now,
            HOUR_SECONDS,
        )
        step = HOUR_SECONDS * math.ceil(step / HOUR_SECONDS)  # whole hours of hourly means

        async def sums(key: str, span: float) -> list[tuple[str, tuple[float, float]]]:
            """The errors and requests of the hourly means over ``span`` before each step."""
            query = f"sum by ({names.LABEL_SLI}) (sum_over_time({hourly}[{span:.0f}s]))"
            return await self._range((key, namespace, plan, slo), query, now - window + step, now, step)

        # The budget left at each step as the SLO window computes it, and the SLI of each step alone.
        rolling, sli = await sums("rolling", window), await sums("sli", step)
        return SloHistory(
            now,
            budget=[
                (moment, 1 - (1 - sli) / allowed)
                for moment, sli in sli_points(_of(rolling, HOURLY_ERRORS), _of(rolling, HOURLY_REQUESTS))
            ],
            calendar=calendar_budget(_of(calendar, HOURLY_ERRORS), _of(calendar, HOURLY_REQUESTS), allowed),
            sli=sli_points(_of(sli, HOURLY_ERRORS), _of(sli, HOURLY_REQUESTS)),
            sli_step=step,
        )

    async def coverage(self, objects: UiObjects) -> dict[SloKey, Coverage]:
        """How many hours of each SLO's window Prometheus holds and the requests counted in them: two queries per
        window length in use, cached for COVERAGE_SECONDS (a 30-day count reads 720 samples per SLO)."""
        windows = {str(state.get("window") or "30d") for plan in objects.plans
                   for state in ((plan.get("status") or {}).get("slos") or {}).values()}  # fmt: skip
        found: dict[SloKey, Coverage] = {}
        requests = selector(names.SLI_RATE, None, **{names.LABEL_SLI: HOURLY_REQUESTS})
        identity = f"{names.LABEL_NAMESPACE}, {names.LABEL_SERVICE}, {names.LABEL_SLO}"
        for window in sorted(windows):
            if not is_duration(window):
                continue
            hours = await self._instant(
                ("hours", window), f"max by ({identity}) (count_over_time({requests}[{window}]))", COVERAGE_SECONDS
            )
            counted = await self._instant(
                ("requests", window),
                f"sum by ({identity}) (sum_over_time({requests}[{window}])) * 3600",
                COVERAGE_SECONDS,
            )
            for key, value in hours.items():
                found[key] = Coverage(hours=value, requests=counted.get(key, 0.0))
        return found

    async def _cached(
        self, key: tuple[str, ...], kept_for: float, read: Callable[[PrometheusClient], Awaitable[T]], empty: T
    ) -> T:
        """``read``'s answer, asked of Prometheus at most every ``kept_for`` seconds per key, with at most
        HISTORY_KEPT keys kept; ``empty`` without a Prometheus or when it cannot answer."""
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < kept_for:
            return cast(T, cached[1])
        if self.state.prometheus is None:
            return empty
        client = PrometheusClient(self.state.prometheus.settings)  # a session of this event loop's own
        try:
            value = await read(client)
        except (QueryFailed, ValueError, KeyError, TypeError, IndexError):
            value = empty
        finally:
            await client.close()
        if len(self._cache) >= HISTORY_KEPT:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), value)
        return value

    async def _range(
        self, key: tuple[str, ...], query: str, start: float, end: float, step: float
    ) -> list[tuple[str, tuple[float, float]]]:
        """(the series' sli label, (time, value)) of a range query, cached for a minute per key."""

        async def read(client: PrometheusClient) -> list[tuple[str, tuple[float, float]]]:
            return [
                (str(series["metric"].get(names.LABEL_SLI, "")), (float(t), float(v)))
                for series in await client.query_range(query, start, end, step)
                for t, v in series["values"]
            ]

        return await self._cached(("range", *key), HISTORY_SECONDS, read, [])

    async def _instant(self, key: tuple[str, ...], query: str, kept_for: float) -> dict[SloKey, float]:
        """An instant query's values by SLO identity, cached for ``kept_for`` seconds."""

        async def read(client: PrometheusClient) -> dict[SloKey, float]:
            return {
                (
                    str(series["metric"].get(names.LABEL_NAMESPACE, "")),
                    str(series["metric"].get(names.LABEL_SERVICE, "")),
                    str(series["metric"].get(names.LABEL_SLO, "")),
                ): float(series["value"][1])
                for series in await client.query(query)
            }

        return await self._cached(("instant", *key), kept_for, read, {})


def _of(values: list[tuple[str, tuple[float, float]]], sli: str) -> list[tuple[float, float]]:
    return [point for label, point in values if label == sli]
